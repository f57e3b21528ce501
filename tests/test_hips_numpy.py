"""Ported from HIPS/autograd tests/test_numpy.py, MIT (Copyright (c) 2014 by the Harvard
Intelligent Probabilistic Systems Group), at commit 027429f: numpy functions, indexing and
array methods on Tensors, gradients to second order with HIPS's check_grads and tolerances
(tests/hips_check.py).

Refused, as numpy gives them no dispatch hook: `np.array([...])`, `np.r_`/`np.c_` and
`np.int64(...)` of Tensors (numpy converts each item itself through Tensor.__array__, which
refuses a tensor that requires grad, as the graph would be lost). Their cases here assert the
refusal and the spelling it names (np.stack, np.copy, np.concatenate, np.column_stack,
t.data.astype), then run HIPS's check on the computation written with that spelling.
HIPS defines test_trace twice (the second, of np.split, hides the first); both run here.
HIPS's test_roll_no_axis passed axis=1; here it rolls without an axis, as its name says.
Left out: test_make_diagonal (np.make_diagonal is HIPS's own function, not numpy's; its other
half, np.diagonal, is test_diagonal). No case of this file needs complex numbers.
"""

import numpy as np
import pytest
from hips_check import check_grads, combo_check

from autograd import Tensor
from autograd.transforms import grad

npr = np.random.RandomState(1)


@pytest.fixture(autouse=True)
def _seed():
    npr.seed(1)


def refused(fun, *args, spelling):
    """fun on Tensors that require grad raises numpy's conversion refusal, naming `spelling`."""
    tensors = [Tensor(np.asarray(a, dtype=float), requires_grad=True) for a in args]
    with pytest.raises(TypeError, match="drop the graph") as info:
        fun(*tensors)
    assert spelling in str(info.value)


def same_on_arrays(fun, spelled, *args):
    """The spelling computes what HIPS's numpy code computes, on plain arrays."""
    np.testing.assert_array_equal(spelled(*args), fun(*args))


def test_dot():
    mat1, mat2 = npr.randn(10, 11), npr.randn(10, 11)
    vect1, vect2, vect3 = npr.randn(10), npr.randn(11), npr.randn(11)
    check_grads(np.dot, mat1, vect2)
    check_grads(np.dot, mat1, mat2.T)
    check_grads(np.dot, vect1, mat1)
    check_grads(np.dot, vect2, vect3)


def test_dot_with_floats():
    mat1, vect1, float1 = npr.randn(10, 11), npr.randn(10), npr.randn()
    check_grads(np.dot, mat1, float1)
    check_grads(np.dot, float1, mat1)
    check_grads(np.dot, vect1, float1)
    check_grads(np.dot, float1, vect1)


def test_outer():
    vect2, vect3 = npr.randn(11), npr.randn(11)
    check_grads(np.outer, vect2, vect3)
    check_grads(np.outer, vect2.T, vect3)
    check_grads(np.outer, vect2.T, vect3.T)


@pytest.mark.parametrize("fun", [np.max, np.min])
def test_max_min(fun):
    check_grads(fun, npr.randn(10, 11))
    check_grads(lambda x: fun(x, axis=1), npr.randn(3, 4, 5))
    check_grads(lambda x: fun(x, axis=1, keepdims=True), npr.randn(3, 4, 5))


def test_sum():
    check_grads(np.sum, npr.randn(10, 11))
    check_grads(lambda x: np.sum(x, axis=0), npr.randn(10, 11))
    check_grads(lambda x: np.sum(x, axis=0, keepdims=True), npr.randn(10, 11))
    check_grads(lambda x: np.sum(x, axis=(1, 2)), npr.randn(10, 11, 7))


def test_flipud():
    check_grads(np.flipud, npr.randn(10, 11))


def test_fliplr():
    check_grads(np.fliplr, npr.randn(10, 11))


def test_rot90():
    check_grads(np.rot90, npr.randn(10, 11))


@pytest.mark.parametrize(("shape", "axis"), [((10, 11), 0), ((10, 11), 1), ((10,), None),
                                             ((10, 11), None)],
                         ids=["axis0", "axis1", "1d", "no_axis"])
def test_cumsum(shape, axis):
    check_grads(lambda x: np.cumsum(x, axis=axis), npr.randn(*shape))


def test_non_numpy_sum():
    check_grads(lambda x, y: sum([x, y]), npr.randn(10, 11), npr.randn(10, 11))


def test_mean():
    check_grads(np.mean, npr.randn(10, 11))
    check_grads(lambda x: np.mean(x, axis=0), npr.randn(10, 11))
    check_grads(lambda x: np.mean(x, axis=0, keepdims=True), npr.randn(10, 11))


@pytest.mark.parametrize("index", [
    lambda x: x[3, 0, 1], lambda x: x[::-1, 2:4, :], lambda x: x[[0, 1, 2], :, :],
    lambda x: x[3, 2:, [1, 3]], lambda x: x[::-1, 2:4, :] + x[::-1, 3:5, :],
], ids=["ints", "slice", "lists", "mixed", "slice_fanout"])
def test_index(index):
    check_grads(index, npr.randn(5, 6, 4))


def test_vector_slice():
    check_grads(lambda x: x[2:4], npr.randn(5))


def test_index_multiple_slices():
    check_grads(lambda x: x[2:6][1:3], npr.randn(7))


@pytest.mark.parametrize("fun", [
    lambda x: x.reshape((5 * 4, 6)), lambda x: np.reshape(x, (5 * 4, 6)),
    lambda x: x.reshape(5 * 4, 6), lambda x: x.ravel(), np.ravel, lambda x: x.flatten(),
], ids=["reshape_method", "reshape_call", "reshape_method_nolist", "ravel_method",
        "ravel_call", "flatten_method"])
def test_reshape(fun):
    check_grads(fun, npr.randn(5, 6, 4))


def test_simple_append_list():
    check_grads(np.append, [1.0, 2.0, 3.0], 4.0)


def test_simple_append_arr():
    check_grads(np.append, np.array([1.0, 2.0, 3.0]), 4.0)


def test_simple_concatenate():
    a = npr.randn(5, 6, 4)
    check_grads(lambda x: np.concatenate((a, x)), npr.randn(4, 6, 4))


def test_concatenate_axes():
    b = npr.randn(5, 6, 4)
    check_grads(lambda x: np.concatenate((b, x, b)), npr.randn(5, 6, 4))
    check_grads(lambda x: np.concatenate((b, x, b), axis=1), npr.randn(5, 6, 4))
    check_grads(lambda x: np.concatenate((b, x, b), 1), npr.randn(5, 6, 4))  # axis unnamed


def test_trace():
    mat = npr.randn(10, 11)
    offset = npr.randint(-9, 11)
    check_grads(lambda x: np.trace(x, offset=offset), mat)


def test_trace2():
    mat = npr.randn(11, 10)
    offset = npr.randint(-9, 11)
    check_grads(lambda x: np.trace(x, offset=offset), mat)


def test_split():
    check_grads(lambda x: np.split(x, 2)[0], npr.randn(10))


def test_trace_extradims():
    mat = npr.randn(5, 6, 4, 3)
    offset = npr.randint(-5, 6)
    check_grads(lambda x: np.trace(x, offset=offset), mat)


def test_diag():
    check_grads(np.diag, npr.randn(10, 10))


def test_transpose():
    check_grads(lambda x: x.T, npr.randn(8, 8))


def test_roll():
    check_grads(lambda x: np.roll(x, 2, axis=1), npr.randn(4, 5))


def test_roll_no_axis():
    check_grads(lambda x: np.roll(x, 2), npr.randn(4, 5))


def test_triu_tril():
    check_grads(lambda x: np.triu(x, k=2), npr.randn(5, 5))
    check_grads(lambda x: np.tril(x, k=2), npr.randn(5, 5))


def test_clip():
    check_grads(lambda x: np.clip(x, a_min=0.1, a_max=1.1), npr.randn(5, 5))


def test_prod():
    check_grads(np.prod, npr.randn(2, 3) ** 2 / 10.0 + 0.1)  # unstable with zeros present
    check_grads(lambda x: np.prod(x, axis=0), npr.randn(2, 3) ** 2 + 0.1)
    check_grads(lambda x: np.prod(x, axis=0, keepdims=True), npr.randn(2, 3) ** 2 + 0.1)
    check_grads(np.prod, npr.randn(7) ** 2 + 0.1)


ARRAYS = {  # HIPS's np.array call, and the same array built with np.stack (or np.copy)
    "1d_array": (lambda x: np.array([x, x * 1.0, x + 2.5]),
                 lambda x: np.stack([x, x * 1.0, x + 2.5])),
    "2d_array": (lambda x: np.array([[x, x * 1.0, x + 2.5], [x**2, x, x / 2.0]]),
                 lambda x: np.stack([np.stack([x, x * 1.0, x + 2.5]),
                                     np.stack([x**2, x, x / 2.0])])),
    "1d_array_fanout": (lambda x: np.array([x, x * 1.0, x + 2.5]) * 2,
                        lambda x: np.stack([x, x * 1.0, x + 2.5]) * 2),
    "2d_array_fanout": (lambda x: np.array([[x, x * 1.0, x + 2.5], [x**2, x, x / 2.0]]) * 2,
                        lambda x: np.stack([np.stack([x, x * 1.0, x + 2.5]),
                                            np.stack([x**2, x, x / 2.0])]) * 2),
    "array_from_scalar": (lambda x: np.array(x), np.copy),
}


@pytest.mark.parametrize("name", list(ARRAYS))
def test_array_of_scalars(name):
    fun, spelled = ARRAYS[name]
    refused(fun, 3.0, spelling="np.copy(t)" if name == "array_from_scalar" else "np.stack([a, b])")
    same_on_arrays(fun, spelled, np.float64(3.0))
    check_grads(spelled, 3.0)


@pytest.mark.parametrize(("fun", "spelled"), [
    (lambda x: np.array([x, x]), lambda x: np.stack([x, x])),
    (lambda x: np.array([[2 * x, x + 1], [x, x]]),
     lambda x: np.stack([np.stack([2 * x, x + 1]), np.stack([x, x])])),
], ids=["array_from_arrays", "array_from_arrays_2"])
def test_array_from_arrays(fun, spelled):
    x = npr.randn(3, 2)
    refused(fun, x, spelling="np.stack([a, b])")
    same_on_arrays(fun, spelled, x)
    check_grads(spelled, x)


def test_len():
    def fun(x):
        assert len(x) == 3
        return x
    check_grads(fun, npr.randn(3, 2))


def test_no_relation():
    c = npr.randn(3, 2)
    check_grads(lambda x: c, npr.randn(3, 2))


R_ = "np.concatenate([a, b])"
C_ = "np.column_stack([a, b])"


@pytest.mark.parametrize(("build", "spelled", "spelling"), [
    (lambda x, c: np.r_[x], lambda x, c: np.concatenate([x]), R_),
    (lambda x, c: np.r_[x, x], lambda x, c: np.concatenate([x, x]), R_),
    (lambda x, c: np.r_[x, c], lambda x, c: np.concatenate([x, c]), R_),
    (lambda x, c: np.r_[x, c, x], lambda x, c: np.concatenate([x, c, x]), R_),
    (lambda x, c: np.c_[x, c, x], lambda x, c: np.column_stack([x, c, x]), C_),
], ids=["r_basic", "r_double", "r_node_and_const", "r_mixed", "c_"])
def test_index_tricks(build, spelled, spelling):
    c, x = npr.randn(3, 2), npr.randn(3, 2)
    refused(lambda t: build(t, c), x, spelling=spelling)
    same_on_arrays(build, spelled, x, c)
    check_grads(lambda t: spelled(t, c), x)


def test_c_mixed():
    c, x = npr.randn(3, 2), npr.randn(3, 2)
    refused(lambda t: np.c_[t, c, t], x, spelling=C_)
    same_on_arrays(lambda u: np.c_[u, c, u], lambda u: np.column_stack([u, c, u]), x)
    check_grads(lambda t: np.column_stack([t, c, t]), x)


def test_r_no_relation():
    c = npr.randn(3, 2)
    check_grads(lambda x: np.r_[c], npr.randn(3, 2))


def test_r_slicing():
    c, x = npr.randn(10), npr.randn(10)
    refused(lambda t: np.r_[t, c, 1:10], x, spelling=R_)
    same_on_arrays(lambda u: np.r_[u, c, 1:10],
                   lambda u: np.concatenate([u, c, np.arange(1, 10)]), x)
    check_grads(lambda t: np.concatenate([t, c, np.arange(1, 10)]), x)


@pytest.mark.parametrize("fun", [np.var, np.std])
def test_ddof(fun):
    b, c, d = npr.randn(3), npr.randn(3, 4), npr.randn(1, 3)
    combo_check(fun, (0,), [b, c, d], axis=[None], keepdims=[True, False], ddof=[0, 1])
    combo_check(fun, (0,), [c, d], axis=[None, 1], keepdims=[True, False], ddof=[2])


def test_where():
    c = npr.randn(4, 5) > 0
    check_grads(lambda x, y: np.where(c, x, y), npr.randn(4, 5), npr.randn(4, 5))


def test_squeeze():
    check_grads(np.squeeze, npr.randn(5, 1, 4))
    check_grads(lambda x: x.squeeze(), npr.randn(5, 1, 4))


@pytest.mark.parametrize(("shape", "repeats", "axis"), [
    ((5, 3, 4), 2, 1), ((5, 3, 4), 1, 1), ((5, 3), 2, 0), ((5,), 2, 0), ((5, 1), 1, 0),
], ids=["repeat", "axis1_rep1", "axis0", "1d_axis0", "axis0_rep1"])
def test_repeat(shape, repeats, axis):
    check_grads(lambda x: np.repeat(x, repeats, axis=axis), npr.randn(*shape))


def test_expand_dims():
    check_grads(lambda x: np.expand_dims(x, 2), npr.randn(5, 1, 4))


def test_tensordot_kwargs_by_position():
    def fun(x):
        return np.tensordot(x * np.ones((2, 2)), x * np.ones((2, 2)), 2)
    assert grad(fun)(1.0) == pytest.approx(8.0)  # fun(x) = 4 x^2


def test_multi_index():
    check_grads(lambda x: np.sum(x[[0, 0]]), npr.randn(3))
    check_grads(lambda x: np.sum(x[[0, 1, 0]]), npr.randn(3))


def test_index_dot_slices():
    check_grads(lambda x: np.dot(x[:2], x[2:]), npr.randn(4))


def test_cast_to_int():
    inds = np.ones(5)[:, None]

    def fun(w, cast):
        np.concatenate((w, inds), axis=1)
        new_w, new_inds = w[:, :-1], cast(w[:, -1])
        assert new_inds.dtype == np.int64
        return new_w[new_inds].sum()

    w = np.random.randn(5, 10)
    refused(lambda t: fun(t, np.int64), w, spelling="t.data.astype(np.int64)")
    check_grads(lambda t: fun(t, lambda u: u.data.astype(np.int64)), w)


def test_diagonal():
    check_grads(lambda d: np.diagonal(d, axis1=-1, axis2=-2), npr.randn(4, 4))
    check_grads(lambda d: np.diagonal(d, axis1=-1, axis2=-2), npr.randn(3, 4, 4))


def test_nan_to_num():
    y = np.array([0.0, np.nan, np.inf, -np.inf])
    check_grads(lambda x: np.sum(np.sin(np.nan_to_num(x + y))), npr.randn(4))


TIES = {
    "max_equal_values": (lambda build, x: np.max(build([x, x])), [1.0]),
    "max_equal_values_2d": (lambda build, x: np.max(build([build([x, x]), build([x, 0.5])]),
                                                    axis=1), [1.0, -1.0]),
    "min_3_way_equality": (lambda build, x: np.min(build([
        build([x, x, x]), build([x, 0.5, 0.5]), build([0.5, 0.5, 0.5]), build([x, x, 0.5])]),
        axis=0), [1.0, -1.0]),
    "maximum_equal_values_2d": (lambda build, x: np.maximum(
        build([x, x, 0.5]), build([build([x, 0.5, x]), build([x, x, 0.5])])), [1.0, -1.0, 2.0]),
}


def _stack(items):
    """np.stack of a row that may mix Tensors and numbers (the numbers as 0-d arrays)."""
    return np.stack([item if hasattr(item, "shape") else np.asarray(item) for item in items])


@pytest.mark.parametrize("name", list(TIES))
def test_ties_with_stack(name):
    fun, points = TIES[name]
    for x in points:
        check_grads(lambda t: fun(_stack, t), x)


@pytest.mark.parametrize("name", list(TIES))
def test_ties_with_np_array_are_refused_naming_np_stack(name):
    fun, points = TIES[name]
    for x in points:
        refused(lambda t: fun(np.array, t), x, spelling="np.stack([a, b])")
        same_on_arrays(lambda u: fun(np.array, u), lambda u: fun(_stack, u), np.float64(x))


def test_maximum_equal_values():
    check_grads(lambda x: np.maximum(x, x), 1.0)


@pytest.mark.parametrize("num", [0, 1, 5])
def test_linspace(num):
    for start, stop in [(1.2, 3.4), (1.2, -3.4), (1.2, 1.2)]:
        check_grads(lambda x, y: np.linspace(x, y, num), start, stop)


def test_astype():
    x = np.arange(3, dtype="float32")
    g = grad(lambda x: np.sum(np.sin(x.astype("float64"))))(x)
    assert g.dtype == np.dtype("float32")
    np.testing.assert_allclose(g, np.cos(x), rtol=1e-6)
