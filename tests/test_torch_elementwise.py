"""The elementwise functions of ops/trig.py, bases.py and piecewise.py against PyTorch: values,
gradients and second derivatives (the gradient of a weighted gradient) in float64, on inputs
that include the edges where conventions could differ (0, ties, nan in fmax, the signs of
remainder, infinities in nan_to_num). Needs the `torch` extra; skipped without it.
"""

import numpy as np
import pytest

import autograd
from autograd import Tensor

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
NORMAL = RNG.normal(size=(3, 4))
UNIT = RNG.uniform(-0.95, 0.95, size=(3, 4))
ABOVE_ONE = RNG.uniform(1.05, 4.0, size=(3, 4))
POSITIVE = np.abs(NORMAL) + 0.2
WITH_ZEROS = np.array([[0.0, 2.0, -3.0, 0.5], [0.0, -0.0, 1.5, -2.0], [1e-3, -1e-3, 7.0, 0.25]])

# name -> (ours, theirs, inputs)
ROWS = {
    "tan": (np.tan, torch.tan, (NORMAL,)),
    "sinh": (np.sinh, torch.sinh, (WITH_ZEROS,)),
    "cosh": (np.cosh, torch.cosh, (WITH_ZEROS,)),
    "arcsin": (np.arcsin, torch.asin, (UNIT,)),
    "arccos": (np.arccos, torch.acos, (UNIT,)),
    "arctan": (np.arctan, torch.atan, (WITH_ZEROS * 100,)),
    "arcsinh": (np.arcsinh, torch.asinh, (WITH_ZEROS * 100,)),
    "arccosh": (np.arccosh, torch.acosh, (ABOVE_ONE,)),
    "arctanh": (np.arctanh, torch.atanh, (UNIT,)),
    "arctan2": (np.arctan2, torch.atan2, (WITH_ZEROS, NORMAL)),
    "hypot": (np.hypot, torch.hypot, (NORMAL, WITH_ZEROS)),
    "sinc": (np.sinc, torch.sinc, (np.concatenate([WITH_ZEROS, NORMAL]),)),
    "log2": (np.log2, torch.log2, (POSITIVE,)),
    "log10": (np.log10, torch.log10, (POSITIVE,)),
    "exp2": (np.exp2, torch.exp2, (NORMAL * 10,)),
    "logaddexp2": (np.logaddexp2, torch.logaddexp2, (NORMAL * 100, WITH_ZEROS * 100)),
    "reciprocal": (np.reciprocal, torch.reciprocal, (POSITIVE * np.sign(NORMAL),)),
    "deg2rad": (np.deg2rad, torch.deg2rad, (NORMAL * 360,)),
    "rad2deg": (np.rad2deg, torch.rad2deg, (NORMAL,)),
    "fmax": (np.fmax, torch.fmax,
             (np.array([1.0, np.nan, 2.0, np.nan, 3.0, 0.0]),
              np.array([np.nan, 1.0, 2.0, np.nan, -3.0, 5.0]))),
    "fmin": (np.fmin, torch.fmin,
             (np.array([1.0, np.nan, 2.0, np.nan, 3.0, 0.0]),
              np.array([np.nan, 1.0, 2.0, np.nan, -3.0, 5.0]))),
    "remainder": (lambda x, y: x % y, torch.remainder,
                  (np.array([5.5, -5.5, 5.5, -5.5, 0.0, 2.5]),
                   np.array([2.0, 2.0, -2.0, -2.0, 3.0, 0.75]))),
    "nan_to_num": (lambda x: np.nan_to_num(x, nan=2.0, neginf=-7.0),
                   lambda x: torch.nan_to_num(x, nan=2.0, neginf=-7.0),
                   (np.array([np.nan, np.inf, -np.inf, 1.5, 0.0, -2.0]),)),
}


def _both(name):
    ours, theirs, arrays = ROWS[name]
    xs = [Tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    return ours, theirs, xs, ts


@pytest.mark.parametrize("name", ROWS)
def test_values_and_gradients_match_pytorch(name):
    ours, theirs, xs, ts = _both(name)
    out, ref = ours(*xs), theirs(*ts)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-13, atol=1e-300,
                               equal_nan=True)
    w = np.random.default_rng(1).normal(size=out.shape)
    with np.errstate(invalid="ignore"):  # nan * 0 in a weighted sum of fmax's nan outputs
        finite = np.isfinite(out.data)
        (out * np.where(finite, w, 0)).sum().backward()
    (ref * torch.tensor(np.where(finite, w, 0))).nansum().backward()
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-12, atol=1e-14,
                                   err_msg=name)


# piecewise linear or linear: no second derivative to compare
SECOND = [n for n in ROWS if n not in (
    "fmax", "fmin", "nan_to_num", "remainder", "deg2rad", "rad2deg")]


@pytest.mark.parametrize("name", SECOND)
def test_second_derivatives_match_pytorch(name):
    # d/dx <grad f(x), v> for a fixed v: a Hessian-vector product (diagonal for one input)
    ours, theirs, xs, ts = _both(name)
    if name in ("arctan2", "hypot"):  # PyTorch's are nan at the origin; keep off it
        xs = [Tensor(a + 0.5, requires_grad=True) for a in ROWS[name][2]]
        ts = [torch.tensor(a + 0.5, requires_grad=True) for a in ROWS[name][2]]
    w = np.random.default_rng(2).normal(size=ours(*xs).shape)
    gs = autograd.grad((ours(*xs) * w).sum(), xs, create_graph=True)
    second = autograd.grad(sum((g * w).sum() for g in gs), xs)
    tgs = torch.autograd.grad((theirs(*ts) * torch.tensor(w)).sum(), ts, create_graph=True)
    tsecond = torch.autograd.grad(sum((g * torch.tensor(w)).sum() for g in tgs), ts,
                                  allow_unused=True)
    for mine, theirs_ in zip(second, tsecond):
        theirs_ = np.zeros_like(mine) if theirs_ is None else theirs_.numpy()
        if name == "sinc":  # PyTorch's is nan at 0, where sinc''(0) = -pi^2 / 3
            zero = xs[0].data == 0
            assert np.isnan(theirs_[zero]).all()
            theirs_ = np.where(zero, -np.pi ** 2 / 3 * w * w, theirs_)
        np.testing.assert_allclose(mine, theirs_, rtol=1e-10, atol=1e-12, err_msg=name)
