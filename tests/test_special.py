"""erf and erfc (autograd/ops/special.py) against Python's math.erf and math.erfc.

A dense grid of 10^5 points, the tails up to |x| = 30 where erfc is tiny or subnormal, tiny and
subnormal x, signed zeros, infinities and nan; float32 in, float32 out, without warnings; first
and second derivatives by central differences. Measured: erf within 1 ulp and erfc within 4 ulps
of math's wherever the result is a normal float (subnormal results: within one subnormal step).
"""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd
from autograd import Tensor, gradcheck, gradgradcheck

ERF = {"erf": (Tensor.erf, math.erf), "erfc": (Tensor.erfc, math.erfc)}
ULPS = {"erf": 1, "erfc": 4}
SMALLEST_NORMAL = np.finfo(np.float64).tiny


def reference(name, x):
    return np.array([ERF[name][1](v) for v in x.ravel()]).reshape(x.shape)


def assert_ulps(name, x):
    got, want = ERF[name][0](Tensor(x)).data, reference(name, x)
    normal = np.abs(want) >= SMALLEST_NORMAL
    ulps = np.abs(got - want)[normal] / np.spacing(np.abs(want[normal]))
    assert ulps.max(initial=0) <= ULPS[name], (name, x[normal][np.argmax(ulps)], ulps.max())
    # a subnormal answer has fewer digits: one step of the smallest subnormal is all there is
    assert np.abs(got - want)[~normal].max(initial=0) <= 5e-324 * 2


GRID = np.linspace(-7.0, 7.0, 100_001)
TAILS = np.concatenate([np.linspace(-30.0, -6.0, 5001), np.linspace(6.0, 30.0, 5001)])
TINY = np.concatenate([np.logspace(-320, -1, 4000), -np.logspace(-320, -1, 4000)])
# the edges of fdlibm's intervals, and their neighbours one ulp away
EDGES = np.array([0.84375, 1.25, 1 / 0.35, 6.0, 28.0, 2.0 ** -28, 2.0 ** -56, 0.25])
EDGES = np.concatenate([s * np.nextafter(EDGES, t) for s in (1, -1) for t in (0, np.inf)]
                       + [EDGES, -EDGES])


@pytest.mark.parametrize("name", list(ERF))
@pytest.mark.parametrize("x", [GRID, TAILS, TINY, EDGES], ids=["grid", "tails", "tiny", "edges"])
def test_values_match_math_within_a_few_ulps(name, x):
    assert_ulps(name, x)


@given(x=st.floats(allow_nan=False, allow_infinity=False, width=64))
def test_any_double_matches_math(x):
    for name in ERF:
        assert_ulps(name, np.array([x]))


@pytest.mark.parametrize("x, erf, erfc", [
    (0.0, 0.0, 1.0), (-0.0, -0.0, 1.0), (np.inf, 1.0, 0.0), (-np.inf, -1.0, 2.0),
    (5e-324, 5e-324, 1.0), (-5e-324, -5e-324, 1.0), (30.0, 1.0, 0.0), (-30.0, -1.0, 2.0),
    (10.0, 1.0, math.erfc(10.0)),
])
def test_special_values(x, erf, erfc):
    got_erf, got_erfc = Tensor(x).erf().data, Tensor(x).erfc().data
    assert got_erf == erf and np.signbit(got_erf) == np.signbit(erf)
    assert got_erfc == erfc
    assert 2.0e-45 < Tensor(10.0).erfc().item() < 2.1e-45  # 1 - erf(10) would be 0


def test_nan_stays_nan_and_shapes_are_kept():
    for method in (Tensor.erf, Tensor.erfc):
        assert np.isnan(method(Tensor(np.nan)).data)
        out = method(Tensor(np.full((2, 0, 3), 1.0)))
        assert out.shape == (2, 0, 3)
        assert method(Tensor(0.5)).shape == ()
        x = np.array([[np.nan, 1.0], [-1.0, np.nan]])
        assert np.isnan(method(Tensor(x)).data).tolist() == [[True, False], [False, True]]


@pytest.mark.parametrize("name", list(ERF))
def test_float32_in_float32_out_without_warnings(name):
    x = np.concatenate([GRID[::97], TAILS[::50], [0.0, -0.0, np.inf, -np.inf]]).astype(np.float32)
    t = Tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = ERF[name][0](t)
        out.sum().backward()
    assert out.dtype == t.grad.dtype == np.float32
    want = reference(name, x.astype(np.float64)).astype(np.float32)
    np.testing.assert_allclose(out.data, want, rtol=2e-7, atol=1e-45)


@pytest.mark.parametrize("name", list(ERF))
def test_gradients_and_second_derivatives_by_central_differences(name):
    # (atol: central differences of a sum near 10 carry ~1e-9 of rounding)
    x = np.concatenate([np.linspace(-4.0, 4.0, 17), [0.84375, 1.25, 2.9, -2.9, 1e-9]])
    assert gradcheck(ERF[name][0], Tensor(x, requires_grad=True), rtol=1e-6, atol=1e-8)
    assert gradgradcheck(ERF[name][0], Tensor(x, requires_grad=True), rtol=1e-5, atol=1e-7)


def test_gradient_is_the_closed_form_and_finite_in_the_tails():
    x = Tensor([-30.0, -3.0, 0.0, 0.5, 3.0, 30.0, np.inf], requires_grad=True)
    x.erf().sum().backward()
    slope = 2 / math.sqrt(math.pi) * np.exp(-x.data ** 2)
    np.testing.assert_allclose(x.grad, slope, rtol=1e-15, atol=0)
    x.grad = None
    x.erfc().sum().backward()
    np.testing.assert_allclose(x.grad, -slope, rtol=1e-15, atol=0)


def test_autograd_functions_take_arrays_and_tensors():
    np.testing.assert_array_equal(autograd.erf([0.5, -2.0]).data, [math.erf(0.5), math.erf(-2)])
    x = Tensor([0.5], requires_grad=True)
    autograd.erfc(x).sum().backward()
    np.testing.assert_allclose(x.grad, [-2 / math.sqrt(math.pi) * math.exp(-0.25)])


def test_exact_gelu_in_float32_keeps_its_digits_where_1_plus_erf_would_cancel():
    # PyTorch computes 0.5 x (1 + erf(x / sqrt 2)): in float32 that is -0.0 at x = -10 and 20%
    # off at x = -5; npgrad's 0.5 x erfc(-x / sqrt 2) keeps float32's precision throughout.
    x = np.linspace(-10.0, 10.0, 2001, dtype=np.float32)
    t = Tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = t.gelu()
        out.sum().backward()
    assert out.dtype == t.grad.dtype == np.float32
    x64 = x.astype(np.float64)
    cdf = reference("erfc", -x64 / math.sqrt(2)) / 2
    # (x / sqrt 2 rounds in float32 first, and erfc(z) magnifies that by 2 z^2 <= 100 here)
    np.testing.assert_allclose(out.data, x64 * cdf, rtol=1e-5, atol=1e-37)
    slope = cdf + x64 * np.exp(-x64 * x64 / 2) / math.sqrt(2 * math.pi)
    np.testing.assert_allclose(t.grad, slope, rtol=1e-5, atol=1e-7)  # (slope 0 near -0.75)
