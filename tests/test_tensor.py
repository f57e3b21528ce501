"""The Tensor surface: construction and dtypes, operators on either side, every method's gradient,
indexing, the graph attributes, and the errors users see for bad shapes and operand types.
"""


import numpy as np
import pytest

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
