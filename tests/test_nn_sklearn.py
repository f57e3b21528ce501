"""nn/sklearn.py: scikit-learn's own estimator checks, GridSearchCV and Pipeline use, what fit
leaves behind, parameter errors at fit, and that only this module imports scikit-learn."""

import pickle
import subprocess
import sys
from pathlib import Path
from unittest import SkipTest

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_digits, make_blobs, make_regression  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import estimator_checks_generator  # noqa: E402

import nn  # noqa: E402
from nn.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
X_BLOBS, Y_BLOBS = make_blobs(n_samples=120, centers=3, n_features=4, random_state=0)


def _estimator_checks():
    """scikit-learn's checks for both estimators, as check_estimator runs them.

    Left out: check_array_api_input, which only runs with SCIPY_ARRAY_API=1 and array-API
    libraries (these estimators take numpy input; scikit-learn skips it otherwise).
    """
    for estimator in (MLPClassifier(), MLPRegressor()):
        for est, check in estimator_checks_generator(estimator):
            name = check.func.__name__
            if name != "check_array_api_input":
                keywords = ",".join(f"{k}={v}" for k, v in check.keywords.items())
                name += f"({keywords})" if keywords else ""
                yield pytest.param(est, check, id=f"{type(est).__name__}-{name}")


@pytest.mark.parametrize("estimator, check", list(_estimator_checks()))
def test_scikit_learn_estimator_checks(estimator, check):
    try:
        check(estimator)
    except SkipTest as skip:
        # The *_data_not_an_array checks test a non-array sequence first, then a DataFrame;
        # without pandas installed they stop there (the first part has passed).
        if "pandas is not installed" not in str(skip):
            raise


def test_grid_search_over_two_hidden_sizes_on_digits():
    X, y = load_digits(return_X_y=True)
    search = GridSearchCV(MLPClassifier(max_iter=15, learning_rate_init=0.01, random_state=0),
                          {"hidden_layer_sizes": [(8,), (32,)]}, cv=3)
    search.fit(X / 16, y)
    scores = search.cv_results_["mean_test_score"]
    assert len(scores) == 2 and min(scores) > 0.8
    assert search.best_params_ == {"hidden_layer_sizes": (32,)}  # the wider net wins
    assert search.best_estimator_.model_.sizes == [64, 32, 10]


def test_pipeline_with_cross_val_score_and_string_labels():
    labels = np.array(["setosa", "versicolor", "virginica"])[Y_BLOBS]
    pipeline = make_pipeline(StandardScaler(), MLPClassifier((16,), max_iter=50,
                                                             learning_rate_init=0.01,
                                                             random_state=0))
    scores = cross_val_score(pipeline, X_BLOBS, labels, cv=3)
    assert scores.min() > 0.9
    pipeline.fit(X_BLOBS, labels)
    assert set(pipeline.predict(X_BLOBS)) <= set(labels)


def test_predict_proba_is_the_softmax_of_the_network_in_classes_order():
    clf = MLPClassifier((8,), max_iter=30, learning_rate_init=0.05,
                        random_state=0).fit(X_BLOBS, Y_BLOBS + 5)
    np.testing.assert_array_equal(clf.classes_, [5, 6, 7])
    proba = clf.predict_proba(X_BLOBS)
    logits = clf.model_(X_BLOBS).data
    expected = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(proba, expected / expected.sum(1, keepdims=True), rtol=1e-12)
    np.testing.assert_array_equal(clf.predict(X_BLOBS), clf.classes_[proba.argmax(1)])
    assert clf.score(X_BLOBS, Y_BLOBS + 5) > 0.9


def test_fitted_attributes_and_tol_based_stopping():
    clf = MLPClassifier((8,), max_iter=500, tol=1e-2, n_iter_no_change=3,
                        learning_rate_init=0.05, random_state=0).fit(X_BLOBS, Y_BLOBS)
    assert clf.n_iter_ < 500 and clf.history_.stopped_by == "early_stopping"
    assert clf.loss_curve_ == clf.history_.loss and len(clf.loss_curve_) == clf.n_iter_
    assert clf.best_loss_ == min(clf.loss_curve_)
    assert clf.n_features_in_ == 4 and clf.model_.sizes == [4, 8, 3]
    assert not clf.model_.training


def test_early_stopping_holds_out_a_validation_fraction():
    clf = MLPClassifier((8,), max_iter=40, early_stopping=True, validation_fraction=0.25,
                        random_state=0).fit(X_BLOBS, Y_BLOBS)
    assert "val_loss" in clf.history_.history
    assert clf.best_loss_ == min(clf.history_.val_loss)
    with pytest.raises(ValueError, match="early_stopping needs at least 2 samples"):
        MLPRegressor(early_stopping=True).fit([[1.0]], [2.0])


def test_random_state_makes_fits_reproducible_and_clone_and_pickle_work():
    a = MLPClassifier((8,), max_iter=5, random_state=3).fit(X_BLOBS, Y_BLOBS)
    b = clone(a).fit(X_BLOBS, Y_BLOBS)
    np.testing.assert_array_equal(a.predict_proba(X_BLOBS), b.predict_proba(X_BLOBS))
    c = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(c.predict_proba(X_BLOBS), a.predict_proba(X_BLOBS))


def test_regressor_single_and_multi_output():
    X, y = make_regression(n_samples=150, n_features=5, n_targets=2, noise=1.0, random_state=0)
    y = y / y.std(axis=0)
    reg = MLPRegressor((32,), max_iter=200, learning_rate_init=0.01, random_state=0).fit(X, y)
    assert reg.predict(X).shape == (150, 2) and reg.score(X, y) > 0.95
    single = MLPRegressor((32,), max_iter=100, learning_rate_init=0.01, random_state=0)
    assert single.fit(X, y[:, 0]).predict(X).shape == (150,)


@pytest.mark.parametrize("solver", ["sgd", "adamw"])
def test_other_solvers_and_float32(solver):
    clf = MLPClassifier((8,), solver=solver, learning_rate_init=0.05, max_iter=40,
                        dtype="float32", random_state=0).fit(X_BLOBS, Y_BLOBS)
    assert all(p.dtype == np.float32 for p in clf.model_.parameters())
    assert isinstance(clf.model_, nn.MLP) and clf.score(X_BLOBS, Y_BLOBS) > 0.9
    assert clf.predict_proba(X_BLOBS).dtype == np.float64


@pytest.mark.parametrize("params, message", [
    ({"hidden_layer_sizes": (0,)}, "hidden_layer_sizes must be positive integers"),
    ({"activation": "swish"}, "unknown activation 'swish'; valid: 'relu'"),
    ({"solver": "lbfgs"}, "unknown solver 'lbfgs'; valid: 'adam', 'adamw', 'sgd'"),
    ({"max_iter": 0}, "max_iter must be a positive integer, got 0"),
    ({"batch_size": "all"}, "batch_size must be 'auto' or a positive integer"),
    ({"validation_fraction": 1.0}, r"validation_fraction must lie in \(0, 1\)"),
    ({"dtype": "float16"}, "dtype must be 'float32' or 'float64'"),
])
def test_bad_parameters_raise_at_fit_naming_the_estimator(params, message):
    clf = MLPClassifier(**params)  # accepted here, as scikit-learn requires
    with pytest.raises(ValueError, match=f"MLPClassifier: {message}"):
        clf.fit(X_BLOBS, Y_BLOBS)


def test_the_logistic_alias_is_sigmoid():
    clf = MLPClassifier((4,), activation="logistic", max_iter=2, random_state=0)
    assert isinstance(clf.fit(X_BLOBS, Y_BLOBS).model_[1], nn.Sigmoid)


def test_only_nn_sklearn_imports_scikit_learn():
    code = "import sys, nn, nn.optim, nn.utils; print('sklearn' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, check=True)
    assert result.stdout.strip() == "False"
    importers = [p.name for p in (ROOT / "nn").glob("**/*.py")
                 if "import sklearn" in p.read_text() or "from sklearn" in p.read_text()]
    assert importers == ["sklearn.py"]
