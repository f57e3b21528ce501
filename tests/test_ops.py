"""The op table, tested as a table: every primitive in `ops.OPS` (tests/op_cases.py's CASES) vs
numpy and central differences; then property-based tests draw shapes (with broadcasting, size-1
dims and 0-d arrays) for the binary ops, reductions, matmul and indexing. Extreme inputs:
tests/test_ops_numerics.py.
"""


import numpy as np
import pytest
import scipy.special
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_cases import BY_NAME, CASES, make_inputs, weighted

from autograd import Tensor, gradcheck, ops
from autograd.gradcheck import gradgradcheck

PROPERTY = settings(max_examples=30, deadline=None)


def test_every_op_has_a_case():
    tested = {id(case.op) for case in CASES}
    missing = [op.name for op in ops.OPS if id(op) not in tested]
    assert not missing, f"ops without a case in CASES: {missing}"
    assert len(CASES) == len(ops.OPS), "each op should have exactly one case"


@BY_NAME
def test_case_records_its_op(case):
    x = make_inputs(case)
    out = case.fn(*x)
    assert out.op is case.op
    assert all(parent is t for parent, t in zip(out.parents, x, strict=True))


@BY_NAME
def test_forward_matches_reference(case):
    x = make_inputs(case)
    out = case.fn(*x)
    np.testing.assert_allclose(out.data, case.ref(*[t.data for t in x]), rtol=1e-12, atol=1e-12)


@BY_NAME
def test_gradient_matches_central_differences(case):
    x = make_inputs(case)
    assert gradcheck(weighted(case.fn, case.fn(*x).shape, np.float64), *x)


@BY_NAME
def test_second_derivative_matches_central_differences_of_the_first(case):
    # one table of rules: the VJPs, run on Tensors, are differentiated again
    x = make_inputs(case)
    assert gradgradcheck(weighted(case.fn, case.fn(*x).shape, np.float64), *x)


@BY_NAME
def test_float32_in_float32_out(case):
    x = make_inputs(case, np.float32)
    out = case.fn(*x)
    # astype is the one op whose job is to change the dtype; its gradient still comes back float32
    assert out.dtype == (np.float64 if case.op is ops.astype else np.float32)
    (out * np.ones(out.shape, out.dtype)).sum().backward()
    for t in x:
        assert t.grad.dtype == np.float32
        assert t.grad.shape == t.shape
    assert gradcheck(weighted(case.fn, out.shape, np.float32), *make_inputs(case, np.float32))


@BY_NAME
def test_no_graph_for_constants(case):
    x = [Tensor(t.data) for t in make_inputs(case)]
    out = case.fn(*x)
    assert out.op is None and not out.requires_grad and out.parents == ()


# ---------------------------------------------------------------- property-based: shapes
def arrays(shape, low=-2.0, high=2.0):
    return hnp.arrays(np.float64, shape, elements=st.floats(low, high))


def away_from_zero(shape):
    """Magnitudes in [0.5, 2] with either sign: no zero divisors, no kink of relu or abs."""
    return st.tuples(arrays(shape, 0.5, 2.0), hnp.arrays(np.bool_, shape)).map(
        lambda pair: np.where(pair[1], pair[0], -pair[0])
    )


def distinct_values(shape):
    """Values at least 0.1 apart (max without ties)."""
    n = int(np.prod(shape))
    return st.permutations(range(n)).map(lambda p: (np.array(p, float) - n / 2).reshape(shape) / 10)


BINARY = {
    "add": (lambda x, y: x + y, np.add, arrays, arrays),
    "subtract": (lambda x, y: x - y, np.subtract, arrays, arrays),
    "multiply": (lambda x, y: x * y, np.multiply, arrays, arrays),
    "divide": (lambda x, y: x / y, np.divide, arrays, away_from_zero),
    "power": (lambda x, y: x**y, np.power, lambda s: arrays(s, 0.5, 2.0), arrays),
}


def check(fn, ref, *arrays_in):
    """Forward equals the reference; gradients match central differences and input shapes."""
    x = [Tensor(a, requires_grad=True) for a in arrays_in]
    out = fn(*x)
    np.testing.assert_allclose(out.data, ref(*arrays_in), rtol=1e-12, atol=1e-12)
    assert gradcheck(weighted(fn, out.shape, np.float64), *x)
    out.backward(np.ones(out.shape))
    assert [t.grad.shape for t in x] == [t.shape for t in x]


@pytest.mark.parametrize("name", list(BINARY))
@PROPERTY
@given(data=st.data(),
       shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3))
def test_binary_ops_broadcast(name, data, shapes):
    fn, ref, left, right = BINARY[name]
    a, b = shapes.input_shapes
    check(fn, ref, data.draw(left(a), label="x"), data.draw(right(b), label="y"))


@PROPERTY
@given(data=st.data(),
       shapes=hnp.mutually_broadcastable_shapes(signature=np.matmul.signature, max_dims=2,
                                                max_side=3))
def test_matmul_shapes(data, shapes):
    # the signature (n?,k),(k,m?) draws 1-D, 2-D and batched operands with broadcast batch dims
    a, b = shapes.input_shapes
    check(lambda x, y: x @ y, np.matmul, data.draw(arrays(a), label="x"),
          data.draw(arrays(b), label="y"))


REDUCTIONS = {
    "sum": lambda x, **kw: np.sum(x, **kw),
    "mean": lambda x, **kw: np.mean(x, **kw),
    "max": lambda x, **kw: np.max(x, **kw),
    "logsumexp": lambda x, **kw: scipy.special.logsumexp(x, **kw),
}


@pytest.mark.parametrize("name", list(REDUCTIONS))
@PROPERTY
@given(data=st.data(), shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3),
       keepdims=st.booleans())
def test_reductions(name, data, shape, keepdims):
    ndim = len(shape)
    axes = [st.none(), hnp.valid_tuple_axes(ndim)]
    if ndim:
        axes.append(st.integers(-ndim, ndim - 1))
    axis = data.draw(st.one_of(axes), label="axis")
    x = data.draw(distinct_values(shape), label="x")
    check(lambda t: getattr(t, name)(axis=axis, keepdims=keepdims),
          lambda a: REDUCTIONS[name](a, axis=axis, keepdims=keepdims), x)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@PROPERTY
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
def test_normalisations(name, data, shape):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    check(lambda t: getattr(t, name)(axis=axis),
          lambda a: getattr(scipy.special, name)(a, axis=axis), data.draw(arrays(shape)))


UNARY = {
    "exp": (np.exp, arrays),
    "log": (np.log, lambda s: arrays(s, 0.5, 2.0)),
    "sqrt": (np.sqrt, lambda s: arrays(s, 0.5, 2.0)),
    "abs": (np.abs, away_from_zero),
    "tanh": (np.tanh, arrays),
    "sigmoid": (scipy.special.expit, arrays),
    "relu": (lambda a: np.maximum(a, 0), away_from_zero),
    "negative": (np.negative, arrays),
}


@pytest.mark.parametrize("name", list(UNARY))
@PROPERTY
@given(data=st.data(), shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3))
def test_elementwise_any_shape(name, data, shape):
    ref, values = UNARY[name]
    method = (lambda t: -t) if name == "negative" else getattr(Tensor, name)
    check(method, ref, data.draw(values(shape)))


@PROPERTY
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
def test_getitem_basic_indices(data, shape):
    index = data.draw(hnp.basic_indices(shape, allow_newaxis=True), label="index")
    check(lambda t: t[index], lambda a: a[index], data.draw(arrays(shape)))


@PROPERTY
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
def test_getitem_integer_arrays(data, shape):
    # integer array indices repeat elements freely: their gradients must accumulate
    index = data.draw(hnp.integer_array_indices(shape), label="index")
    check(lambda t: t[index], lambda a: a[index], data.draw(arrays(shape)))


@PROPERTY
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
def test_getitem_boolean_mask(data, shape):
    mask = data.draw(hnp.arrays(np.bool_, shape), label="mask")
    check(lambda t: t[mask], lambda a: a[mask], data.draw(arrays(shape)))


@PROPERTY
@given(data=st.data(), shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=3))
def test_reshape_and_transpose(data, shape):
    axes = data.draw(st.permutations(range(len(shape))), label="axes")
    # negative axes are numpy's too: transpose must invert the permutation either way
    axes = [a - len(shape) if flip else a
            for a, flip in zip(axes, data.draw(st.lists(st.booleans(), min_size=len(shape),
                                                        max_size=len(shape))), strict=True)]
    check(lambda t: t.transpose(axes).reshape(-1), lambda a: a.transpose(axes).reshape(-1),
          data.draw(arrays(shape)))
