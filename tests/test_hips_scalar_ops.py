"""Ported from HIPS/autograd tests/test_scalar_ops.py, MIT (Copyright (c) 2014 by the Harvard
Intelligent Probabilistic Systems Group), at commit cbf5c42: every scalar function at HIPS's
points, `fun` and its derivative `grad(fun)` (autograd.transforms.grad) both checked with
HIPS's check_grads and tolerances (tests/hips_check.py), so up to third derivatives.
Not checked, as in HIPS: grad(abs) at the kink 0. No case of this file needs complex numbers.
"""

import numpy as np
import pytest
from hips_check import check_grads

from autograd.transforms import grad

npr = np.random.RandomState(1)


@pytest.fixture(autouse=True)
def _seed():
    npr.seed(1)


def randn():
    return npr.randn()


def rand():
    return npr.rand()


def positive():
    return abs(npr.randn())


def ten_rand():
    return 10.0 * npr.rand()


def const(value):
    return lambda: value


# name: (fun, where fun is checked, where grad(fun) is checked); the points as HIPS draws them
CASES = {
    "sin": (lambda x: 3.0 * np.sin(x), randn, randn),
    "exp": (lambda x: 3.0 * np.exp(x), randn, randn),
    "log": (lambda x: 3.0 * np.log(x), positive, positive),
    "log2": (lambda x: 3.0 * np.log2(x), positive, positive),
    "log10": (lambda x: 3.0 * np.log10(x), positive, positive),
    "log1p": (lambda x: 3.0 * np.log1p(x), positive, positive),
    "expm1": (lambda x: 3.0 * np.expm1(x), positive, positive),
    "exp2": (lambda x: 3.0 * np.exp2(x), positive, positive),
    "neg": (lambda x: 3.0 * -x, randn, randn),
    "cos": (lambda x: 3.0 * np.cos(x), randn, randn),
    "tan": (lambda x: 3.0 * np.tan(x), randn, randn),
    "cosh": (lambda x: 3.0 * np.cosh(x), randn, randn),
    "sinh": (lambda x: 3.0 * np.sinh(x), randn, randn),
    "tanh": (lambda x: 3.0 * np.tanh(x), randn, randn),
    "arccos": (lambda x: 3.0 * np.arccos(x), const(0.1), const(0.2)),
    "arcsin": (lambda x: 3.0 * np.arcsin(x), const(0.1), const(0.2)),
    "arctan": (lambda x: 3.0 * np.arctan(x), const(0.2), const(0.3)),
    "arccosh": (lambda x: 3.0 * np.arccosh(x), lambda: npr.randn() ** 2 + 1,
                lambda: npr.randn() ** 2 + 1),
    "arcsinh": (lambda x: 3.0 * np.arcsinh(x), randn, randn),
    "arctanh": (lambda x: 3.0 * np.arctanh(x), const(0.2), const(0.3)),
    "sqrt": (lambda x: 3.0 * np.sqrt(x), ten_rand, ten_rand),
    "reciprocal": (np.reciprocal, rand, rand),
    "negative": (np.negative, rand, rand),
    "rad2deg": (lambda x: 3.0 * np.rad2deg(x), ten_rand, ten_rand),
    "deg2rad": (lambda x: 3.0 * np.deg2rad(x), ten_rand, ten_rand),
    "radians": (lambda x: 3.0 * np.radians(x), ten_rand, ten_rand),
    "degrees": (lambda x: 3.0 * np.degrees(x), ten_rand, ten_rand),
    "sinc": (lambda x: 3.0 * np.sinc(x), ten_rand, ten_rand),
}


@pytest.mark.parametrize("name", list(CASES))
def test_unary(name):
    fun, point, grad_point = CASES[name]
    check_grads(fun, point())
    check_grads(grad(fun), grad_point())


def test_abs():
    fun = lambda x: 3.0 * np.abs(x)  # noqa: E731
    for x in (1.1, -1.1):
        check_grads(fun, x)
        check_grads(grad(fun), x)
    # at the kink, to first order only: the central difference is 0, so must the gradient be
    check_grads(fun, 0.0, order=1)


def test_sign():
    fun = lambda x: 3.0 * np.sign(x)  # noqa: E731
    for x in (1.1, -1.1):
        check_grads(fun, x)
        check_grads(grad(fun), x)


def test_power_arg0():
    # the +1.'s avoid the regimes where numerical differences fail
    y = npr.randn() ** 2 + 1.0
    fun = lambda x: np.power(x, y)  # noqa: E731
    check_grads(fun, npr.rand() ** 2 + 1.0)
    check_grads(grad(fun), npr.rand() ** 2 + 1.0)


def test_power_arg0_zero_exponent():
    # y == 0 as a special case (HIPS issue #116): x**0 is 1, its derivatives 0, even at x = 0
    fun = lambda x: np.power(x, 0.0)  # noqa: E731
    assert grad(fun)(0.0) == 0.0
    assert grad(grad(fun))(0.0) == 0.0


def test_power_arg1():
    x = npr.randn() ** 2
    fun = lambda y: np.power(x, y)  # noqa: E731
    check_grads(fun, npr.rand() ** 2)
    check_grads(grad(fun), npr.rand() ** 2)


def test_power_arg1_zero():
    fun = lambda y: np.power(0.0, y)  # noqa: E731
    check_grads(fun, npr.rand() ** 2)
    check_grads(grad(fun), npr.rand() ** 2)


@pytest.mark.parametrize("fun", [np.mod, np.divide, np.multiply, np.true_divide],
                         ids=lambda f: f.__name__)
@pytest.mark.parametrize("argnum", [0, 1])
def test_binary(fun, argnum):
    check_grads(fun, npr.rand(), npr.rand())
    check_grads(grad(fun, argnum), npr.rand(), npr.rand())
