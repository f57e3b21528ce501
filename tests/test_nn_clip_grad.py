"""nn/clip_grad.py: clip_grad_norm_ and clip_grad_value_ against closed forms and (torch extra)
PyTorch, float32 kept, None gradients skipped, bad arguments."""

import math
import warnings

import numpy as np
import pytest

import nn
from autograd import Tensor
from nn.utils import clip_grad_norm_, clip_grad_value_


def _params(*grads, dtype=np.float64):
    params = []
    for g in grads:
        p = Tensor(np.zeros(np.shape(g), dtype), requires_grad=True)
        p.grad = None if g is None else np.array(g, dtype)
        params.append(p)
    return params


def test_clip_grad_norm_scales_all_gradients_jointly():
    a, b = _params([3.0, 4.0], [[12.0]])  # joint 2-norm 13
    total = clip_grad_norm_([a, b], max_norm=6.5)
    assert total == 13.0 and total.item() == 13.0
    coef = 6.5 / (13.0 + 1e-6)
    np.testing.assert_allclose(a.grad, [3 * coef, 4 * coef], rtol=1e-15)
    np.testing.assert_allclose(b.grad, [[12 * coef]], rtol=1e-15)
    assert math.sqrt((a.grad ** 2).sum() + (b.grad ** 2).sum()) == pytest.approx(6.5)


def test_clip_grad_norm_below_the_bound_changes_nothing():
    a, b = _params([3.0, 4.0], [[12.0]])
    before = a.grad
    assert clip_grad_norm_([a, b], max_norm=13.0 + 1e-5) == 13.0
    assert a.grad is before


@pytest.mark.parametrize("norm_type, total", [
    (1.0, 19.0), (math.inf, 12.0), (3.0, (27 + 64 + 1728) ** (1 / 3))])
def test_clip_grad_norm_other_norms(norm_type, total):
    a, b = _params([3.0, -4.0], [[-12.0]])
    assert clip_grad_norm_([a, b], 1.0, norm_type=norm_type) == pytest.approx(total, rel=1e-15)
    np.testing.assert_allclose(b.grad, [[-12.0 / (total + 1e-6)]], rtol=1e-14)


def test_clip_grad_norm_accepts_a_tensor_or_a_module_and_skips_missing_grads():
    (a,) = _params([0.0, 5.0])
    assert clip_grad_norm_(a, 1.0) == 5.0 and a.grad[1] == pytest.approx(1.0)
    model = nn.Linear(2, 1)
    model.weight.grad = np.full((2, 1), 2.0)  # the bias has no grad
    assert clip_grad_norm_(model, 1.0) == pytest.approx(math.sqrt(8))
    assert model.bias.grad is None
    assert clip_grad_norm_(model.bias, 1.0) == 0.0  # no gradients at all


def test_clip_grad_norm_keeps_float32():
    a, b = _params([300.0, 400.0], [1.0], dtype=np.float32)
    clip_grad_norm_([a, b], 1.0)
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float32


def test_clip_grad_norm_nonfinite():
    a, b = _params([np.inf, 1.0], [2.0])
    with pytest.raises(RuntimeError, match="clip_grad_norm_: the total norm of the gradients "
                                           "is inf"):
        clip_grad_norm_([a, b], 1.0, error_if_nonfinite=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isinf(clip_grad_norm_([a, b], 1.0))  # PyTorch's default: scaled by 0
    np.testing.assert_array_equal(b.grad, [0.0])
    np.testing.assert_array_equal(a.grad, [np.nan, 0.0])  # inf * 0


def test_clip_grad_value_clamps_elementwise():
    a, b, c = _params([-3.0, 0.5, 2.0], [[7.0]], None)
    assert clip_grad_value_([a, b, c], 1.0) is None
    np.testing.assert_array_equal(a.grad, [-1.0, 0.5, 1.0])
    np.testing.assert_array_equal(b.grad, [[1.0]])
    assert c.grad is None
    (d,) = _params([5.0], dtype=np.float32)
    clip_grad_value_(d, 0.5)
    assert d.grad.dtype == np.float32 and d.grad[0] == 0.5


@pytest.mark.parametrize("call, message", [
    (lambda p: clip_grad_norm_(p, -1.0), "clip_grad_norm_: max_norm must be a finite number >= 0"),
    (lambda p: clip_grad_norm_(p, 1.0, norm_type=0), "norm_type must be a number > 0 or math.inf"),
    (lambda p: clip_grad_value_(p, float("nan")), "clip_grad_value_: clip_value must be a finite"),
])
def test_bad_arguments_raise(call, message):
    with pytest.raises(ValueError, match=message):
        call(_params([1.0]))


# ---------------------------------------------------------------- PyTorch itself (torch extra)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 3.0])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_pytorch(dtype, norm_type, max_norm):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=shape).astype(dtype) for shape in [(4, 3), (3,), (3, 2), ()]]
    ours = _params(*grads, dtype=dtype)
    theirs = [torch.zeros(g.shape, dtype=torch.from_numpy(g).dtype, requires_grad=True)
              for g in grads]
    for t, g in zip(theirs, grads):
        t.grad = torch.from_numpy(g.copy())
    rtol = 1e-6 if dtype == np.float32 else 1e-13
    total = clip_grad_norm_(ours, max_norm, norm_type)
    assert total == pytest.approx(torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
                                  .item(), rel=rtol)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=rtol)


def test_clip_grad_value_matches_pytorch():
    torch = pytest.importorskip("torch")
    g = np.random.default_rng(1).normal(size=(5, 4)) * 3
    (p,) = _params(g)
    t = torch.zeros(5, 4, dtype=torch.float64, requires_grad=True)
    t.grad = torch.from_numpy(g.copy())
    clip_grad_value_(p, 1.5)
    torch.nn.utils.clip_grad_value_([t], 1.5)
    np.testing.assert_array_equal(p.grad, t.grad.numpy())
