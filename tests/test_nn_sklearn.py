"""nn/sklearn.py: scikit-learn's own estimator checks, GridSearchCV and Pipeline use, what fit
leaves behind, parameter errors at fit, and that only this module imports scikit-learn."""

import pickle
import subprocess
import sys
import warnings
from pathlib import Path
from unittest import SkipTest

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_digits, make_blobs, make_regression  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier as SkClassifier  # noqa: E402
from sklearn.neural_network import MLPRegressor as SkRegressor  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import estimator_checks_generator  # noqa: E402

import nn  # noqa: E402
import nn.sklearn  # noqa: E402
from nn.sklearn import MLPClassifier, MLPRegressor, _Penalized  # noqa: E402

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
    with pytest.raises(ValueError, match="the resulting train set will be empty"):
        MLPRegressor(early_stopping=True).fit([[1.0]], [2.0])  # train_test_split's words


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
    ({"alpha": -1e-4}, "alpha must be a finite number >= 0"),
    ({"n_iter_no_change": 0}, "n_iter_no_change must be a positive integer or np.inf"),
    ({"n_iter_no_change": 2.5}, "n_iter_no_change must be a positive integer or np.inf"),
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


# ---------------------------------------------------------------- scikit-learn's names (issue 17)
X_STD = StandardScaler().fit_transform(X_BLOBS)


def _copy_weights_into_sklearn(ours, theirs):
    """npgrad's Linear weight is (in, out), scikit-learn's coefs_ too: copied as they are."""
    linears = [m for m in ours.model_.modules() if isinstance(m, nn.Linear)]
    theirs.coefs_ = [m.weight.data.copy() for m in linears]
    theirs.intercepts_ = [m.bias.data.copy() for m in linears]


def _sgd_step_pair(ours_cls, theirs_cls, X, y, alpha, lr, their_lr, **fit_kwargs):
    """One full-batch plain SGD step from the same weights in npgrad and scikit-learn."""
    common = dict(hidden_layer_sizes=(5,), solver="sgd", momentum=0.0, alpha=alpha,
                  batch_size=len(X), shuffle=False, random_state=0)
    ours = ours_cls(learning_rate_init=lr, **common).partial_fit(X, y, **fit_kwargs)
    theirs = theirs_cls(learning_rate_init=their_lr, nesterovs_momentum=False, **common)
    theirs.partial_fit(X, y, **fit_kwargs)
    _copy_weights_into_sklearn(ours, theirs)
    ours.partial_fit(X, y)
    theirs.partial_fit(X, y)
    return ours, theirs


@pytest.mark.parametrize("alpha", [0.0, 1e-2, 3.0])
def test_alpha_is_scikit_learns_penalty_in_one_classifier_step(alpha):
    # 3 classes: scikit-learn's softmax and log-loss, the same cross-entropy as npgrad's.
    ours, theirs = _sgd_step_pair(MLPClassifier, SkClassifier, X_STD, Y_BLOBS, alpha, 0.5, 0.5,
                                  classes=[0, 1, 2])
    # the loss of that epoch, at the copied weights, with the penalty in it
    np.testing.assert_allclose(ours.loss_curve_[-1], theirs.loss_curve_[-1], rtol=1e-12)
    linears = [m for m in ours.model_.modules() if isinstance(m, nn.Linear)]
    for layer, coef, intercept in zip(linears, theirs.coefs_, theirs.intercepts_):
        np.testing.assert_allclose(layer.weight.data, coef, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(layer.bias.data, intercept, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("alpha", [0.0, 1e-2, 3.0])
def test_alpha_gives_scikit_learns_optimum_in_one_regressor_step(alpha):
    # scikit-learn's squared loss is half the mean squared error; npgrad's is the whole, and its
    # penalty is doubled too, so the gradient is exactly twice scikit-learn's: lr 0.05 = 0.1.
    X, y = make_regression(n_samples=40, n_features=3, noise=0.5, random_state=0)
    ours, theirs = _sgd_step_pair(MLPRegressor, SkRegressor, X, y / y.std(), alpha, 0.05, 0.1)
    np.testing.assert_allclose(ours.loss_curve_[-1], 2 * theirs.loss_curve_[-1], rtol=1e-12)
    linears = [m for m in ours.model_.modules() if isinstance(m, nn.Linear)]
    for layer, coef in zip(linears, theirs.coefs_):
        np.testing.assert_allclose(layer.weight.data, coef, rtol=1e-12, atol=1e-14)


def test_the_penalty_is_for_training_only():
    model = nn.MLP([4, 5, 3], rng=np.random.default_rng(0))
    loss = nn.CrossEntropyLoss()
    penalized = _Penalized(loss, model, alpha=0.3, scale=1.0)
    out, target = model(X_STD[:10]), Y_BLOBS[:10]
    squares = sum((m.weight.data ** 2).sum() for m in model.modules() if isinstance(m, nn.Linear))
    np.testing.assert_allclose(penalized(out, target).item(),
                               loss(out, target).item() + 0.5 * 0.3 * squares / 10, rtol=1e-14)
    model.eval()  # evaluate() and the validation loss: the plain loss
    assert penalized(out, target).item() == loss(out, target).item()


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_fitted_scores_match_scikit_learns_mlps(kind):
    if kind == "classifier":
        X, y = load_digits(return_X_y=True)
        X, ours_cls, theirs_cls, tolerance = X / 16, MLPClassifier, SkClassifier, 0.03
    else:
        X, y = make_regression(n_samples=300, n_features=8, noise=10.0, random_state=0)
        y = y / y.std()
        ours_cls, theirs_cls, tolerance = MLPRegressor, SkRegressor, 0.03
    X_train, X_test, y_train, y_test = X[::2], X[1::2], y[::2], y[1::2]
    params = dict(hidden_layer_sizes=(32,), alpha=1e-2, max_iter=150, learning_rate_init=0.005,
                  random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = theirs_cls(**params).fit(X_train, y_train).score(X_test, y_test)
    ours = ours_cls(**params).fit(X_train, y_train).score(X_test, y_test)
    assert abs(ours - theirs) < tolerance, (ours, theirs)


def test_n_iter_no_change_inf_never_stops_early():
    clf = MLPClassifier((4,), max_iter=12, tol=10.0, n_iter_no_change=np.inf, random_state=0)
    assert clf.fit(X_STD, Y_BLOBS).n_iter_ == 12
    stopping = MLPClassifier((4,), max_iter=12, tol=10.0, n_iter_no_change=2, random_state=0)
    # scikit-learn stops after more than n_iter_no_change epochs without a gain of tol
    assert stopping.fit(X_STD, Y_BLOBS).n_iter_ == 1 + 3


def test_warm_start_continues_from_the_fitted_network():
    X, y = make_regression(n_samples=60, n_features=3, noise=0.5, random_state=1)
    params = dict(hidden_layer_sizes=(6,), solver="sgd", momentum=0.0, batch_size=60,
                  shuffle=False, learning_rate_init=0.01, n_iter_no_change=np.inf,
                  random_state=0)
    twice = MLPRegressor(max_iter=5, warm_start=True, **params).fit(X, y / y.std())
    first = twice.model_
    twice.fit(X, y / y.std())
    once = MLPRegressor(max_iter=10, **params).fit(X, y / y.std())
    assert twice.model_ is first and twice.n_iter_ == 10
    assert np.all(np.diff(once.loss_curve_) < 0)  # each epoch the best: nothing restored
    np.testing.assert_array_equal(twice.loss_curve_, once.loss_curve_)
    for a, b in zip(twice.model_.parameters(), once.model_.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
    cold = MLPRegressor(max_iter=5, **params).fit(X, y / y.std())
    assert cold.fit(X, y / y.std()).n_iter_ == 5  # without warm_start: a fresh network


def test_warm_start_refuses_other_classes_with_scikit_learns_message():
    clf = MLPClassifier((4,), max_iter=2, warm_start=True, random_state=0).fit(X_STD, Y_BLOBS)
    with pytest.raises(ValueError, match="warm_start can only be used where `y` has the same "
                                         "classes as in the previous call to fit"):
        clf.fit(X_STD, np.minimum(Y_BLOBS, 1))


def test_partial_fit_is_one_epoch_with_the_optimizer_kept():
    params = dict(hidden_layer_sizes=(6,), batch_size=30, shuffle=False, random_state=0,
                  learning_rate_init=0.01)
    stepwise = MLPClassifier(**params)
    for _ in range(4):
        stepwise.partial_fit(X_STD, Y_BLOBS, classes=[0, 1, 2])
    whole = MLPClassifier(max_iter=4, n_iter_no_change=np.inf, **params).fit(X_STD, Y_BLOBS)
    assert stepwise.n_iter_ == 4 and len(stepwise.loss_curve_) == 4
    np.testing.assert_array_equal(stepwise.loss_curve_, whole.loss_curve_)
    assert np.all(np.diff(whole.loss_curve_) < 0)
    for a, b in zip(stepwise.model_.parameters(), whole.model_.parameters()):
        np.testing.assert_array_equal(a.data, b.data)


def test_partial_fit_classes_rules_are_scikit_learns():
    with pytest.raises(ValueError, match="classes must be passed on the first call to "
                                         "partial_fit"):
        MLPClassifier().partial_fit(X_STD, Y_BLOBS)
    clf = MLPClassifier((4,), random_state=0).partial_fit(X_STD[:10], Y_BLOBS[:10],
                                                          classes=[0, 1, 2, 3])
    assert clf.classes_.tolist() == [0, 1, 2, 3] and clf.predict_proba(X_STD).shape == (120, 4)
    with pytest.raises(ValueError, match=r"`classes=array\(\[0, 1\]\)` is not the same as on "
                                         "last call to partial_fit"):
        clf.partial_fit(X_STD, Y_BLOBS, classes=[0, 1])
    with pytest.raises(ValueError, match="`y` has classes not in `self.classes_`"):
        clf.partial_fit(X_STD, Y_BLOBS + 2)
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        MLPClassifier(early_stopping=True).partial_fit(X_STD, Y_BLOBS, classes=[0, 1, 2])
    reg = MLPRegressor((4,), random_state=0).partial_fit(X_STD, Y_BLOBS * 1.0)
    assert reg.n_iter_ == 1 and reg.partial_fit(X_STD, Y_BLOBS * 1.0).n_iter_ == 2


def test_predict_log_proba_is_the_log_softmax_and_finite_where_proba_underflows():
    clf = MLPClassifier((8,), max_iter=20, random_state=0).fit(X_STD, Y_BLOBS)
    np.testing.assert_allclose(clf.predict_log_proba(X_STD), np.log(clf.predict_proba(X_STD)),
                               rtol=1e-12, atol=1e-300)
    far = X_STD * 1e4  # logits ~1e4 apart: probabilities 0 in float64
    log_proba = clf.predict_log_proba(far)
    assert np.isfinite(log_proba).all() and (clf.predict_proba(far) == 0).any()
    np.testing.assert_allclose(np.logaddexp.reduce(log_proba, axis=1), 0.0, atol=1e-12)


def test_the_early_stopping_split_is_stratified(monkeypatch):
    seen = []

    def spy(*arrays, **kwargs):
        parts = train_test_split(*arrays, **kwargs)
        seen.append(parts[3])  # the validation targets
        return parts

    monkeypatch.setattr(nn.sklearn, "train_test_split", spy)
    y = np.array([0] * 36 + [1] * 4)
    X = np.random.default_rng(0).normal(size=(40, 2))
    for seed in range(5):
        MLPClassifier((4,), max_iter=2, early_stopping=True, validation_fraction=0.25,
                      random_state=seed).fit(X, y)
    assert [np.bincount(v, minlength=2).tolist() for v in seen] == [[9, 1]] * 5


X10 = np.arange(20.0).reshape(10, 2)


@pytest.mark.parametrize("kind, y, fraction", [
    ("regressor", np.arange(10.0), 0.1),  # one sample held out: "too small"
    ("classifier", np.arange(10) % 2, 0.1),  # one sample cannot hold both classes
    ("classifier", np.r_[np.zeros(9), 1], 0.3),  # a class of one member cannot be split
])
def test_a_too_small_validation_set_raises_scikit_learns_error(kind, y, fraction):
    ours_cls, theirs_cls = ((MLPRegressor, SkRegressor) if kind == "regressor"
                            else (MLPClassifier, SkClassifier))
    params = dict(early_stopping=True, validation_fraction=fraction, max_iter=2,
                  random_state=0)
    with pytest.raises(ValueError) as theirs:
        theirs_cls(**params).fit(X10, y)
    with pytest.raises(ValueError) as ours:
        ours_cls(**params).fit(X10, y)
    # the same words (scikit-learn lists its one-hot labels as True where ours are labels)
    assert str(ours.value).split(":")[0] == str(theirs.value).split(":")[0]


def test_a_frozen_layer_stays_put_through_warm_start_and_partial_fit():
    clf = MLPClassifier((6,), max_iter=3, warm_start=True, alpha=0.1, weight_decay=0.1,
                        random_state=0).fit(X_STD, Y_BLOBS)
    clf.model_[0].requires_grad_(False)
    frozen, last = clf.model_[0].weight.data.copy(), clf.model_[2].weight.data.copy()
    clf.fit(X_STD, Y_BLOBS).partial_fit(X_STD, Y_BLOBS)
    np.testing.assert_array_equal(clf.model_[0].weight.data, frozen)
    assert not np.array_equal(clf.model_[2].weight.data, last)


@pytest.mark.parametrize("make", [
    lambda: MLPClassifier((6,), solver="sgd", alpha=1e-3, batch_size=16, max_iter=6,
                          random_state=0),
    lambda: MLPClassifier((6,), solver="adam", early_stopping=True, max_iter=6, random_state=1,
                          dtype="float32"),
    lambda: MLPRegressor((5,), solver="adamw", alpha=1e-2, batch_size=32, max_iter=5,
                         random_state=2),
], ids=["sgd-alpha", "adam-early-stopping-f32", "regressor-adamw"])
def test_estimators_compile_by_default_with_eagers_bits(make, monkeypatch):
    y = Y_BLOBS if isinstance(make(), MLPClassifier) else X_BLOBS[:, :2] @ [1.0, -2.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # compiled quietly, or eager with the reason recorded
        compiled = make().fit(X_BLOBS, y)
        if not compiled.early_stopping:
            compiled.partial_fit(X_BLOBS, y)
    assert compiled.history_.compiled and compiled.history_.eager_reason is None
    eager_fit = nn.sklearn.fit
    monkeypatch.setattr(nn.sklearn, "fit", lambda *a, **kw: eager_fit(*a, **kw, compile=False))
    eager = make().fit(X_BLOBS, y)
    if not eager.early_stopping:
        eager.partial_fit(X_BLOBS, y)
    assert not eager.history_.compiled
    assert eager.loss_curve_ == compiled.loss_curve_
    assert [p.data.tobytes() for p in eager.model_.parameters()] == [
        p.data.tobytes() for p in compiled.model_.parameters()]
