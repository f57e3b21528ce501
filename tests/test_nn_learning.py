"""The nn library learns: XOR, digits, moons and breast cancer to held-out accuracy thresholds,
and stays finite and warning-free on raw, unscaled features. Seeded; each well under 20 s."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits, make_moons
from sklearn.model_selection import train_test_split

import nn
from autograd import no_grad


def _held_out_accuracy(model, X, y, threshold=0.5):
    with no_grad():
        return nn.accuracy(y, model.eval()(X).data, threshold=threshold)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_xor_with_a_2_4_1_tanh_sigmoid_mlp(seed):
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array([[0], [1], [1], [0]], dtype=float)
    nn.manual_seed(seed)
    model = nn.MLP([2, 4, 1], activation="tanh", output_activation="sigmoid")
    history = nn.fit(model, nn.BCELoss(), nn.optim.Adam(model.parameters(), lr=0.05), X, y,
                     epochs=500, batch_size=None, progress=False)
    assert history.loss[-1] < 0.01
    with no_grad():
        predictions = model(X).data
    assert np.all((predictions > 0.5) == (y > 0.5))


def test_digits_64_100_10_tanh_mlp_reaches_95_percent():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16, y, test_size=0.25,
                                                        random_state=0)
    nn.manual_seed(0)
    model = nn.MLP([64, 100, 10], activation="tanh")
    nn.fit(model, nn.CrossEntropyLoss(), nn.optim.Adam(model.parameters(), lr=3e-3),
           X_train, y_train, epochs=10, batch_size=32, progress=False)
    assert _held_out_accuracy(model, X_test, y_test) >= 0.95


def test_moons_reach_90_percent():
    X, y = make_moons(300, noise=0.2, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y[:, None].astype(float),
                                                        test_size=0.3, random_state=0)
    nn.manual_seed(0)
    model = nn.MLP([2, 16, 16, 1], activation="relu")
    history = nn.fit(model, nn.BCEWithLogitsLoss(), nn.optim.Adam(model.parameters(), lr=0.02),
                     X_train, y_train, epochs=60, batch_size=32,
                     validation_data=(X_test, y_test), metrics=["accuracy"], progress=False)
    assert _held_out_accuracy(model, X_test, y_test, threshold=0.0) >= 0.90
    assert history.val_accuracy[-1] == _held_out_accuracy(model, X_test, y_test, threshold=0.0)


def test_standardised_breast_cancer_reaches_95_percent():
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y[:, None].astype(float),
                                                        test_size=0.25, random_state=0)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    nn.manual_seed(0)
    model = nn.MLP([30, 16, 1], activation="relu")
    optimizer = nn.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-2)
    nn.fit(model, nn.BCEWithLogitsLoss(), optimizer, (X_train - mean) / std, y_train,
           epochs=20, batch_size=32, progress=False)
    assert _held_out_accuracy(model, (X_test - mean) / std, y_test, threshold=0.0) >= 0.95


@pytest.mark.parametrize("loss_fn", [nn.MSELoss(), nn.BCELoss()], ids=["mse", "bce"])
def test_raw_unscaled_breast_cancer_stays_finite_and_warning_free(loss_fn):
    # As the tutorial does: sigmoid layers, per-sample SGD, features up to ~4000. The hidden
    # units saturate at exactly 0 and 1; nothing may overflow or turn into nan.
    X, y = load_breast_cancer(return_X_y=True)
    assert X.max() > 4000
    X_train, y_train = X[100:], y[100:, None].astype(float)
    nn.manual_seed(0)
    model = nn.MLP([30, 64, 8, 1], activation="sigmoid", output_activation="sigmoid")
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        history = nn.fit(model, loss_fn, nn.optim.SGD(model.parameters(), lr=0.1), X_train,
                         y_train, epochs=3, batch_size=1, progress=False)
    assert np.isfinite(history.loss).all()
    for name, p in model.named_parameters():
        assert np.isfinite(p.data).all(), name
        assert np.isfinite(p.grad).all(), name
