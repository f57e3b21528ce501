"""The Tensor surface for custom networks (issue 10): the methods added for it, on
hypothesis-drawn shapes (0-d and size-1 included) against numpy and float64 central differences,
float32 kept, and the edges the issue names: zeros in prod, the zero vector's norm, softplus at
+-1000, which GELU.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from test_tensor import POSITIVE, leaf

from autograd import Tensor, gradcheck

SURFACE = settings(max_examples=30, deadline=None)
ANY_SHAPE = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
GELU_C = math.sqrt(2 / math.pi)


UNIT = st.floats(-2.0, 2.0)


def values(shape, elements=UNIT):
    return hnp.arrays(np.float64, shape, elements=elements)


def distinct(shape):
    """Values 0.1 apart at least, so no tie of min or max flips under a finite difference."""
    n = math.prod(shape)
    return st.permutations(range(n)).map(lambda p: (np.array(p, float) - n / 2).reshape(shape) / 10)


def axes(data, ndim):
    """None, an int or a tuple of axes of an ndim-dimensional array (negative ones too)."""
    choices = [st.none(), hnp.valid_tuple_axes(ndim)]
    if ndim:
        choices.append(st.integers(-ndim, ndim - 1))
    return data.draw(st.one_of(choices), label="axis")


def check_method(fn, ref, x):
    """fn(Tensor) equals ref(array); its gradient matches central differences, shaped like x."""
    t = leaf(x)
    out = fn(t)
    np.testing.assert_allclose(out.data, ref(x), rtol=1e-12, atol=1e-12)
    weights = np.random.default_rng(0).normal(size=out.shape)
    assert gradcheck(lambda t: fn(t) * weights, leaf(x))
    out.backward(np.ones(out.shape))
    assert t.grad.shape == t.shape


@SURFACE
@given(data=st.data(), shape=ANY_SHAPE, keepdims=st.booleans())
def test_min_over_any_axes(data, shape, keepdims):
    axis = axes(data, len(shape))
    check_method(lambda t: t.min(axis=axis, keepdims=keepdims),
                 lambda a: a.min(axis=axis, keepdims=keepdims), data.draw(distinct(shape)))


# Zeros, several of them, and +-1: prod is linear in each element, so central differences are
# exact at zeros too, and the gradient there must be the product of the others (no 0/0).
WITH_ZEROS = st.sampled_from([0.0, 0.0, 1.0, -1.0, 0.5, -1.5, 2.0])


@SURFACE
@given(data=st.data(), shape=ANY_SHAPE, keepdims=st.booleans())
def test_prod_over_any_axes_with_zeros(data, shape, keepdims):
    axis = axes(data, len(shape))
    x = data.draw(values(shape, WITH_ZEROS), label="x")
    check_method(lambda t: t.prod(axis=axis, keepdims=keepdims),
                 lambda a: a.prod(axis=axis, keepdims=keepdims), x)


def test_prod_gradient_is_the_product_of_the_others_at_one_and_two_zeros():
    for x, expected in (([0.0, 2.0, 3.0], [6.0, 0.0, 0.0]), ([0.0, 2.0, 0.0], [0.0, 0.0, 0.0]),
                        ([4.0, 2.0, 3.0], [6.0, 12.0, 8.0])):
        t = leaf(x)
        t.prod().backward()
        np.testing.assert_array_equal(t.grad, expected)


def reduced_count(shape, axis):
    picked = range(len(shape)) if axis is None else [axis] if isinstance(axis, int) else axis
    return math.prod(shape[a] for a in picked)


@pytest.mark.parametrize("name", ["var", "std"])
@SURFACE
@given(data=st.data(), shape=ANY_SHAPE, keepdims=st.booleans(), ddof=st.integers(0, 1))
def test_var_and_std_over_any_axes(name, data, shape, keepdims, ddof):
    axis = axes(data, len(shape))
    # std's derivative is infinite where the variance is 0: a single element, for instance
    needed = ddof + (2 if name == "std" else 1)
    if reduced_count(shape, axis) < needed:
        return
    check_method(lambda t: getattr(t, name)(axis=axis, ddof=ddof, keepdims=keepdims),
                 lambda a: getattr(np, name)(a, axis=axis, ddof=ddof, keepdims=keepdims),
                 data.draw(distinct(shape), label="x"))


def test_var_with_too_few_elements_is_nan_without_a_warning():
    with np.errstate(all="raise"):
        assert np.isnan(Tensor([1.0]).var(ddof=1).item())
        assert np.isnan(Tensor(np.ones((2, 0))).var(axis=1).data).all()
    assert Tensor([3.0]).var().item() == 0.0


def test_std_of_equal_values_has_a_zero_gradient_without_a_warning():
    x = leaf([[2.0, 2.0, 2.0], [1.0, 2.0, 3.0]])
    with np.errstate(all="raise"):
        x.std(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad[0], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(x.grad[1], np.array([-1.0, 0.0, 1.0]) / 3 / np.sqrt(2 / 3))


@SURFACE
@given(data=st.data(), shape=ANY_SHAPE, keepdims=st.booleans())
def test_norm_over_any_axes(data, shape, keepdims):
    axis = axes(data, len(shape))
    check_method(lambda t: t.norm(axis=axis, keepdims=keepdims),
                 lambda a: np.sqrt((a * a).sum(axis=axis, keepdims=keepdims)),
                 data.draw(distinct(shape), label="x"))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_norm_gradient_at_the_zero_vector_is_zero_not_nan(dtype):
    with np.errstate(all="raise"):
        x = leaf(np.zeros(3), dtype)
        x.norm().backward()
        np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])
        rows = leaf([[0.0, 0.0], [3.0, 4.0]], dtype)
        rows.norm(axis=1).sum().backward()  # one zero row among others
        np.testing.assert_allclose(rows.grad, [[0.0, 0.0], [0.6, 0.8]], rtol=1e-6)
        assert x.grad.dtype == rows.grad.dtype == dtype


ELEMENTWISE = {
    "expm1": (Tensor.expm1, np.expm1, st.floats(-2.0, 2.0)),
    "log1p": (Tensor.log1p, np.log1p, st.floats(-0.5, 2.0)),
    "sin": (Tensor.sin, np.sin, st.floats(-3.0, 3.0)),
    "cos": (Tensor.cos, np.cos, st.floats(-3.0, 3.0)),
    "square": (Tensor.square, np.square, st.floats(-2.0, 2.0)),
    "leaky_relu": (lambda t: t.leaky_relu(0.2), lambda a: np.where(a > 0, a, 0.2 * a),
                   st.sampled_from([-1.5, -0.5, 0.25, 1.0])),  # away from the kink at 0
    "gelu": (Tensor.gelu, lambda a: 0.5 * a * (1 + np.vectorize(math.erf)(a / math.sqrt(2))),
             st.floats(-3.0, 3.0)),
    "gelu tanh": (lambda t: t.gelu(approximate="tanh"),
                  lambda a: 0.5 * a * (1 + np.tanh(GELU_C * (a + 0.044715 * a ** 3))),
                  st.floats(-3.0, 3.0)),
    "softplus": (Tensor.softplus, lambda a: np.logaddexp(0, a), st.floats(-3.0, 3.0)),
}


@pytest.mark.parametrize("name", list(ELEMENTWISE))
@SURFACE
@given(data=st.data(), shape=ANY_SHAPE)
def test_new_elementwise_methods_on_any_shape(name, data, shape):
    fn, ref, elements = ELEMENTWISE[name]
    check_method(fn, ref, data.draw(values(shape, elements), label="x"))


def test_leaky_relu_default_slope_and_its_gradient_at_zero():
    x = leaf([-2.0, 0.0, 3.0])
    out = x.leaky_relu()
    np.testing.assert_allclose(out.data, [-0.02, 0.0, 3.0])
    out.sum().backward()
    np.testing.assert_allclose(x.grad, [0.01, 0.01, 1.0])  # at 0: the slope, as in PyTorch


def test_gelu_is_exact_by_default_and_the_tanh_form_on_request():
    x = np.linspace(-4, 4, 81)
    exact = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x])
    tanh_form = 0.5 * x * (1 + np.tanh(GELU_C * (x + 0.044715 * x ** 3)))
    np.testing.assert_allclose(Tensor(x).gelu().data, exact, rtol=1e-14, atol=1e-15)
    got = Tensor(x).gelu(approximate="tanh").data
    np.testing.assert_allclose(got, tanh_form, rtol=1e-14, atol=1e-15)
    assert 1e-5 < np.abs(got - exact).max() < 1e-3  # close to, but not, the exact GELU
    with pytest.raises(ValueError, match="gelu: approximate must be 'none' or 'tanh', got 'erf'"):
        Tensor(x).gelu(approximate="erf")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softplus_is_exact_and_finite_at_plus_minus_1000(dtype):
    x = leaf([-1000.0, -30.0, 0.0, 30.0, 1000.0], dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        out = x.softplus()
        out.sum().backward()
    assert out.dtype == x.grad.dtype == dtype
    expected = np.logaddexp(0.0, x.data.astype(np.float64))
    np.testing.assert_allclose(out.data, expected, rtol=1e-6)
    assert out.data[0] == 0.0 and out.data[-1] == 1000.0
    sigmoid = np.exp(-np.logaddexp(0.0, -x.data.astype(np.float64)))  # softplus' = sigmoid
    np.testing.assert_allclose(x.grad, sigmoid, rtol=1e-6)


def test_sign_is_a_constant():
    x = leaf([-2.0, 0.0, 0.5])
    s = x.sign()
    np.testing.assert_array_equal(s.data, [-1.0, 0.0, 1.0])
    assert not s.requires_grad and s.op is None
    assert leaf([1.0], np.float32).sign().dtype == np.float32


SHAPE_METHODS = {
    "squeeze()": (lambda t: t.squeeze(), np.squeeze),
    "flatten()": (lambda t: t.flatten(), lambda a: a.reshape(-1)),
    "flatten(1)": (lambda t: t.flatten(1) if t.ndim > 1 else t.flatten(),
                   lambda a: a.reshape(a.shape[:1] + (-1,)) if a.ndim > 1 else a.reshape(-1)),
    "expand_dims(0)": (lambda t: t.expand_dims(0), lambda a: np.expand_dims(a, 0)),
    "expand_dims(-1)": (lambda t: t.expand_dims(-1), lambda a: np.expand_dims(a, -1)),
    "unsqueeze(0)": (lambda t: t.unsqueeze(0), lambda a: np.expand_dims(a, 0)),
    "broadcast_to": (lambda t: t.broadcast_to((2,) + t.shape), lambda a: np.broadcast_to(
        a, (2,) + a.shape)),
    "swapaxes(0, -1)": (lambda t: t.swapaxes(0, -1) if t.ndim else t,
                        lambda a: np.swapaxes(a, 0, -1) if a.ndim else a),
    "mT": (lambda t: t.mT if t.ndim > 1 else t, lambda a: np.swapaxes(a, -1, -2)
           if a.ndim > 1 else a),
}


@pytest.mark.parametrize("name", list(SHAPE_METHODS))
@SURFACE
@given(data=st.data(), shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3))
def test_shape_methods_on_any_shape(name, data, shape):
    fn, ref = SHAPE_METHODS[name]
    check_method(fn, ref, data.draw(values(shape), label="x"))


@SURFACE
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=2))
def test_squeeze_of_chosen_axes_and_broadcast_to_with_size_1_axes(data, shape):
    ones = [i for i, n in enumerate(shape) if n == 1]
    axis = tuple(data.draw(st.lists(st.sampled_from(ones), unique=True), label="axis")) \
        if ones else ()
    check_method(lambda t: t.squeeze(axis), lambda a: np.squeeze(a, axis), data.draw(values(shape)))
    target = tuple(3 if n == 1 else n for n in shape)  # size-1 axes widened: their sums return
    check_method(lambda t: t.broadcast_to(target), lambda a: np.broadcast_to(a, target),
                 data.draw(values(shape)))


def test_squeeze_of_an_axis_longer_than_1_is_an_error():
    with pytest.raises(ValueError, match=r"squeeze: axis 1 has length 3, not 1 \(shape "
                                         r"\(1, 3\)\)"):
        Tensor(np.ones((1, 3))).squeeze(1)


@pytest.mark.parametrize("name, fn", [
    ("min", lambda t: t.min(axis=0)), ("prod", lambda t: t.prod(axis=1)),
    ("var", lambda t: t.var(ddof=1)), ("std", lambda t: t.std(axis=0)),
    ("norm", lambda t: t.norm(axis=1, keepdims=True)), ("expm1", Tensor.expm1),
    ("log1p", Tensor.log1p), ("sin", Tensor.sin), ("cos", Tensor.cos),
    ("square", Tensor.square), ("leaky_relu", Tensor.leaky_relu), ("gelu", Tensor.gelu),
    ("softplus", Tensor.softplus), ("squeeze", lambda t: t[None].squeeze(0)),
    ("expand_dims", lambda t: t.expand_dims(1)), ("flatten", Tensor.flatten),
    ("broadcast_to", lambda t: t.broadcast_to((2, 3, 4))),
    ("swapaxes", lambda t: t.swapaxes(0, 1)), ("mT", lambda t: t.mT),
])
def test_new_methods_keep_float32(name, fn):
    x = leaf(POSITIVE, np.float32)
    out = fn(x)
    assert out.dtype == np.float32, name
    (out * np.ones(out.shape, np.float32)).sum().backward()
    assert x.grad.dtype == np.float32 and np.isfinite(x.grad).all()


def test_argmax_and_argmin_are_plain_integer_arrays_that_pick_the_first_tie():
    x = leaf([[1.0, 3.0, 3.0], [0.0, 0.0, -1.0]])
    np.testing.assert_array_equal(x.argmax(axis=1), [1, 0])
    np.testing.assert_array_equal(x.argmin(axis=1), [0, 2])
    assert x.argmax() == 1 and x.argmin() == 5
    assert x.argmax(axis=0, keepdims=True).shape == (1, 3)
    assert x.argmax(axis=1).dtype.kind == "i" and not isinstance(x.argmax(), Tensor)


def test_requires_grad_switches_a_leaf_on_and_returns_it():
    x = Tensor([1.0, 2.0])
    assert x.requires_grad_() is x and x.requires_grad
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])
    assert x.requires_grad_(False) is x and not x.requires_grad
    y = leaf([1.0]) * 2
    with pytest.raises(RuntimeError, match="requires_grad_: only a leaf can stop requiring grad "
                                           r"\(this tensor was made by multiply\); use detach"):
        y.requires_grad_(False)


@pytest.mark.parametrize("shape, axis", [((2, 1), 2), ((2, 1), -3), ((), 1), ((3,), 1)])
def test_flatten_refuses_an_axis_out_of_range_as_pytorch_does(shape, axis):
    # it used to wrap: Tensor([[1.], [2.]]).flatten(2) flattened from axis 0
    with pytest.raises(IndexError, match=rf"flatten: start_axis {axis} is out of range"):
        Tensor(np.ones(shape)).flatten(axis)
    assert Tensor(np.ones(shape)).flatten(-1).shape == shape[:-1] + (shape[-1:] or (1,))
