"""autograd/ops/piecewise.py and bases.py at their seams: fmax and fmin with nan and ties,
remainder (`%`) with signs, zeros and its discontinuities, nan_to_num, and the base-2 and
base-10 logs and exponentials, cbrt and reciprocal at 0, inf and in float32."""

import numpy as np
import pytest

from autograd import Tensor, gradcheck, gradgradcheck

NAN = np.nan


def grads(fn, *arrays):
    xs = [Tensor(np.asarray(a, dtype=float), requires_grad=True) for a in arrays]
    out = fn(*xs)
    out.backward(np.ones(out.shape))
    return out.data, [x.grad for x in xs]


@pytest.mark.parametrize("name", ["fmax", "fmin"])
def test_fmax_fmin_skip_nan_as_numpy_and_route_the_gradient_to_the_pick(name):
    x = np.array([1.0, NAN, 2.0, NAN, 3.0, -1.0])
    y = np.array([NAN, 1.0, 2.0, NAN, -3.0, 5.0])
    out, (gx, gy) = grads(getattr(np, name), x, y)
    np.testing.assert_array_equal(out, getattr(np, name)(x, y))
    picks_x = {"fmax": [1, 0, 1, 1, 1, 0], "fmin": [1, 0, 1, 1, 0, 1]}[name]
    np.testing.assert_array_equal(gx, picks_x)  # ties: all to x, as PyTorch's fmax/fmin
    np.testing.assert_array_equal(gy, 1 - np.array(picks_x))


def test_fmax_broadcasts_and_second_order():
    x = Tensor(np.array([[0.3, -1.2], [2.0, 0.1]]), requires_grad=True)
    y = Tensor(np.array([0.5, -2.0]), requires_grad=True)
    f = lambda a, b: np.fmax(a, b) * np.fmin(a, b)  # noqa: E731
    assert gradcheck(f, x, y) and gradgradcheck(f, x, y)


def test_remainder_values_signs_and_gradients_as_pytorch():
    x = np.array([5.5, -5.5, 5.5, -5.5, 0.0, 7.0, 2.5])
    y = np.array([2.0, 2.0, -2.0, -2.0, 3.0, 3.5, 0.75])
    out, (gx, gy) = grads(lambda a, b: a % b, x, y)
    np.testing.assert_array_equal(out, np.remainder(x, y))
    np.testing.assert_array_equal(gx, np.ones_like(x))
    np.testing.assert_array_equal(gy, -np.floor(x / y))
    np.testing.assert_array_equal((3.0 % Tensor(y)).data, 3.0 % y)
    np.testing.assert_array_equal(np.mod(Tensor(x), 2.0).data, np.mod(x, 2.0))
    np.testing.assert_array_equal(Tensor(x).remainder(y).data, np.remainder(x, y))


def test_remainder_second_order_away_from_the_jumps():
    x = Tensor([0.7, -1.3, 2.5], requires_grad=True)
    y = Tensor([1.5, 0.9, -1.1], requires_grad=True)
    f = lambda a, b: (a % b) * (a % b)  # noqa: E731
    assert gradcheck(f, x, y) and gradgradcheck(f, x, y)


def test_remainder_by_zero_is_nan_as_numpy():
    with np.errstate(invalid="ignore", divide="ignore"):
        out, (gx, gy) = grads(np.remainder, [1.0], [0.0])
    assert np.isnan(out).all() and gx[0] == 1.0


def test_nan_to_num_values_and_no_gradient_to_replaced_elements():
    x = np.array([NAN, np.inf, -np.inf, 2.0, -0.0])
    out, (g,) = grads(lambda t: np.nan_to_num(t, nan=-1.0, posinf=9.0), x)
    np.testing.assert_array_equal(out, np.nan_to_num(x, nan=-1.0, posinf=9.0))
    np.testing.assert_array_equal(g, [0, 0, 0, 1, 1])
    out, _ = grads(np.nan_to_num, x)
    np.testing.assert_array_equal(out, np.nan_to_num(x))
    x32 = Tensor(np.array([NAN, 1.0], dtype=np.float32), requires_grad=True)
    assert x32.nan_to_num().dtype == np.float32


BASES = {  # name -> (closed-form derivative, points)
    "log2": (lambda x: 1 / (x * np.log(2)), [1e-300, 0.5, 1.0, 8.0, 1e300]),
    "log10": (lambda x: 1 / (x * np.log(10)), [1e-300, 0.5, 1.0, 100.0, 1e300]),
    "exp2": (lambda x: np.exp2(x) * np.log(2), [-1000.0, -1.0, 0.0, 3.0, 10.0]),
    "cbrt": (lambda x: 1 / (3 * np.cbrt(x) ** 2), [-27.0, -1e-3, 1e-3, 8.0, 1e30]),
    "reciprocal": (lambda x: -1 / (x * x), [-4.0, -1e-3, 0.5, 2.0, 1e100]),
    "deg2rad": (lambda x: np.full_like(x, np.pi / 180), [-720.0, 0.0, 45.0, 1e10, 3.0]),
    "rad2deg": (lambda x: np.full_like(x, 180 / np.pi), [-7.0, 0.0, 0.25, 1e10, 3.0]),
}


@pytest.mark.parametrize("name", BASES)
def test_bases_values_exactly_numpys_and_closed_form_gradients(name):
    slope, points = BASES[name]
    x = np.array(points)
    out, (g,) = grads(getattr(np, name), x)
    np.testing.assert_array_equal(out, getattr(np, name)(x))
    np.testing.assert_allclose(g, slope(x), rtol=1e-14)
    np.testing.assert_array_equal(getattr(np, name)(Tensor(x)).data, getattr(np, name)(x))
    inner = Tensor(np.array([0.4, 1.7, 2.5]), requires_grad=True)
    assert gradcheck(getattr(np, name), inner) and gradgradcheck(getattr(np, name), inner)


def test_slopes_at_zero_and_infinity():
    with np.errstate(divide="ignore"):
        _, (g,) = grads(np.cbrt, [0.0])
        assert g[0] == np.inf
        _, (g,) = grads(np.log2, [0.0])
        assert g[0] == np.inf
    _, (g,) = grads(np.exp2, [-np.inf, -1100.0])  # 2^-1100 underflows to 0
    np.testing.assert_array_equal(g, [0.0, 0.0])


def test_logaddexp2_values_huge_inputs_and_gradients():
    x = np.array([0.0, 1000.0, -1000.0, 3.0, -np.inf])
    y = np.array([0.0, 999.0, -1000.0, -2.0, 1.0])
    out, (gx, gy) = grads(np.logaddexp2, x, y)
    np.testing.assert_array_equal(out, np.logaddexp2(x, y))
    wx = 1 / (1 + np.exp2(y - x))
    np.testing.assert_allclose(gx, wx, rtol=1e-12)  # out is rounded: 1000 ulp at 1000
    np.testing.assert_allclose(gy, 1 - wx, rtol=1e-12)
    a, b = Tensor([0.3, -2.0], requires_grad=True), Tensor([1.5], requires_grad=True)
    assert gradcheck(np.logaddexp2, a, b) and gradgradcheck(np.logaddexp2, a, b)


@pytest.mark.parametrize("name", [*BASES, "fmax", "remainder", "logaddexp2"])
def test_float32_stays_float32(name):
    x = Tensor(np.array([0.5, 2.0], dtype=np.float32), requires_grad=True)
    f = getattr(np, name)
    out = f(x, 0.75) if name in ("fmax", "remainder", "logaddexp2") else f(x)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32
