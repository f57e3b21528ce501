"""The Tensor surface: construction and dtypes, operators on either side, every method's gradient,
indexing, the graph attributes, and the errors users see for bad shapes and operand types.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd import Tensor, gradcheck, no_grad

# Distinct values away from 0 and +-0.5: no kink of relu, abs or clip(-0.5, 0.5), no max tie.
X = np.array([[-1.3, -0.8, 0.2, 0.35],
              [0.7, 1.1, -0.15, 1.9],
              [-2.1, 0.9, 1.6, -0.4]])
POSITIVE = np.abs(X) + 0.5


def leaf(values, dtype=np.float64):
    return Tensor(np.array(values, dtype=dtype), requires_grad=True)


# ---------------------------------------------------------------- construction and dtypes
@pytest.mark.parametrize("data, shape", [
    (3, ()), (2.5, ()), (True, ()), ([1, 2, 3], (3,)), ([[1.0, 2.0]], (1, 2)),
    (np.arange(6).reshape(2, 3), (2, 3)), (np.array([True, False]), (2,)),
    (np.arange(3, dtype=np.int8), (3,)), (np.float64(1.5), ()),
])
def test_numbers_lists_and_integer_arrays_become_float64(data, shape):
    t = Tensor(data)
    assert t.dtype == np.float64 and t.shape == shape
    np.testing.assert_array_equal(t.data, np.asarray(data, dtype=np.float64))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_arrays_keep_their_dtype(dtype):
    assert Tensor(np.ones(3, dtype)).dtype == dtype
    assert Tensor(np.ones(3, dtype), requires_grad=True).dtype == dtype
    assert Tensor([1, 2], dtype=dtype).dtype == dtype


def test_a_leaf_that_requires_grad_owns_its_data():
    source = np.array([1.0, 2.0])
    t = Tensor(source, requires_grad=True)
    source[0] = 99.0
    assert t.data[0] == 1.0


@pytest.mark.parametrize("data, message", [
    ("abc", "floating point"), (["a", "b"], "floating point"), ({"a": 1}, "floating point"),
    ([[1.0], [2.0, 3.0]], "cannot make a float array"),
])
def test_non_numeric_data_is_a_type_error(data, message):
    with pytest.raises(TypeError, match=message):
        Tensor(data)


def test_an_integer_dtype_is_refused():
    with pytest.raises(TypeError, match="dtype must be floating point, got int32"):
        Tensor([1, 2], dtype=np.int32)


def test_array_facts():
    t = Tensor(np.zeros((2, 3, 4), np.float32), requires_grad=True)
    assert (t.shape, t.ndim, t.size, t.dtype, len(t)) == ((2, 3, 4), 3, 24, np.float32, 2)
    assert t.T.shape == (4, 3, 2) and t.is_leaf and t.grad is None and t.requires_grad
    assert Tensor(1.0).shape == () and Tensor(1.0).size == 1
    with pytest.raises(TypeError, match="0-d"):
        len(Tensor(1.0))


def test_the_graph_is_public():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    y = (x * w).sum()
    assert y.op.name == "sum" and not y.is_leaf
    (product,) = y.parents
    assert product.op.name == "multiply"
    assert product.parents[0] is x and product.parents[1] is w
    square = x * x
    assert len(square.parents) == 2 and all(p is x for p in square.parents)


def test_item_and_numpy():
    t = Tensor([[2.5]])
    assert t.item() == 2.5 and isinstance(t.item(), float)
    assert t.numpy() is t.data
    with pytest.raises(ValueError, match=r"item: tensor has 3 elements \(shape \(3,\)\)"):
        Tensor([1.0, 2.0, 3.0]).item()


def test_repr_is_readable():
    assert repr(Tensor([1.0, 2.0])) == "Tensor([1., 2.])"
    assert repr(Tensor([1.0, 2.0], requires_grad=True)) == "Tensor([1., 2.], requires_grad=True)"
    assert repr(Tensor(3.0)) == "Tensor(3.)"
    assert repr(leaf([1.0]) * 2) == "Tensor([2.], op=multiply)"
    assert repr(Tensor([1.0], dtype=np.float32)) == "Tensor([1.], dtype=float32)"
    long = repr(Tensor(np.arange(100.0)))
    assert "..." in long and len(long) < 100


# ---------------------------------------------------------------- operators, either side
A = np.array([[0.3, -1.2, 2.0], [1.5, 0.8, -0.6]])
M = np.array([[0.5, -1.0], [2.0, 0.1], [-0.3, 0.7]])
OPERATORS = {
    "x + 2": (lambda x: x + 2, lambda x: x + 2),
    "2 + x": (lambda x: 2 + x, lambda x: 2 + x),
    "x - 2.5": (lambda x: x - 2.5, lambda x: x - 2.5),
    "2.5 - x": (lambda x: 2.5 - x, lambda x: 2.5 - x),
    "x * 3": (lambda x: x * 3, lambda x: x * 3),
    "3 * x": (lambda x: 3 * x, lambda x: 3 * x),
    "x / 4": (lambda x: x / 4, lambda x: x / 4),
    "4 / x": (lambda x: 4 / x, lambda x: 4 / x),
    "x ** 2": (lambda x: x**2, lambda x: x**2),
    "x ** -1.5": (lambda x: x**-1.5, lambda x: x**-1.5),
    "2 ** x": (lambda x: 2**x, lambda x: 2**x),
    "-x": (lambda x: -x, lambda x: -x),
    "+x": (lambda x: +x, lambda x: +x),
    "abs(x)": (lambda x: abs(x - 1.0), lambda x: abs(x - 1.0)),
    "x + array": (lambda x: x + A, lambda x: x + A),
    "array + x": (lambda x: A + x, lambda x: A + x),
    "array - x": (lambda x: A - x, lambda x: A - x),
    "array * x": (lambda x: A * x, lambda x: A * x),
    "array / x": (lambda x: A / x, lambda x: A / x),
    "array ** x": (lambda x: np.abs(A) ** x, lambda x: np.abs(A) ** x),
    "x @ array": (lambda x: x @ M, lambda x: x @ M),
    "array @ x": (lambda x: M @ x, lambda x: M @ x),
    "x + list": (lambda x: x + [1.0, 2.0, 3.0], lambda x: x + [1.0, 2.0, 3.0]),
    "x * int array": (lambda x: x * np.arange(3), lambda x: x * np.arange(3)),
    "x ** tensor": (lambda x: x ** Tensor(A), lambda x: x**A),
}


@pytest.mark.parametrize("fn, ref", OPERATORS.values(), ids=OPERATORS.keys())
def test_operators(fn, ref):
    x = leaf(np.abs(A) + 0.5)  # positive: fine as a base and as a divisor
    out = fn(x)
    assert isinstance(out, Tensor)  # also when an ndarray is on the left
    np.testing.assert_allclose(out.data, ref(x.data), rtol=1e-12)
    assert gradcheck(fn, x)


@pytest.mark.parametrize("name", [name for name in OPERATORS if name != "x ** tensor"])
def test_operators_keep_float32(name):
    # plain numbers, lists and arrays join in the tensor's dtype (two Tensors follow numpy)
    x = leaf(np.abs(A) + 0.5, np.float32)
    out = OPERATORS[name][0](x)
    out.sum().backward()
    assert out.dtype == np.float32 and x.grad.dtype == np.float32


def test_integer_power_of_negative_numbers():
    x = leaf([-2.0, 3.0])
    y = x**3
    y.sum().backward()
    np.testing.assert_allclose(y.data, [-8.0, 27.0])
    np.testing.assert_allclose(x.grad, [12.0, 27.0])


def test_tensor_exponent_gets_a_gradient():
    b, e = leaf([0.5, 2.0, 3.0]), leaf([1.5, -0.5, 2.0])
    (b**e).sum().backward()
    np.testing.assert_allclose(b.grad, e.data * b.data ** (e.data - 1))
    np.testing.assert_allclose(e.grad, b.data**e.data * np.log(b.data))


@pytest.mark.parametrize("a, b", [
    ((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 5)), ((3, 4), (4, 5)), ((2, 3, 4), (4, 5)),
    ((2, 3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2)), ((4,), (2, 4, 5)), ((2, 3, 4), (4,)),
])
def test_matmul_follows_numpy(a, b):
    rng = np.random.default_rng(0)
    x, y = leaf(rng.normal(size=a)), leaf(rng.normal(size=b))
    out = x @ y
    np.testing.assert_allclose(out.data, np.matmul(x.data, y.data), rtol=1e-12)
    assert gradcheck(lambda x, y: x @ y, x, y)


# ---------------------------------------------------------------- errors users see
def test_matmul_shapes_that_do_not_align():
    x, w = Tensor(np.ones((32, 64))), Tensor(np.ones((100, 10)))
    with pytest.raises(ValueError, match=r"^matmul: shapes \(32, 64\) and \(100, 10\) do not "
                                         r"align \(64 != 100\)$"):
        x @ w
    with pytest.raises(ValueError, match=r"matmul: shapes \(3,\) and \(4,\) do not align"):
        Tensor(np.ones(3)) @ Tensor(np.ones(4))
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(\): 0-d"):
        Tensor(np.ones((2, 3))) @ Tensor(1.0)


def test_matmul_batch_dims_that_do_not_broadcast():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3, 4\) and \(5, 4, 6\) cannot be "
                                         r"broadcast"):
        Tensor(np.ones((2, 3, 4))) @ Tensor(np.ones((5, 4, 6)))


@pytest.mark.parametrize("fn, name", [
    (lambda a, b: a + b, "add"), (lambda a, b: a - b, "subtract"),
    (lambda a, b: a * b, "multiply"), (lambda a, b: a / b, "divide"),
    (lambda a, b: a**b, "power"),
])
def test_shapes_that_do_not_broadcast(fn, name):
    a, b = Tensor(np.ones((2, 3))), Tensor(np.ones(4))
    with pytest.raises(ValueError, match=rf"^{name}: shapes \(2, 3\) and \(4,\) cannot be "
                                         r"broadcast together$"):
        fn(a, b)


@pytest.mark.parametrize("fn, message", [
    (lambda t: t + "a", "add: unsupported operand type str"),
    (lambda t: "a" + t, "add: unsupported operand type str"),
    (lambda t: t - None, "subtract: unsupported operand type NoneType"),
    (lambda t: t * object(), "multiply: unsupported operand type object"),
    (lambda t: t / {}, "divide: unsupported operand type dict"),
    (lambda t: t ** "2", "power: unsupported operand type str"),
    (lambda t: t @ "x", "matmul: unsupported operand type str"),
    (lambda t: t + 1j, "add: unsupported operand type complex"),
    (lambda t: t + ["a", "b", "c"], "add: unsupported operand type list"),
])
def test_unsupported_operand_types(fn, message):
    with pytest.raises(TypeError, match=message):
        fn(Tensor([1.0, 2.0, 3.0]))


def test_other_shape_errors_name_the_op_and_shape():
    t = Tensor(np.ones(3))
    with pytest.raises(ValueError, match=r"reshape.*\(input shape \(3,\)\)"):
        t.reshape(2, 2)
    with pytest.raises(IndexError, match=r"getitem.*\(input shape \(3,\)\)"):
        t[5]


# ---------------------------------------------------------------- every method's gradient
METHODS = {
    "exp": (lambda t: t.exp(), X),
    "log": (lambda t: t.log(), POSITIVE),
    "sqrt": (lambda t: t.sqrt(), POSITIVE),
    "tanh": (lambda t: t.tanh(), X),
    "sigmoid": (lambda t: t.sigmoid(), X),
    "relu": (lambda t: t.relu(), X),
    "abs": (lambda t: t.abs(), X),
    "clip(lo, hi)": (lambda t: t.clip(-0.5, 0.5), X),
    "clip(lo)": (lambda t: t.clip(-0.5), X),
    "clip(hi=)": (lambda t: t.clip(hi=0.5), X),
    "sum()": (lambda t: t.sum(), X),
    "sum(axis=0)": (lambda t: t.sum(axis=0), X),
    "sum(axis=(0, 1), keepdims)": (lambda t: t.sum(axis=(0, 1), keepdims=True), X),
    "mean()": (lambda t: t.mean(), X),
    "mean(axis=-1, keepdims)": (lambda t: t.mean(axis=-1, keepdims=True), X),
    "max()": (lambda t: t.max(), X),
    "max(axis=1)": (lambda t: t.max(axis=1), X),
    "max(axis=0, keepdims)": (lambda t: t.max(axis=0, keepdims=True), X),
    "reshape(2, 6)": (lambda t: t.reshape(2, 6), X),
    "reshape((-1,))": (lambda t: t.reshape((-1,)), X),
    "transpose()": (lambda t: t.transpose(), X),
    "transpose(1, 0)": (lambda t: t.transpose(1, 0), X),
    "transpose((1, 0))": (lambda t: t.transpose((1, 0)), X),
    "T": (lambda t: t.T, X),
    "softmax()": (lambda t: t.softmax(), X),
    "softmax(axis=0)": (lambda t: t.softmax(axis=0), X),
    "log_softmax()": (lambda t: t.log_softmax(), X),
    "log_softmax(axis=0)": (lambda t: t.log_softmax(axis=0), X),
    "logsumexp()": (lambda t: t.logsumexp(), X),
    "logsumexp(axis=1, keepdims)": (lambda t: t.logsumexp(axis=1, keepdims=True), X),
}


@pytest.mark.parametrize("fn, values", METHODS.values(), ids=METHODS.keys())
def test_method_gradients(fn, values):
    weights = np.random.default_rng(0).normal(size=fn(Tensor(values)).shape)
    assert gradcheck(lambda t: fn(t) * weights, leaf(values))


def test_astype_converts_and_brings_the_gradient_back():
    x = leaf([1.0, 2.0])
    y = x.astype(np.float32)
    assert y.dtype == np.float32 and y.op.name == "astype"
    (y * 3).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_clip_passes_the_gradient_only_inside():
    x = leaf([-2.0, -0.2, 0.3, 4.0])
    x.clip(-1.0, 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 1.0, 0.0])


def test_max_ties_share_the_gradient():
    x = leaf([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]])
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])


# ---------------------------------------------------------------- indexing
INDICES = {
    "int": 1,
    "negative int": -1,
    "slice": slice(1, None),
    "step": (slice(None, None, -1), slice(None, None, 2)),
    "int and slice": (0, slice(1, 3)),
    "ellipsis and None": (Ellipsis, None, 2),
    "boolean mask": X > 0,
    "boolean row mask": np.array([True, False, True]),
    "integer array": np.array([2, 0]),
    "integer list": [2, 0, 2],
    "two integer arrays": (np.array([0, 2, 0]), np.array([1, 3, 1])),
    "integer array and slice": (slice(None), np.array([[0, 0], [3, 1]])),
}


@pytest.mark.parametrize("index", INDICES.values(), ids=INDICES.keys())
def test_getitem(index):
    x = leaf(X)
    out = x[index]
    np.testing.assert_array_equal(out.data, X[index])
    weights = np.random.default_rng(0).normal(size=out.shape)
    assert gradcheck(lambda t: t[index] * weights, x)


def test_repeated_integer_indices_accumulate():
    x = leaf([10.0, 20.0, 30.0])
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 1.0])
    y = leaf(np.zeros((2, 3)))
    (y[np.array([1, 1]), np.array([2, 2])] * Tensor([1.5, 2.5])).sum().backward()
    np.testing.assert_array_equal(y.grad, [[0, 0, 0], [0, 0, 4.0]])


def test_boolean_mask_gradient_lands_on_the_selected_elements():
    x = leaf(X)
    (x[X > 0] * 2).sum().backward()
    np.testing.assert_array_equal(x.grad, np.where(X > 0, 2.0, 0.0))


def test_an_empty_list_index_selects_nothing_like_numpy():
    x = leaf(X)
    out = x[[]]
    assert out.shape == X[[]].shape == (0, 4)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, np.zeros_like(X))


def test_a_tensor_index_is_refused_never_read_as_positions():
    # Tensor(x > 0) holds 0.0/1.0: indexing by them as positions gave [-2, 1, -2]
    x = Tensor([1.0, -2.0, 3.0])
    with pytest.raises(TypeError, match=r"getitem: a Tensor \(shape \(3,\)\) cannot be an index"):
        x[Tensor(x.data > 0)]
    with pytest.raises(TypeError, match="cannot be an index"):
        Tensor(np.ones((2, 2)))[0, Tensor([1.0])]
    np.testing.assert_array_equal(x[x > 0].data, [1.0, 3.0])  # the comparison indexes like numpy


# ---------------------------------------------------------------- comparisons
COMPARISONS = {
    "==": (lambda a, b: a == b, np.equal), "!=": (lambda a, b: a != b, np.not_equal),
    "<": (lambda a, b: a < b, np.less), "<=": (lambda a, b: a <= b, np.less_equal),
    ">": (lambda a, b: a > b, np.greater), ">=": (lambda a, b: a >= b, np.greater_equal),
}


@pytest.mark.parametrize("name", list(COMPARISONS))
@pytest.mark.parametrize("other", [0.0, np.array([[0.2], [1.1], [-2.1]]), "tensor"],
                         ids=["number", "array", "tensor"])
def test_comparisons_are_elementwise_bool_arrays_on_either_side(name, other):
    op, ref = COMPARISONS[name]
    x = leaf(X)
    plain = X[:, :1] if isinstance(other, str) else other
    other = Tensor(plain) if isinstance(other, str) else other
    for result, expected in ((op(x, other), ref(X, plain)), (op(other, x), ref(plain, X))):
        assert isinstance(result, np.ndarray) and result.dtype == np.bool_
        np.testing.assert_array_equal(result, expected)


def test_a_comparison_masks_without_a_gradient_of_its_own():
    # x != 0 used to be object identity (True), giving the gradient [1, 1, 1]
    x = leaf([0.0, 2.0, -1.0])
    (x * (x != 0)).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 1.0])
    x.grad = None
    (x * (x > 0)).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(np.where(x > 0, 1.0, -1.0), [-1.0, 1.0, -1.0])
    assert Tensor(3.0) > 2 and not Tensor([1.0]) == 2


def test_tensors_stay_hashable_by_identity():
    a, b = Tensor([1.0]), Tensor([1.0])
    assert len({a, b}) == 2 and {a: 1}[a] == 1


# ---------------------------------------------------------------- in-place operators
def test_in_place_update_of_parameters_under_no_grad_changes_the_same_array():
    # `p -= lr * p.grad` used to rebind p to a new Tensor: 200 steps left the loss unchanged
    p = leaf([1.0, -2.0])
    array = p.data
    for _ in range(3):
        p.grad = None
        (p * p).sum().backward()
        with no_grad():
            p -= 0.25 * p.grad
    assert p.data is array
    np.testing.assert_allclose(p.data, np.array([1.0, -2.0]) * 0.5 ** 3)  # p -= p/2, thrice
    with no_grad():
        p += 1
        p *= Tensor([2.0, 3.0])
        p /= np.array([2.0, 3.0])
    assert p.data is array and p.is_leaf and p.requires_grad


def test_in_place_on_a_parameter_while_recording_says_to_use_no_grad():
    p = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"-= on a leaf tensor that requires grad \(shape "
                                           r"\(2,\)\).*wrap the update in no_grad\(\)"):
        p -= 0.1
    np.testing.assert_array_equal(p.data, [1.0, 2.0])


def test_in_place_on_an_intermediate_is_recorded_with_the_right_gradient():
    x = leaf([1.0, 2.0, 3.0])
    h = x * 2
    h += x ** 2            # h = 2x + x^2, recorded
    h *= Tensor([1.0, 0.5, 2.0])
    h.sum().backward()
    np.testing.assert_allclose(x.grad, (2 + 2 * x.data) * [1.0, 0.5, 2.0])
    acc = Tensor(np.zeros(3))
    acc += x * 3            # a constant that takes a recorded operand joins the graph
    x.grad = None
    acc.sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0, 3.0])


def test_in_place_errors_name_the_op_and_shapes():
    t = Tensor([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"add in place \(\+=\): shapes \(3,\) and \(2, 3\) "
                                         r"give shape \(2, 3\), not the tensor's own shape"):
        t += np.ones((2, 3))
    with pytest.raises(ValueError, match=r"multiply in place \(\*=\): shapes \(3,\) and \(2,\)"):
        t *= Tensor([1.0, 2.0])


def test_in_place_keeps_float32():
    t = Tensor(np.ones(2, np.float32))
    t += np.array([0.5, 1e-10])  # float64 data joins in the tensor's dtype
    assert t.dtype == np.float32


# ---------------------------------------------------------------- Python numbers
def test_one_element_tensors_convert_to_python_numbers():
    t = Tensor([[2.71828]])
    assert float(t) == 2.71828 and int(t) == 2 and round(t, 3) == 2.718 and round(t) == 3
    assert f"{t:.2f}" == "2.72" and format(t, ".1e") == "2.7e+00"
    assert bool(Tensor(0.0)) is False and bool(Tensor([3.0])) is True
    assert f"{Tensor([1.0, 2.0])}" == str(Tensor([1.0, 2.0]))  # no spec: the repr, any size


@pytest.mark.parametrize("convert, error, message", [
    (float, TypeError, r"float\(\): only a Tensor with one element .* shape \(2,\)"),
    (int, TypeError, r"int\(\): only a Tensor with one element"),
    (lambda t: round(t, 3), TypeError, r"round\(\): only a Tensor with one element"),
    (lambda t: f"{t:.4f}", TypeError, r"format\(Tensor, '.4f'\): only a Tensor with one"),
    (bool, ValueError, r"bool\(\): the truth value of a Tensor with 2 elements \(shape \(2,\)\) "
                       "is ambiguous"),
])
def test_conversions_of_several_elements_are_clear_errors(convert, error, message):
    with pytest.raises(error, match=message):
        convert(Tensor([1.0, 2.0]))


def test_bool_of_an_empty_tensor_is_an_error():
    with pytest.raises(ValueError, match="0 elements"):
        bool(Tensor([]))


@pytest.mark.parametrize("dtype", [np.int32, np.int64, bool, np.complex128])
def test_astype_to_a_non_float_dtype_is_a_type_error(dtype):
    # an integer Tensor used to be returned, with the gradient passing through it
    with pytest.raises(TypeError, match="astype: Tensors hold floats"):
        leaf([1.5, 2.5]).astype(dtype)


# ================================================================================================
# The surface for custom networks (issue 10): the methods added for it, on hypothesis-drawn shapes
# (0-d and size-1 included) against numpy and float64 central differences, float32 kept, and the
# edges the issue names: zeros in prod, the zero vector's norm, softplus at +-1000, which GELU.
# ================================================================================================

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
