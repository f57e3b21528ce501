"""Ported from HIPS/autograd tests/test_wrappers.py, MIT (Copyright (c) 2014 by the Harvard
Intelligent Probabilistic Systems Group), at commit 1e1b39f: the function transforms
(autograd.transforms) against closed forms, against each other and against central differences.

HIPS's names map to npgrad's: multigrad(f, argnums) is grad(f, argnum=tuple);
hessian_vector_product is hvp; vector_jacobian_product(f)(a, v) is vjp(f, a)[1](v)[0]; HIPS's
numerical derivative `nd` is the central difference `central` below. HIPS's tensor-Jacobian
case contracted a (5, 4) cotangent with a (5, 4, 3) output; here the cotangent has the
output's shape. Left out: test_deprecated_defgrad_wrapper (HIPS's `primitive`/`defgrad`
registration API, which npgrad does not have: its primitives are Op rows in autograd/ops/).
No case of this file needs complex numbers.
"""

from functools import partial

import numpy as np
import pytest

from autograd.transforms import elementwise_grad, grad, hessian, hvp, jacobian, value_and_grad, vjp

npr = np.random.RandomState(1)
EPS = 1e-6


@pytest.fixture(autouse=True)
def _seed():
    npr.seed(1)


def central(fun, *args):
    """The central-difference partial derivatives of a scalar function of scalars."""
    return tuple((fun(*args[:i], x + EPS / 2, *args[i + 1:])
                  - fun(*args[:i], x - EPS / 2, *args[i + 1:])) / EPS
                 for i, x in enumerate(args))


def test_return_both():
    fun = lambda x: 3.0 * x**3.2  # noqa: E731
    f, d = value_and_grad(fun)(1.7)
    assert f == fun(1.7)
    assert d == grad(fun)(1.7)
    assert d == pytest.approx(3.0 * 3.2 * 1.7**2.2, rel=1e-14)


def test_value_and_grad():
    fun = lambda x: np.sum(np.sin(x) ** 2)  # noqa: E731
    x = npr.randn(5)
    value, gradient = value_and_grad(fun)(x)
    np.testing.assert_allclose(value, fun(x))
    np.testing.assert_allclose(gradient, grad(fun)(x))
    np.testing.assert_allclose(gradient, 2 * np.sin(x) * np.cos(x))


def test_hessian():
    # the Hessian of a quadratic form
    h = npr.randn(5, 5)
    np.testing.assert_allclose(hessian(lambda x: np.dot(np.dot(x, h), x))(npr.randn(5)), h + h.T)


def test_multigrad():
    def complicated_fun(a, b, c, d, e, f=1.1, g=9.0):
        return a + np.sin(b) + np.cosh(c) + np.cos(d) + np.tan(e) + f + g

    a, b, c, d, e, f, g = 0.5, -0.3, 0.2, -1.1, 0.7, 0.6, -0.1
    exact = grad(complicated_fun, argnum=(3, 1))(a, b, c, d, e, f=f, g=g)
    numeric = central(lambda d, b: complicated_fun(a, b, c, d, e, f=f, g=g), d, b)
    np.testing.assert_allclose(exact, numeric, rtol=1e-6)


def test_multigrad_onearg():
    fun = lambda x, y: np.sum(x + np.sin(y))  # noqa: E731
    packed_fun = lambda xy: np.sum(xy[0] + np.sin(xy[1]))  # noqa: E731
    a, b = npr.randn(3), npr.randn(3)
    separate, packed = grad(fun, argnum=(0, 1))(a, b), grad(packed_fun)((a, b))
    for s, p in zip(separate, packed):
        np.testing.assert_allclose(s, p)


def test_elementwise_grad():
    def simple_fun(a):
        return a + np.sin(a) + np.cosh(a)

    a = npr.randn(10)
    numeric = np.array([central(simple_fun, x)[0] for x in a])
    np.testing.assert_allclose(elementwise_grad(simple_fun)(a), numeric, rtol=1e-6)


def test_elementwise_grad_multiple_args():
    def simple_fun(a, b):
        return a + np.sin(a) + np.cosh(b)

    a, b = 0.9, npr.randn(10)
    numeric = np.array([central(simple_fun, a, x)[1] for x in b])
    np.testing.assert_allclose(elementwise_grad(simple_fun, argnum=1)(a, b), numeric, rtol=1e-6)


@pytest.mark.parametrize("shape", [(5,), (5, 4), (5, 4, 3)], ids=["vector", "matrix", "tensor"])
def test_hessian_tensor_product(shape):
    fun = lambda a: np.sum(np.sin(a))  # noqa: E731
    a, v = npr.randn(*shape), npr.randn(*shape)
    expected = np.tensordot(hessian(fun)(a), v, axes=v.ndim)
    np.testing.assert_allclose(hvp(fun)(a, v), expected)
    np.testing.assert_allclose(expected, -np.sin(a) * v)  # the Hessian is diag(-sin a)


@pytest.mark.parametrize("shape", [(5,), (5, 4), (5, 4, 3)], ids=["vector", "matrix", "tensor"])
def test_tensor_jacobian_product(shape):
    # np.roll makes the Jacobian asymmetric
    fun = lambda a: np.roll(np.sin(a), 1)  # noqa: E731
    a, v = npr.randn(*shape), npr.randn(*shape)
    expected = np.tensordot(v, jacobian(fun)(a), axes=v.ndim)
    np.testing.assert_allclose(vjp(fun, a)[1](v)[0], expected)


def test_partial():
    def f(x, y):
        return x

    g = grad(partial(f, y=1))
    assert g(2.0) == 1.0


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_dtypes(dtype):
    y = np.random.randn(10, 10).astype(dtype)
    g = grad(lambda x: np.sum(x**2))(y)
    assert g.dtype.type is dtype
    np.testing.assert_allclose(g, 2 * y)
