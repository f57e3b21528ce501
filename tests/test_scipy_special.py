"""autograd.scipy.special against scipy.special: values (with axis, keepdims, weights b, huge
and -inf inputs, empty axes), gradients by central differences and gradgradcheck, float32,
plain arrays in and out, and use under autograd.transforms."""

import numpy as np
import pytest

import autograd.scipy.special as sp
from autograd import Tensor, gradcheck, gradgradcheck
from autograd.transforms import grad

scipy_special = pytest.importorskip("scipy.special")

RNG = np.random.default_rng(0)
X = RNG.normal(size=(3, 4))
P = RNG.uniform(0.05, 0.95, size=(3, 4))


@pytest.mark.parametrize("kwargs", [{}, {"axis": 0}, {"axis": -1, "keepdims": True},
                                    {"axis": (0, 1)}, {"keepdims": True}])
def test_logsumexp_values_and_gradients(kwargs):
    np.testing.assert_allclose(sp.logsumexp(X, **kwargs), scipy_special.logsumexp(X, **kwargs),
                               rtol=1e-14)
    t = Tensor(X, requires_grad=True)
    assert gradcheck(lambda a: sp.logsumexp(a, **kwargs), t)
    assert gradgradcheck(lambda a: sp.logsumexp(a, **kwargs), t)


def test_logsumexp_with_weights_including_zeros_and_a_gradient_for_them():
    b = np.abs(RNG.normal(size=(3, 4)))
    b[0, 1] = 0.0
    for kwargs in ({}, {"axis": 1}):
        np.testing.assert_allclose(sp.logsumexp(X, b=b, **kwargs),
                                   scipy_special.logsumexp(X, b=b, **kwargs), rtol=1e-14)
    t, w = Tensor(X, requires_grad=True), Tensor(b + 0.1, requires_grad=True)
    assert gradcheck(lambda a, c: sp.logsumexp(a, axis=1, b=c), t, w)
    with pytest.raises(ValueError, match="logsumexp: the weights b must be >= 0"):
        sp.logsumexp(X, b=-b)
    with pytest.raises(NotImplementedError, match="return_sign"):
        sp.logsumexp(X, return_sign=True)


def test_logsumexp_of_huge_and_minus_infinite_values():
    x = np.array([[1000.0, 1000.0], [-np.inf, -np.inf], [-1000.0, 0.0]])
    np.testing.assert_array_equal(sp.logsumexp(x, axis=1), scipy_special.logsumexp(x, axis=1))
    assert sp.logsumexp(np.zeros((2, 0)), axis=1).tolist() == [-np.inf, -np.inf]


def test_expit_and_logit_are_inverse_and_match_scipy():
    x = np.array([-1000.0, -30.0, -1.0, 0.0, 2.0, 800.0])
    np.testing.assert_allclose(sp.expit(x), scipy_special.expit(x), rtol=1e-15)
    np.testing.assert_allclose(sp.logit(P), scipy_special.logit(P), rtol=1e-13)
    np.testing.assert_array_equal(sp.logit(np.array([0.0, 1.0])), [-np.inf, np.inf])
    np.testing.assert_allclose(grad(lambda p: np.sum(sp.logit(p)))(P), 1 / (P * (1 - P)),
                               rtol=1e-13)
    np.testing.assert_allclose(grad(lambda z: np.sum(sp.expit(z)))(x),
                               scipy_special.expit(x) * scipy_special.expit(-x), rtol=1e-14)
    t = Tensor(P, requires_grad=True)
    assert gradgradcheck(sp.logit, t) and gradgradcheck(sp.expit, Tensor(X, requires_grad=True))


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1)])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_and_log_softmax_with_scipys_axis_default(name, axis):
    ours, theirs = getattr(sp, name), getattr(scipy_special, name)
    np.testing.assert_allclose(ours(X, axis=axis), theirs(X, axis=axis), rtol=1e-13,
                               atol=1e-15)
    w = RNG.normal(size=X.shape)
    t = Tensor(X, requires_grad=True)
    assert gradcheck(lambda a: ours(a, axis=axis) * w, t)
    assert gradgradcheck(lambda a: ours(a, axis=axis) * w, t)


def test_plain_in_plain_out_tensor_in_tensor_out_float32_kept():
    assert type(sp.logsumexp(X)) is np.float64 and type(sp.softmax(X)) is np.ndarray
    t32 = Tensor(X.astype(np.float32), requires_grad=True)
    for out in (sp.logsumexp(t32, axis=0), sp.expit(t32), sp.softmax(t32), sp.log_softmax(t32),
                sp.logit(Tensor(P.astype(np.float32)))):
        assert isinstance(out, Tensor) and out.dtype == np.float32


def test_size_one_and_zero_d_inputs():
    np.testing.assert_allclose(sp.logsumexp(np.array(2.5)), 2.5)
    np.testing.assert_array_equal(sp.softmax(np.array([[3.0]]), axis=1), [[1.0]])
    np.testing.assert_allclose(sp.expit(0.0), 0.5)


@pytest.mark.parametrize("name", ["erf", "erfc"])
def test_erf_and_erfc_match_scipy_and_differentiate(name):
    # (not 27: erfc(27) = 5.2e-319 is subnormal; npgrad gives it, scipy 0)
    x = np.array([-30.0, -3.0, -0.5, 0.0, 1e-300, 0.7, 2.0, 10.0, 26.0])
    np.testing.assert_allclose(getattr(sp, name)(x), getattr(scipy_special, name)(x),
                               rtol=1e-13, atol=0)
    sign = 1 if name == "erf" else -1
    np.testing.assert_allclose(grad(lambda t: np.sum(getattr(sp, name)(t)))(x),
                               sign * 2 / np.sqrt(np.pi) * np.exp(-x * x), rtol=1e-14)
    t = Tensor(np.array([-1.2, 0.0, 0.4, 2.5]), requires_grad=True)
    assert gradgradcheck(getattr(sp, name), t)
