"""autograd/ops/trig.py at its edges: the circular and hyperbolic functions and their inverses,
arctan2, hypot and sinc. Values against numpy, gradients against closed forms where central
differences cannot reach (domain edges, the origin, infinities), and against float64 central
differences and gradgradcheck at 0, near 0 and in float32 (the op table covers the interior).
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Tensor, gradcheck, gradgradcheck


def grad_of(fn, *arrays):
    xs = [Tensor(np.asarray(a, dtype=float), requires_grad=True) for a in arrays]
    fn(*xs).sum().backward()
    return [x.grad for x in xs]


UNARY = {  # name -> (closed-form derivative, points in the domain: 0, near the edges)
    "tan": (lambda x: 1 / np.cos(x) ** 2, [0.0, 0.5, -1.2, 1.5]),
    "sinh": (np.cosh, [0.0, 1.0, -3.0, 20.0]),
    "cosh": (np.sinh, [0.0, 1.0, -3.0, 20.0]),
    "arcsin": (lambda x: 1 / np.sqrt(1 - x * x), [0.0, 0.5, -0.9, 0.999]),
    "arccos": (lambda x: -1 / np.sqrt(1 - x * x), [0.0, 0.5, -0.9, 0.999]),
    "arctan": (lambda x: 1 / (1 + x * x), [0.0, 1.0, -30.0, 1e3]),
    "arcsinh": (lambda x: 1 / np.sqrt(x * x + 1), [0.0, 1.0, -30.0, 1e3]),
    "arccosh": (lambda x: 1 / np.sqrt(x * x - 1), [1.001, 1.5, 3.0, 1e3]),
    "arctanh": (lambda x: 1 / (1 - x * x), [0.0, 0.5, -0.9, 0.999]),
}


@pytest.mark.parametrize("name", UNARY)
def test_unary_values_and_closed_form_gradients(name):
    slope, points = UNARY[name]
    x = np.array(points)
    t = getattr(np, name)(Tensor(x))
    np.testing.assert_array_equal(t.data, getattr(np, name)(x))
    (g,) = grad_of(getattr(np, name), x)
    np.testing.assert_allclose(g, slope(x), rtol=1e-12)


@pytest.mark.parametrize("name", UNARY)
def test_unary_second_derivatives(name):
    _, points = UNARY[name]
    x = Tensor(np.array(points[:3]), requires_grad=True)  # the last is near a pole or huge
    f = getattr(np, name)
    assert gradcheck(f, x)
    assert gradgradcheck(f, x)


@pytest.mark.parametrize("name, edge, expected", [
    ("arcsin", [1.0, -1.0], [np.inf, np.inf]), ("arccos", [1.0, -1.0], [-np.inf, -np.inf]),
    ("arctanh", [1.0, -1.0], [np.inf, np.inf]), ("arccosh", [1.0], [np.inf]),
])
def test_poles_at_the_domain_edges_are_infinite(name, edge, expected):
    with np.errstate(divide="ignore", invalid="ignore"):  # the forward sums inf and -inf
        (g,) = grad_of(getattr(np, name), edge)
    np.testing.assert_array_equal(g, expected)


def test_no_overflow_for_huge_arguments():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (g,) = grad_of(np.arcsinh, [1e200, -1e200])
        np.testing.assert_allclose(g, [1e-200, 1e-200], rtol=1e-12)
        (g,) = grad_of(np.arccosh, [1e200])
        np.testing.assert_allclose(g, [1e-200], rtol=1e-12)
        (g,) = grad_of(np.arctan, [1e200])
        np.testing.assert_array_equal(g, [0.0])
        gy, gx = grad_of(np.arctan2, [3e200], [4e200])
        np.testing.assert_allclose([gy[0], gx[0]], [0.16e-200, -0.12e-200], rtol=1e-12)
        gx, gy = grad_of(np.hypot, [3e200], [4e200])
        np.testing.assert_allclose([gx[0], gy[0]], [0.6, 0.8], rtol=1e-12)


def test_arctan2_closed_form_in_every_quadrant_and_on_the_axes():
    y = np.array([1.0, 1.0, -1.0, -1.0, 0.0, 2.0, 0.0, -3.0])
    x = np.array([1.0, -1.0, -1.0, 1.0, 2.0, 0.0, -1.0, 0.0])
    np.testing.assert_array_equal(np.arctan2(Tensor(y), x).data, np.arctan2(y, x))
    gy, gx = grad_of(np.arctan2, y, x)
    np.testing.assert_allclose(gy, x / (x * x + y * y), rtol=1e-15)
    np.testing.assert_allclose(gx, -y / (x * x + y * y), rtol=1e-15)
    ys, xs = (Tensor(a, requires_grad=True) for a in (y[:6], x[:6]))
    assert gradgradcheck(np.arctan2, ys, xs)


def test_arctan2_at_the_origin_is_nan_as_undefined():
    with np.errstate(invalid="ignore"):
        gy, gx = grad_of(np.arctan2, [0.0], [0.0])
    assert np.isnan(gy).all() and np.isnan(gx).all()


def test_hypot_gradient_at_the_origin_is_zero_the_norms_subgradient():
    x, y = (Tensor([0.0, 3.0], requires_grad=True) for _ in range(2))
    np.hypot(x, y).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, np.sqrt(0.5)])
    np.testing.assert_array_equal(y.grad, [0.0, np.sqrt(0.5)])
    # the same as npgrad's norm of the pair
    u = Tensor([0.0, 0.0], requires_grad=True)
    u.norm().backward()
    np.testing.assert_array_equal(u.grad, [0.0, 0.0])


def _sinc_slope(x):
    return (np.cos(np.pi * x) - np.sin(np.pi * x) / (np.pi * x)) / x


def test_sinc_slope_at_zero_near_zero_and_at_the_series_seam():
    x = np.array([0.0, 1e-8, -1e-3, 0.0999999, 0.1, 0.1000001, 0.5, 1.0, -2.5, 40.0])
    np.testing.assert_array_equal(np.sinc(Tensor(x)).data, np.sinc(x))
    (g,) = grad_of(np.sinc, x)
    assert g[0] == 0.0
    # references: the series' first terms where the closed form cancels even in longdouble,
    # the closed form in extended precision elsewhere
    tiny = np.abs(x) < 0.01
    series = -np.pi ** 2 * x / 3 + np.pi ** 4 * x ** 3 / 30
    with np.errstate(invalid="ignore", divide="ignore"):
        closed = _sinc_slope(x.astype(np.longdouble)).astype(float)
    np.testing.assert_allclose(g, np.where(tiny, series, closed), rtol=1e-12, atol=0)


def test_sinc_second_and_third_derivatives_at_zero():
    # sinc(x) = 1 - (pi x)^2 / 6 + ...: sinc''(0) = -pi^2 / 3, sinc'''(0) = 0
    x = Tensor([0.0], requires_grad=True)
    (g,) = __import__("autograd").grad(np.sinc(x).sum(), [x], create_graph=True)
    (h,) = __import__("autograd").grad(g.sum(), [x], create_graph=True)
    (t,) = __import__("autograd").grad(h.sum(), [x])
    np.testing.assert_allclose(h.data, [-np.pi ** 2 / 3], rtol=1e-14)
    np.testing.assert_allclose(t, [0.0], atol=1e-12)
    for point in ([0.0, 1e-3, -0.05], [0.0999, 0.1, 0.1001], [0.7, -1.3, 2.0]):
        assert gradgradcheck(np.sinc, Tensor(point, requires_grad=True))


@settings(max_examples=40, deadline=None)
@given(st.floats(-3, 3))
def test_sinc_gradient_matches_central_differences_anywhere(x):
    assert gradcheck(np.sinc, Tensor([x], requires_grad=True), atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("name", [*UNARY, "sinc"])
def test_float32_stays_float32(name):
    x = Tensor(np.array([0.25, -0.5], dtype=np.float32), requires_grad=True)
    if name == "arccosh":
        x = Tensor(np.array([1.25, 2.5], dtype=np.float32), requires_grad=True)
    out = getattr(np, name)(x)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("shape", [(), (0,), (1, 1), (2, 0, 3)])
def test_empty_and_zero_d_shapes(shape):
    for f in (np.tan, np.arctan, np.sinc, lambda t: np.arctan2(t, 2.0), lambda t: np.hypot(t, t)):
        x = Tensor(np.full(shape, 0.5), requires_grad=True)
        out = f(x)
        assert out.shape == shape
        out.sum().backward()
        assert x.grad.shape == shape


def test_tensor_methods_and_pytorch_spellings():
    x = Tensor([0.2, -0.4])
    for numpy_name, torch_name in [("arcsin", "asin"), ("arccos", "acos"), ("arctan", "atan"),
                                   ("arcsinh", "asinh"), ("arctanh", "atanh")]:
        np.testing.assert_array_equal(getattr(x, torch_name)().data,
                                      getattr(np, numpy_name)(x.data))
    np.testing.assert_array_equal(Tensor([1.5]).acosh().data, np.arccosh([1.5]))
    np.testing.assert_array_equal(x.atan2(0.3).data, np.arctan2(x.data, 0.3))
    np.testing.assert_array_equal(np.arctan2(0.3, x).data, np.arctan2(0.3, x.data))
    np.testing.assert_array_equal(x.hypot([1.0, 2.0]).data, np.hypot(x.data, [1.0, 2.0]))
