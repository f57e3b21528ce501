"""The losses nn/functional.py has under PyTorch's names and options, without torch: l1,
smooth_l1 and huber at their kinks, nll, cross_entropy with weight, ignore_index and
label_smoothing, binary cross-entropy with weight and pos_weight, against closed forms and
central differences; every label ignored; float32; the errors."""

import warnings

import numpy as np
import pytest

import nn
import nn.functional as F
from autograd import Tensor, gradcheck

RNG = np.random.default_rng(0)
X = RNG.normal(size=(5, 3)) * 2
T = RNG.normal(size=(5, 3))
LABELS = np.array([0, 2, 1, 2, 0])
W = np.array([0.5, 2.0, 1.5])


def _log_softmax(x):
    s = x - x.max(axis=-1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))


def _grad_ok(loss, x=X):
    return gradcheck(lambda x: loss(x), Tensor(x, requires_grad=True))


def test_l1_closed_form_and_zero_gradient_at_ties():
    assert F.l1_loss(X, T).item() == pytest.approx(np.abs(X - T).mean(), rel=1e-15)
    x = Tensor(X, requires_grad=True)
    F.l1_loss(x, X, reduction="sum").backward()
    np.testing.assert_array_equal(x.grad, np.zeros_like(X))


@pytest.mark.parametrize("beta", [0.0, 0.5, 2.0])
def test_smooth_l1_closed_form(beta):
    d = np.abs(X - T)
    expected = d if beta == 0 else np.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)
    np.testing.assert_allclose(F.smooth_l1_loss(X, T, "none", beta).data, expected, rtol=1e-14)
    assert _grad_ok(lambda x: F.smooth_l1_loss(x, T, beta=beta))


@pytest.mark.parametrize("delta", [0.5, 1.0, 3.0])
def test_huber_closed_form_and_its_relation_to_smooth_l1(delta):
    d = np.abs(X - T)
    expected = np.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta))
    np.testing.assert_allclose(F.huber_loss(X, T, "none", delta).data, expected, rtol=1e-14)
    np.testing.assert_allclose(F.huber_loss(X, T, delta=delta).data,
                               delta * F.smooth_l1_loss(X, T, beta=delta).data, rtol=1e-14)
    assert _grad_ok(lambda x: F.huber_loss(x, T, delta=delta))


def test_huber_gradient_at_the_kink_is_continuous():
    x = Tensor(np.array([1.0, -1.0, 0.0]), requires_grad=True)
    F.huber_loss(x, np.zeros(3), reduction="sum").backward()  # |d| == delta exactly
    np.testing.assert_array_equal(x.grad, [1.0, -1.0, 0.0])


def test_nll_closed_form_with_weight_and_ignore_index():
    logp = _log_softmax(X)
    labels = np.array([0, 2, -100, 2, 1])
    keep = labels != -100
    picked = logp[np.arange(5)[keep], labels[keep]]
    weights = W[labels[keep]]
    assert F.nll_loss(logp, labels, W).item() == pytest.approx(
        -(weights * picked).sum() / weights.sum(), rel=1e-14)
    per = F.nll_loss(logp, labels, W, reduction="none").data
    assert per[2] == 0 and per[0] == pytest.approx(-W[0] * logp[0, 0])
    assert _grad_ok(lambda x: F.nll_loss(x, labels, W), logp)


def test_cross_entropy_is_nll_of_log_softmax_with_every_option():
    for kwargs in ({"weight": W}, {"ignore_index": 2}, {"weight": W, "ignore_index": 0}):
        np.testing.assert_allclose(F.cross_entropy(X, LABELS, **kwargs).data,
                                   F.nll_loss(_log_softmax(X), LABELS, **kwargs).data,
                                   rtol=1e-14)
        assert _grad_ok(lambda x, kwargs=kwargs: F.cross_entropy(x, LABELS, **kwargs))


def test_label_smoothing_closed_form():
    e, k = 0.2, 3
    logp = _log_softmax(X)
    one_hot = np.eye(k)[LABELS]
    target = (1 - e) * one_hot + e / k
    expected = -(target * W * logp).sum(axis=1).sum() / W[LABELS].sum()
    assert F.cross_entropy(X, LABELS, W, label_smoothing=e).item() == pytest.approx(expected,
                                                                                   rel=1e-14)
    # probability targets: smoothed the same way, but "mean" is over rows
    assert F.cross_entropy(X, one_hot, label_smoothing=e).item() == pytest.approx(
        -(target * logp).sum(axis=1).mean(), rel=1e-14)
    assert _grad_ok(lambda x: F.cross_entropy(x, LABELS, W, 1, "mean", 0.3))


def test_every_label_ignored_is_a_quiet_nan_with_zero_gradient():
    x = Tensor(X, requires_grad=True)
    loss = F.cross_entropy(x, np.full(5, -100))
    loss.backward()
    assert np.isnan(loss.item()) and np.array_equal(x.grad, np.zeros_like(X))
    assert F.cross_entropy(X, np.full(5, -100), reduction="sum").item() == 0.0


def test_binary_cross_entropy_weight_and_pos_weight_closed_forms():
    p = 1 / (1 + np.exp(-X))
    y = (T > 0).astype(float)
    elementwise = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    np.testing.assert_allclose(F.binary_cross_entropy(p, y, W, "none").data, W * elementwise,
                               rtol=1e-12)
    pw = np.array([3.0, 0.5, 1.0])
    expected = -W * (pw * y * np.log(p) + (1 - y) * np.log(1 - p))
    np.testing.assert_allclose(
        F.binary_cross_entropy_with_logits(X, y, W, "none", pos_weight=pw).data, expected,
        rtol=1e-12)
    assert _grad_ok(lambda x: F.binary_cross_entropy_with_logits(x, y, pos_weight=pw))
    big = F.binary_cross_entropy_with_logits(np.array([1000.0, -1000.0]), np.array([0.0, 1.0]),
                                             pos_weight=np.array(2.0), reduction="none")
    np.testing.assert_allclose(big.data, [1000.0, 2000.0])  # finite at any size


def test_float32_stays_float32():
    x = Tensor(X.astype(np.float32), requires_grad=True)
    for loss in (F.cross_entropy(x, LABELS, W.astype(np.float32), label_smoothing=0.1),
                 F.nll_loss(x, LABELS, W), F.huber_loss(x, T), F.smooth_l1_loss(x, T),
                 F.l1_loss(x, T), F.binary_cross_entropy_with_logits(x, T > 0, W, pos_weight=W)):
        assert loss.dtype == np.float32


def test_the_reduction_where_pytorch_has_the_weight_is_read_as_before():
    assert F.cross_entropy(X, LABELS, "sum").item() == pytest.approx(
        F.cross_entropy(X, LABELS, reduction="sum").item())
    assert repr(nn.CrossEntropyLoss("none")) == "CrossEntropyLoss(reduction='none')"
    assert repr(nn.CrossEntropyLoss(label_smoothing=0.1)) == \
        "CrossEntropyLoss(reduction='mean', label_smoothing=0.1)"
    with pytest.raises(TypeError, match="got reduction twice"):
        F.nll_loss(X, LABELS, "sum", reduction="none")


@pytest.mark.parametrize("call, message", [
    (lambda: F.cross_entropy(X, LABELS, np.ones(2)), r"weight must hold one value per class, "
                                                     r"shape \(3,\), got shape \(2,\)"),
    (lambda: F.cross_entropy(X, T, ignore_index=1), "ignore_index applies to class labels"),
    (lambda: F.cross_entropy(X, LABELS, label_smoothing=1.5), "label_smoothing must lie in"),
    (lambda: F.nll_loss(X, np.array([0, 1, 3, 0, 0])), r"class labels must lie in \[0, 3\), "
                                                       r"got values in \[0, 3\]"),
    (lambda: F.huber_loss(X, T, delta=0), "delta must be a finite number > 0"),
    (lambda: F.smooth_l1_loss(X, T, beta=-1), "beta must be a finite number >= 0"),
    (lambda: F.binary_cross_entropy_with_logits(X, T > 0, pos_weight=np.ones(2)),
     r"pos_weight of shape \(2,\) does not broadcast to the input's shape \(5, 3\)"),
    (lambda: F.l1_loss(X, T[:, :1]), "targets are not broadcast"),
])
def test_errors_name_the_problem(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("module, function", [
    (nn.L1Loss(), F.l1_loss), (nn.HuberLoss(delta=0.7), lambda x, t: F.huber_loss(x, t, delta=0.7)),
    (nn.SmoothL1Loss(beta=0.7), lambda x, t: F.smooth_l1_loss(x, t, beta=0.7)),
])
def test_loss_modules_are_their_functions(module, function):
    assert module(X, T).item() == function(X, T).item()
    assert nn.NLLLoss(W, ignore_index=1)(X, LABELS).item() == F.nll_loss(X, LABELS, W, 1).item()


@pytest.mark.parametrize("loss", [
    nn.CrossEntropyLoss(weight=np.array([1.0, 2.0, 0.5])), nn.CrossEntropyLoss(ignore_index=1),
    nn.CrossEntropyLoss(label_smoothing=0.2), nn.NLLLoss(W), nn.CrossEntropyLoss(),
], ids=lambda loss: loss.extra_repr())
def test_compiled_steps_with_label_options_give_eagers_bits(loss):
    # The compiled step turns plain labels into one-hot rows before the step; with weight,
    # ignore_index or label_smoothing, labels mean more than those rows (ignore_index=1 raised).
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 3))
    batches = [rng.integers(0, 3, size=8) for _ in range(5)]
    batches[1] = batches[0]  # the first two calls agree
    batches[3] = np.where(batches[3] == 0, loss.ignore_index, batches[3])  # some ignored
    nn.manual_seed(0)
    model = nn.MLP([3, 4, 3])
    nn.manual_seed(0)
    twin = nn.MLP([3, 4, 3])
    opt, other = nn.optim.SGD(model.parameters(), 0.1), nn.optim.SGD(twin.parameters(), 0.1)
    step = nn.compile_step(model, loss, opt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (fallbacks to eager may warn; the bits must agree)
        for y in batches:
            step(x, y)
            other.zero_grad()
            loss(twin(x), y).backward()
            other.step()
    for p, q in zip(model.parameters(), twin.parameters()):
        assert np.array_equal(p.data, q.data)
