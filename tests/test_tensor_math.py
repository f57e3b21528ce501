"""autograd/tensor_math.py: the Tensor methods and numpy calls of the elementwise functions beyond
the basics reach their ops; real, imag and conj of real tensors; and numpy's *_like functions of
a Tensor return plain arrays, as numpy's do."""

import numpy as np
import pytest

from autograd import Tensor, gradcheck, ops

X = np.array([[0.25, -0.5, 0.75], [0.1, 0.0, -0.9]])


@pytest.mark.parametrize("name", ["tan", "sinh", "cosh", "arcsin", "arccos", "arctan", "arcsinh",
                                  "arctanh", "log2", "log10", "exp2", "sinc", "nan_to_num"])
def test_numpy_call_and_method_record_the_op(name):
    x = np.clip(X, 0.05, 0.95) if name.startswith(("arc", "log")) else X
    for out in (getattr(np, name)(Tensor(x, requires_grad=True)),
                getattr(Tensor(x, requires_grad=True), name)()):
        assert out.op is getattr(ops, name)
        np.testing.assert_array_equal(out.data, getattr(np, name)(x))


@pytest.mark.parametrize("function, op", [
    (np.arctan2, ops.arctan2), (np.hypot, ops.hypot), (np.logaddexp2, ops.logaddexp2),
    (np.fmax, ops.fmax), (np.fmin, ops.fmin), (np.remainder, ops.remainder),
    (np.mod, ops.remainder),
])
def test_two_operand_functions_record_the_op_either_side(function, op):
    y = np.array([0.3, -0.2, 1.5])  # no zeros: X % 0 is nan
    for out in (function(Tensor(X, requires_grad=True), y),
                function(X, Tensor(y, requires_grad=True))):
        assert out.op is op
    np.testing.assert_array_equal(function(Tensor(X), y).data, function(X, y))
    with np.errstate(invalid="ignore"):  # y % 0 is nan, in numpy too
        np.testing.assert_array_equal(function(y, Tensor(X)).data, function(y, X))


@pytest.mark.parametrize("function", [np.deg2rad, np.radians, np.rad2deg, np.degrees,
                                      np.reciprocal, np.cbrt])
def test_composites_and_aliases_give_numpys_values_to_the_last_bit(function):
    x = np.array([-720.0, 0.1, 3.0, 1e10, -1e-300, 45.0])
    np.testing.assert_array_equal(function(Tensor(x)).data, function(x))
    t = Tensor(np.array([0.1, 3.0, -45.0]), requires_grad=True)
    assert gradcheck(function, t)


def test_real_imag_conj_of_a_real_tensor():
    t = Tensor(X, requires_grad=True)
    assert np.real(t) is t and t.real is t
    assert np.conj(t) is t and np.conjugate(t) is t and t.conj() is t
    imag = np.imag(t)
    np.testing.assert_array_equal(imag.data, np.imag(X))
    assert not imag.requires_grad and imag.dtype == t.dtype
    (np.real(t) * 2 + np.imag(t)).sum().backward()
    np.testing.assert_array_equal(t.grad, np.full(X.shape, 2.0))
    t32 = Tensor(X.astype(np.float32))
    assert t32.imag.dtype == np.float32


@pytest.mark.parametrize("call", [
    lambda t: np.zeros_like(t), lambda t: np.ones_like(t), lambda t: np.empty_like(t),
    lambda t: np.full_like(t, 7.5), lambda t: np.zeros_like(t, dtype=np.int32),
    lambda t: np.full_like(t, 2, shape=(4,)),
])
def test_like_functions_return_plain_arrays_as_numpy(call):
    t = Tensor(X.astype(np.float32), requires_grad=True)
    got, expected = call(t), call(t.data)
    assert type(got) is np.ndarray
    assert got.dtype == expected.dtype and got.shape == expected.shape
    if "empty_like" not in call.__code__.co_names:  # empty_like's values are arbitrary
        np.testing.assert_array_equal(got, expected)
