"""nn/functional.py: each loss against a numpy reference, float64 central differences, extreme
inputs (no warnings), shape errors, and the size of the graph it records."""

import warnings

import numpy as np
import pytest
from scipy.special import log_softmax, softmax

import nn.functional as F
from autograd import Tensor, gradcheck
from autograd.engine import toposort

RNG = np.random.default_rng(0)
LOGITS = RNG.normal(size=(6, 4)) * 2
LABELS = np.array([0, 3, 1, 1, 2, 0])
PROBS = softmax(RNG.normal(size=(6, 4)), axis=1)
P = RNG.uniform(0.05, 0.95, size=(6, 1))
Y = (RNG.uniform(size=(6, 1)) > 0.5).astype(float)
SOFT_Y = RNG.uniform(size=(6, 1))


def _reference(name, x, t):
    """Per-element (or per-row) losses from plain numpy/scipy formulas."""
    if name == "mse_loss":
        return (x - t) ** 2
    if name == "bce_loss":
        return -(t * np.log(x) + (1 - t) * np.log(1 - x))
    if name == "bce_with_logits_loss":
        return np.logaddexp(0, x) - x * t
    if t.shape == x.shape:
        return -(t * log_softmax(x, axis=-1)).sum(axis=-1)
    return -np.take_along_axis(log_softmax(x, axis=-1), t[..., None], axis=-1)[..., 0]


CASES = [
    ("mse_loss", RNG.normal(size=(5, 3)), RNG.normal(size=(5, 3))),
    ("bce_loss", P, Y),
    ("bce_loss", P, SOFT_Y),
    ("bce_with_logits_loss", 3 * RNG.normal(size=(6, 1)), Y),
    ("bce_with_logits_loss", 3 * RNG.normal(size=(6,)), SOFT_Y[:, 0]),
    ("cross_entropy", LOGITS, LABELS),
    ("cross_entropy", LOGITS, PROBS),
    ("cross_entropy", LOGITS.reshape(2, 3, 4), LABELS.reshape(2, 3)),
]
IDS = [f"{name}-{x.shape}-{t.dtype}" for name, x, t in CASES]


@pytest.mark.parametrize("name, x, t", CASES, ids=IDS)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_loss_values_match_numpy(name, x, t, reduction):
    loss = getattr(F, name)(Tensor(x), t, reduction=reduction)
    per_item = _reference(name, x, t)
    expected = {"mean": per_item.mean(), "sum": per_item.sum(), "none": per_item}[reduction]
    assert loss.shape == np.shape(expected)
    np.testing.assert_allclose(loss.data, expected, rtol=1e-12)


@pytest.mark.parametrize("name, x, t", CASES, ids=IDS)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_loss_gradients_wrt_input(name, x, t, reduction):
    fn = getattr(F, name)
    weights = np.random.default_rng(2).normal(size=_reference(name, x, t).shape)
    if reduction == "none":  # a weighted sum of the unreduced losses checks every element
        assert gradcheck(lambda x: (fn(x, t, reduction="none") * weights).sum(),
                         Tensor(x, requires_grad=True))
    else:
        assert gradcheck(lambda x: fn(x, t, reduction=reduction), Tensor(x, requires_grad=True))


EMPTY = [("mse_loss", np.zeros((0, 2)), np.zeros((0, 2))),
         ("bce_loss", np.zeros((0, 1)), np.zeros((0, 1))),
         ("bce_with_logits_loss", np.zeros((0, 1)), np.zeros((0, 1))),
         ("cross_entropy", np.zeros((0, 3)), np.zeros(0, int))]


@pytest.mark.parametrize("name, x, t", EMPTY, ids=[c[0] for c in EMPTY])
def test_empty_batch_sum_is_zero_mean_is_nan_none_is_empty(name, x, t, strict_numerics):
    fn = getattr(F, name)
    xt = Tensor(x, requires_grad=True)
    total = fn(xt, t, reduction="sum")
    assert total.item() == 0.0
    total.backward()
    assert xt.grad.shape == x.shape
    assert np.isnan(fn(Tensor(x), t).item())
    per_item_shape = x.shape[:-1] if name == "cross_entropy" else x.shape
    assert fn(Tensor(x), t, reduction="none").shape == per_item_shape


@pytest.mark.parametrize("name, x, t", CASES, ids=IDS)
def test_targets_may_be_tensors_or_lists_and_receive_no_gradient(name, x, t):
    fn = getattr(F, name)
    expected = fn(Tensor(x), t).item()
    target = Tensor(t, requires_grad=True)
    xt = Tensor(x, requires_grad=True)
    fn(xt, target).backward()
    assert target.grad is None and xt.grad is not None
    assert fn(Tensor(x), t.tolist()).item() == pytest.approx(expected, rel=1e-12)
    assert fn(x, t).item() == pytest.approx(expected, rel=1e-12)  # a plain array input


@pytest.mark.parametrize("name, x, t", CASES, ids=IDS)
def test_float32_input_gives_a_float32_loss_and_gradient(name, x, t):
    x32 = Tensor(x.astype(np.float32), requires_grad=True)
    loss = getattr(F, name)(x32, t)
    loss.backward()
    assert loss.dtype == np.float32 and x32.grad.dtype == np.float32


@pytest.mark.parametrize("name, most", [
    ("mse_loss", 3), ("bce_loss", 8), ("bce_with_logits_loss", 6), ("cross_entropy", 3)])
def test_each_loss_records_a_small_graph(name, most):
    x, t = next((x, t) for n, x, t in CASES if n == name)
    loss = getattr(F, name)(Tensor(x, requires_grad=True), t)
    assert len([node for node in toposort(loss) if node.op is not None]) <= most


# ---------------------------------------------------------------- extreme inputs
@pytest.fixture
def strict_numerics():
    """Warnings are errors and numpy raises on overflow, division by zero and invalid values."""
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        yield


def test_bce_is_finite_at_exactly_zero_and_one(strict_numerics):
    p = Tensor([[0.0], [1.0], [0.0], [1.0]], requires_grad=True)
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    loss = F.bce_loss(p, y, reduction="sum")
    loss.backward()
    eps = np.finfo(np.float64).eps
    # The right answers are 0 and 0 for the correct predictions; -log(eps) bounds the wrong ones.
    np.testing.assert_allclose(loss.item(), -2 * np.log(eps) - 2 * np.log1p(-eps), rtol=1e-12)
    assert np.isfinite(p.grad).all()


def test_bce_with_logits_is_exact_at_plus_minus_1000(strict_numerics):
    x = Tensor([1000.0, -1000.0, 1000.0, -1000.0], requires_grad=True)
    y = np.array([0.0, 0.0, 1.0, 1.0])
    loss = F.bce_with_logits_loss(x, y, reduction="sum")
    loss.backward()
    assert loss.item() == 2000.0
    # d/dx = sigmoid(x) - y
    np.testing.assert_array_equal(x.grad, [1.0, 0.0, 0.0, -1.0])


def test_cross_entropy_is_exact_for_logits_of_1e4(strict_numerics):
    x = Tensor([[1e4, 0.0, -1e4]] * 3, requires_grad=True)
    loss = F.cross_entropy(x, [0, 1, 2], reduction="sum")
    loss.backward()
    assert loss.item() == 0.0 + 1e4 + 2e4
    # d/dx = softmax(x) - onehot
    np.testing.assert_array_equal(x.grad, [[0, 0, 0], [1, -1, 0], [1, 0, -1]])


def test_cross_entropy_accepts_whole_number_float_labels():
    as_int = F.cross_entropy(Tensor(LOGITS), LABELS).item()
    assert F.cross_entropy(Tensor(LOGITS), LABELS.astype(float)).item() == as_int


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("name", ["mse_loss", "bce_loss", "bce_with_logits_loss"])
def test_elementwise_losses_refuse_to_broadcast_targets(name):
    with pytest.raises(ValueError, match=rf"{name}: input shape \(6, 1\) and target shape \(6,\) "
                                         "differ"):
        getattr(F, name)(Tensor(P), Y[:, 0])
    with pytest.raises(ValueError, match=r"input shape \(6,\) and target shape \(6, 1\) differ"):
        getattr(F, name)(Tensor(P[:, 0]), Y)


def test_cross_entropy_shape_errors_name_both_shapes():
    with pytest.raises(ValueError, match=r"cross_entropy: input shape \(6, 4\) and target shape "
                                         r"\(6, 1\) do not fit: expected labels of shape \(6,\)"):
        F.cross_entropy(Tensor(LOGITS), LABELS[:, None])
    with pytest.raises(ValueError, match="input must have a class axis"):
        F.cross_entropy(Tensor(1.0), 0)


@pytest.mark.parametrize("labels, message", [
    ([0, 1, 2, 3, 4, 0], r"class labels must lie in \[0, 4\), got values in \[0, 4\]"),
    ([-1, 1, 2, 3, 0, 0], r"class labels must lie in \[0, 4\), got values in \[-1, 3\]"),
    ([0.5, 1, 2, 3, 0, 0], "class labels must be integers, got dtype float64"),
])
def test_cross_entropy_rejects_bad_labels(labels, message):
    with pytest.raises(ValueError, match=message):
        F.cross_entropy(Tensor(LOGITS), np.array(labels))


def test_bce_rejects_values_outside_zero_one():
    with pytest.raises(ValueError, match=r"bce_loss: input must hold probabilities in \[0, 1\], "
                                         r"got values in \[-0\.5, 2\].*bce_with_logits_loss"):
        F.bce_loss(Tensor([[-0.5], [2.0]]), [[0.0], [1.0]])


@pytest.mark.parametrize("name", ["mse_loss", "bce_loss", "bce_with_logits_loss", "cross_entropy"])
def test_unknown_reduction_is_rejected(name):
    with pytest.raises(ValueError, match=rf"{name}: reduction must be 'mean', 'sum' or 'none', "
                                         "got 'avg'"):
        getattr(F, name)(Tensor(P), Y, reduction="avg")


# ---------------------------------------------------------------- bce ranges (issue 9, item 13)
@pytest.mark.parametrize("name", ["bce_loss", "bce_with_logits_loss"])
@pytest.mark.parametrize("target, shown", [([[1.0], [2.0]], r"\[1, 2\]"),
                                           ([[-1.0], [0.0]], r"\[-1, 0\]")])
def test_bce_rejects_targets_outside_zero_one(name, target, shown):
    with pytest.raises(ValueError, match=rf"{name}: target must hold values in \[0, 1\], got "
                                         rf"values in {shown}"):
        getattr(F, name)(Tensor([[0.3], [0.6]]), target)


@pytest.mark.parametrize("name", ["bce_loss", "bce_with_logits_loss"])
def test_bce_reports_nan_in_the_target_as_nan(name):
    with pytest.raises(ValueError, match=rf"{name}: target contains NaN"):
        getattr(F, name)(Tensor([[0.3], [0.6]]), [[np.nan], [1.0]])


def test_bce_reports_nan_in_the_input_as_nan_not_as_logits():
    with pytest.raises(ValueError, match=r"bce_loss: input contains NaN") as info:
        F.bce_loss(Tensor([[np.nan], [0.5]]), [[0.0], [1.0]])
    assert "logits" not in str(info.value)


def test_bce_accepts_soft_targets_at_the_ends_of_the_range():
    loss = F.bce_loss(Tensor([[0.5], [0.5], [0.5]]), [[0.0], [1.0], [0.25]])
    np.testing.assert_allclose(loss.item(), np.log(2), rtol=1e-15)
