"""The op table, tested as a table: every primitive in `ops.OPS` vs numpy and central differences.

Each row of CASES calls one primitive through the public Tensor API, names a numpy/scipy reference
for its forward, and samples inputs away from kinks. Property-based tests then draw shapes (with
broadcasting, size-1 dims and 0-d arrays) for the binary ops, reductions, matmul and indexing;
the last section feeds extreme inputs with warnings turned into errors.
"""

import contextlib
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import scipy.special
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from test_ops_conv import CONV_ROWS

import autograd.linalg
from autograd import Tensor, gradcheck, ops
from autograd.functions import (
    concatenate,
    cross_entropy_labels,
    logaddexp,
    maximum,
    minimum,
    stack,
    where,
)
from autograd.gradcheck import gradgradcheck
from autograd.ops import Op

PROPERTY = settings(max_examples=30, deadline=None)


# ---------------------------------------------------------------- input samplers (rng -> ndarray)
def normal(*shape):
    return lambda rng: rng.normal(size=shape)


def positive(*shape):
    """Bases for log, sqrt and power: well inside their domain."""
    return lambda rng: rng.uniform(0.5, 2.0, size=shape)


def banded(*shape, centers=(-1.0, 1.0), width=0.3):
    """Values within `width` of `centers`: kept away from the kinks of relu, abs and clip."""
    return lambda rng: rng.choice(centers, size=shape) + rng.uniform(-width, width, size=shape)


def distinct(*shape):
    """Values at least 0.25 apart, so max has no ties a finite difference could flip."""
    n = int(np.prod(shape))
    return lambda rng: (rng.permutation(n) - n / 2).reshape(shape) * 0.25


MASK = np.array([[True, False, True, True], [False, False, True, False],
                 [True, True, False, True]])
CLASSES = np.array([2, 0, 2])  # class labels of 3 rows (a class twice, one never)
INDEX = (np.array([0, 2, 0]), slice(1, None))  # row 0 twice: its gradients must add up


def spd(n):
    """A symmetric positive definite matrix, well conditioned (cholesky, solves)."""
    return lambda rng: (lambda x: x @ x.T + n * np.eye(n))(rng.normal(size=(n, n)))


def _packed(*arrays):
    """The factors of a matrix flattened and joined, as the factorisation ops return them."""
    return np.concatenate([a.reshape(-1) for a in arrays])


def _add_at_reference(g):
    out = np.zeros((3, 4))
    np.add.at(out, INDEX, g)
    return out


def _setitem_reference(x, v):
    out = x.copy()
    out[INDEX] = v
    return out


@dataclass(frozen=True)
class Case:
    op: Op
    fn: Callable  # Tensors -> Tensor, reaching `op` through the public API
    ref: Callable  # the same on ndarrays, computed by numpy or scipy
    inputs: tuple  # one sampler per input


CASES = [
    # arithmetic, with broadcasting between the operands
    Case(ops.add, lambda x, y: x + y, np.add, (normal(3, 4), normal(4))),
    Case(ops.subtract, lambda x, y: x - y, np.subtract, (normal(3, 1), normal(1, 4))),
    Case(ops.multiply, lambda x, y: x * y, np.multiply, (normal(2, 3), normal(2, 3))),
    Case(ops.divide, lambda x, y: x / y, np.divide, (normal(2, 3), banded(3))),
    Case(ops.negative, lambda x: -x, np.negative, (normal(2, 3),)),
    Case(ops.power, lambda x, y: x**y, np.power, (positive(2, 3), normal(3))),
    Case(ops.maximum, maximum, np.maximum, (normal(3, 4), normal(4))),
    Case(ops.minimum, minimum, np.minimum, (normal(3, 1), normal(3, 4))),
    Case(ops.where, lambda x, y: where(MASK, x, y), lambda x, y: np.where(MASK, x, y),
         (normal(3, 4), normal(4))),
    Case(ops.logaddexp, logaddexp, np.logaddexp, (normal(3, 4), normal(4))),
    Case(ops.matmul, lambda x, y: x @ y, np.matmul, (normal(2, 3), normal(3, 4))),
    Case(ops.linear, lambda x, w, b: x.linear(w, b), lambda x, w, b: x @ w + b,
         (normal(2, 3), normal(3, 4), normal(4))),
    # elementwise functions
    Case(ops.exp, Tensor.exp, np.exp, (normal(2, 3),)),
    Case(ops.expm1, Tensor.expm1, np.expm1, (normal(2, 3),)),
    Case(ops.log1p, Tensor.log1p, np.log1p, (positive(2, 3),)),
    Case(ops.sin, Tensor.sin, np.sin, (normal(2, 3),)),
    Case(ops.cos, Tensor.cos, np.cos, (normal(2, 3),)),
    Case(ops.leaky_relu, lambda x: x.leaky_relu(0.1), lambda x: np.where(x > 0, x, 0.1 * x),
         (banded(2, 3),)),
    Case(ops.gelu, Tensor.gelu, lambda x: 0.5 * x * (1 + scipy.special.erf(x / np.sqrt(2))),
         (normal(3, 4),)),
    Case(ops.gelu_tanh, lambda x: x.gelu(approximate="tanh"),
         lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))),
         (normal(3, 4),)),
    Case(ops.erf, Tensor.erf, scipy.special.erf, (normal(3, 4),)),
    Case(ops.erfc, Tensor.erfc, scipy.special.erfc, (normal(3, 4),)),
    Case(ops.log, Tensor.log, np.log, (positive(2, 3),)),
    Case(ops.sqrt, Tensor.sqrt, np.sqrt, (positive(2, 3),)),
    Case(ops.abs, Tensor.abs, np.abs, (banded(2, 3),)),
    Case(ops.tanh, Tensor.tanh, np.tanh, (normal(2, 3),)),
    Case(ops.sigmoid, Tensor.sigmoid, scipy.special.expit, (normal(2, 3),)),
    Case(ops.relu, Tensor.relu, lambda x: np.maximum(x, 0), (banded(2, 3),)),
    Case(ops.clip, lambda x: x.clip(-0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5),
         (banded(3, 4, centers=(-1.0, 0.0, 1.0)),)),
    Case(ops.clip_tensors, lambda x, lo, hi: x.clip(lo, hi), np.clip,
         (banded(3, 4, centers=(-1.0, 0.0, 1.0)), lambda rng: rng.uniform(-0.6, -0.4, size=4),
          lambda rng: rng.uniform(0.4, 0.6, size=(3, 1)))),
    Case(ops.astype, lambda x: x.astype(np.float64), lambda x: x.astype(np.float64),
         (normal(2, 3),)),
    # reductions
    Case(ops.sum, lambda x: x.sum(axis=1), lambda x: x.sum(axis=1), (normal(2, 3, 4),)),
    Case(ops.mean, lambda x: x.mean(axis=(0, 2), keepdims=True),
         lambda x: x.mean(axis=(0, 2), keepdims=True), (normal(2, 3, 4),)),
    Case(ops.max, lambda x: x.max(axis=-1), lambda x: x.max(axis=-1), (distinct(3, 4),)),
    Case(ops.min, lambda x: x.min(axis=0), lambda x: x.min(axis=0), (distinct(3, 4),)),
    Case(ops.prod, lambda x: x.prod(axis=1), lambda x: x.prod(axis=1), (normal(3, 4),)),
    Case(ops.norm, lambda x: x.norm(axis=1), lambda x: np.linalg.norm(x, axis=1),
         (normal(3, 4),)),
    Case(ops.logsumexp, lambda x: x.logsumexp(axis=1),
         lambda x: scipy.special.logsumexp(x, axis=1), (normal(3, 4),)),
    Case(ops.log_softmax, lambda x: x.log_softmax(axis=0),
         lambda x: scipy.special.log_softmax(x, axis=0), (normal(3, 4),)),
    Case(ops.softmax, Tensor.softmax, lambda x: scipy.special.softmax(x, axis=-1),
         (normal(3, 4),)),
    Case(ops.cross_entropy, lambda x, t: x.cross_entropy(t),
         lambda x, t: -(t * scipy.special.log_softmax(x, axis=-1)).sum() / 3,
         (normal(3, 4), positive(3, 4))),
    Case(ops.cross_entropy_labels, lambda x: cross_entropy_labels(x, CLASSES),
         lambda x: -scipy.special.log_softmax(x, axis=-1)[[0, 1, 2], CLASSES].mean(),
         (normal(3, 4),)),
    Case(ops.bce_with_logits, lambda x, t: x.bce_with_logits(t),
         lambda x, t: np.mean(np.logaddexp(0, x) - x * t),
         (normal(3, 4), lambda rng: rng.uniform(0, 1, size=(3, 4)))),
    # shapes and indexing (the repeated row 0 must receive both gradients)
    Case(ops.reshape, lambda x: x.reshape(4, -1), lambda x: x.reshape(4, -1), (normal(2, 3, 2),)),
    Case(ops.transpose, lambda x: x.transpose(2, 0, 1), lambda x: x.transpose(2, 0, 1),
         (normal(2, 3, 4),)),
    Case(ops.getitem, lambda x: x[[0, 2, 0], 1:], lambda x: x[[0, 2, 0], 1:], (normal(3, 4),)),
    Case(ops.broadcast_to, lambda x: x.broadcast_to((2, 3, 4)),
         lambda x: np.broadcast_to(x, (2, 3, 4)), (normal(3, 1),)),
    # getitem's gradient, reached by the public API only inside backward(create_graph=True)
    Case(ops.add_at, lambda g: ops.add_at(g, shape=(3, 4), index=INDEX),
         lambda g: _add_at_reference(g), (normal(3, 3),)),
    Case(ops.concatenate, lambda x, y: concatenate([x, y], axis=1),
         lambda x, y: np.concatenate([x, y], axis=1), (normal(2, 3), normal(2, 2))),
    Case(ops.stack, lambda x, y: stack([x, y], axis=-1), lambda x, y: np.stack([x, y], axis=-1),
         (normal(2, 3), normal(2, 3))),
    # trig, bases, piecewise: numpy's other elementwise functions
    Case(ops.tan, Tensor.tan, np.tan, (normal(2, 3),)),
    Case(ops.sinh, Tensor.sinh, np.sinh, (normal(2, 3),)),
    Case(ops.cosh, Tensor.cosh, np.cosh, (normal(2, 3),)),
    Case(ops.arcsin, Tensor.arcsin, np.arcsin, (banded(2, 3, centers=(-0.5, 0.5)),)),
    Case(ops.arccos, Tensor.arccos, np.arccos, (banded(2, 3, centers=(-0.5, 0.5)),)),
    Case(ops.arctan, Tensor.arctan, np.arctan, (normal(2, 3),)),
    Case(ops.arcsinh, Tensor.arcsinh, np.arcsinh, (normal(2, 3),)),
    Case(ops.arccosh, Tensor.arccosh, np.arccosh, (lambda rng: rng.uniform(1.5, 3, (2, 3)),)),
    Case(ops.arctanh, Tensor.arctanh, np.arctanh, (banded(2, 3, centers=(-0.5, 0.5)),)),
    Case(ops.arctan2, Tensor.arctan2, np.arctan2, (normal(3, 4), banded(4))),
    Case(ops.hypot, Tensor.hypot, np.hypot, (normal(3, 4), banded(4))),
    Case(ops.sinc, Tensor.sinc, np.sinc, (normal(3, 4),)),
    Case(ops.log2, Tensor.log2, np.log2, (positive(2, 3),)),
    Case(ops.log10, Tensor.log10, np.log10, (positive(2, 3),)),
    Case(ops.exp2, Tensor.exp2, np.exp2, (normal(2, 3),)),
    Case(ops.logaddexp2, Tensor.logaddexp2, np.logaddexp2, (normal(3, 4), normal(4))),
    Case(ops.cbrt, np.cbrt, np.cbrt, (banded(2, 3),)),
    # one operand on distinct()'s grid of quarters, the other off it by 1/8: no ties
    Case(ops.fmax, Tensor.fmax, np.fmax, (distinct(3, 4), lambda rng: distinct(4)(rng) + 0.125)),
    Case(ops.fmin, Tensor.fmin, np.fmin, (distinct(3, 1), distinct(3, 4))),  # odd n: off grid
    Case(ops.remainder, lambda x, y: x % y, np.remainder,
         (lambda rng: rng.uniform(0.1, 0.9, (3, 4)) + rng.integers(-3, 3, (3, 4)),
          lambda rng: rng.choice([-1.0, 1.0], 4))),
    Case(ops.nan_to_num, Tensor.nan_to_num, np.nan_to_num, (normal(2, 3),)),
    # linear algebra: factorisations return their factors packed in one array (autograd.linalg
    # hands them out as views); cholesky and eigh read the lower triangle, as numpy's do
    Case(ops.solve, np.linalg.solve, np.linalg.solve, (spd(3), normal(3, 2))),
    Case(ops.solve_triangular, lambda a, b: autograd.linalg.solve_triangular(a, b, lower=True),
         lambda a, b: np.linalg.solve(np.tril(a), b), (spd(3), normal(3))),
    Case(ops.inv, np.linalg.inv, np.linalg.inv, (spd(3),)),
    Case(ops.slogdet, lambda a: np.linalg.slogdet(a)[1], lambda a: np.linalg.slogdet(a)[1],
         (normal(3, 3),)),
    Case(ops.cholesky, np.linalg.cholesky, np.linalg.cholesky, (spd(3),)),
    Case(ops.eigh, ops.eigh, lambda a: np.concatenate([np.linalg.eigh(a)[0][None],
                                                       np.linalg.eigh(a)[1]]), (normal(3, 3),)),
    Case(ops.svd, ops.svd, lambda a: _packed(*np.linalg.svd(a, full_matrices=False)),
         (normal(4, 3),)),
    Case(ops.qr, ops.qr, lambda a: _packed(*np.linalg.qr(a)), (normal(4, 3),)),
    Case(ops.pinv, np.linalg.pinv, np.linalg.pinv, (normal(4, 3),)),
    # contractions: a diagonal (i repeated) and a letter summed in x alone (l)
    Case(ops.einsum, lambda x, y: np.einsum("iijl,jk->ki", x, y),
         lambda x, y: np.einsum("iijl,jk->ki", x, y), (normal(3, 3, 2, 4), normal(2, 5))),
    Case(ops.einsum_unary, lambda x: np.einsum("iij->j", x), lambda x: np.einsum("iij->j", x),
         (normal(3, 3, 2),)),
    # arrange: running sums and products, a copy, and item assignment (row 0 written twice:
    # only the last write of value's rows lands, and gets a gradient)
    Case(ops.cumsum, lambda x: np.cumsum(x, axis=1), lambda x: np.cumsum(x, axis=1),
         (normal(3, 4),)),
    Case(ops.cumprod, lambda x: np.cumprod(x, axis=0), lambda x: np.cumprod(x, axis=0),
         (normal(3, 4),)),
    Case(ops.copy, np.copy, np.copy, (normal(2, 3),)),
    Case(ops.setitem, lambda x, v: ops.setitem(x, v, index=INDEX),
         lambda x, v: _setitem_reference(x, v), (normal(3, 4), normal(3, 3))),
]
CASES += [Case(*row) for row in CONV_ROWS]  # the convolution family: tests/test_ops_conv.py
BY_NAME = pytest.mark.parametrize("case", CASES, ids=[case.op.name for case in CASES])


def make_inputs(case, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return [Tensor(sample(rng).astype(dtype), requires_grad=True) for sample in case.inputs]


def weighted(fn, shape, dtype, seed=1):
    """fn followed by a fixed random weighting, so that no output direction goes unchecked.

    (Summing alone would hide softmax, whose outputs always sum to one.)
    """
    weights = np.random.default_rng(seed).normal(size=shape).astype(dtype)
    return lambda *xs: fn(*xs) * weights


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


# ---------------------------------------------------------------- extreme inputs
@contextlib.contextmanager
def strict():
    """Warnings are errors; numpy raises on overflow, division by zero and invalid results.

    Underflow is allowed: exp(-1000) rounding to 0 is the correctly rounded answer.
    """
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise",
                                                under="ignore"):
        warnings.simplefilter("error")
        yield


@pytest.fixture
def strict_numerics():
    with strict():
        yield


FLOATS = pytest.mark.parametrize("dtype", [np.float64, np.float32])
LOGITS = np.array([[1e4, 0.0, -1e4], [1e4, 1e4, 1e4], [-1e4, -1e4, 1e4 - 1]])
# A float32 logit of 1e4 is resolved to ~1e-3, and a stable result is exact for inputs moved that
# little: so float32 results may differ from the float64 truth by about 1e-3.
TOL = {np.float64: {"rtol": 1e-9, "atol": 1e-10}, np.float32: {"rtol": 1e-3, "atol": 1e-3}}


def finite_grad(fn, values, dtype, weights=None):
    """fn's output and the gradient of sum(weights * output), both checked finite, as float64."""
    x = Tensor(np.asarray(values, dtype), requires_grad=True)
    out = fn(x)
    weights = np.ones(out.shape, dtype) if weights is None else weights.astype(dtype)
    (out * weights).sum().backward()
    assert out.dtype == dtype and x.grad.dtype == dtype
    assert np.isfinite(out.data).all() and np.isfinite(x.grad).all()
    return out.data.astype(np.float64), x.grad.astype(np.float64)


@FLOATS
def test_sigmoid_at_plus_minus_1000(strict_numerics, dtype):
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    out, grad = finite_grad(Tensor.sigmoid, x, dtype)
    expected = scipy.special.expit(x)
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(grad, expected * (1 - expected), rtol=1e-6, atol=1e-12)
    assert out[0] == 0.0 and out[-1] == 1.0


@FLOATS
def test_tanh_at_plus_minus_1000(strict_numerics, dtype):
    out, grad = finite_grad(Tensor.tanh, [-1000.0, 1000.0], dtype)
    np.testing.assert_array_equal(out, [-1.0, 1.0])
    np.testing.assert_array_equal(grad, [0.0, 0.0])


@FLOATS
def test_logsumexp_at_logits_of_1e4(strict_numerics, dtype):
    out, grad = finite_grad(lambda t: t.logsumexp(axis=1), LOGITS, dtype)
    np.testing.assert_allclose(out, [1e4, 1e4 + np.log(3), 1e4 - 1], **TOL[dtype])
    np.testing.assert_allclose(grad, scipy.special.softmax(LOGITS, axis=1), **TOL[dtype])
    total, _ = finite_grad(lambda t: t.logsumexp(), LOGITS, dtype)
    np.testing.assert_allclose(total, 1e4 + np.log(4 + np.exp(-1.0)), **TOL[dtype])


@FLOATS
def test_softmax_and_log_softmax_at_logits_of_1e4(strict_numerics, dtype):
    w = np.random.default_rng(0).normal(size=LOGITS.shape)
    p = scipy.special.softmax(LOGITS, axis=-1)
    out, grad = finite_grad(Tensor.softmax, LOGITS, dtype, w)
    np.testing.assert_allclose(out, p, **TOL[dtype])
    np.testing.assert_allclose(grad, p * (w - (w * p).sum(-1, keepdims=True)), **TOL[dtype])
    out, grad = finite_grad(Tensor.log_softmax, LOGITS, dtype, w)
    np.testing.assert_allclose(out, scipy.special.log_softmax(LOGITS, axis=-1), **TOL[dtype])
    np.testing.assert_allclose(grad, w - p * w.sum(-1, keepdims=True), **TOL[dtype])


@FLOATS
def test_cross_entropy_at_logits_of_1e4(strict_numerics, dtype):
    target = np.eye(3)[[1, 0, 2]]
    out, grad = finite_grad(lambda t: t.cross_entropy(target), LOGITS, dtype)
    expected = -(target * scipy.special.log_softmax(LOGITS, axis=-1)).sum() / 3
    np.testing.assert_allclose(out, expected, **TOL[dtype])
    p = scipy.special.softmax(LOGITS, axis=-1)
    np.testing.assert_allclose(grad, (p - target) / 3, **TOL[dtype])


# ---------------------------------------------------------------- edges found by fuzzing
def test_pow_with_exponent_zero_sends_zero_to_the_base(strict_numerics):
    # PyTorch: [0, 0]; y * x**(y-1) would be 0 * inf = nan at x = 0
    x = Tensor([0.0, 2.0], requires_grad=True)
    (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])
    x, y = Tensor([0.0, 2.0], requires_grad=True), Tensor([0.0, 0.0], requires_grad=True)
    (x ** y).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])
    np.testing.assert_array_equal(y.grad, [0.0, np.log(2.0)])  # d/dy 0**y is 0 at y = 0 too


@pytest.mark.parametrize("base, exponent, base_grad, exponent_grad", [
    (-2.0, 2.0, -4.0, np.nan),        # log of a negative base: nan, never a silent 0
    (-2.0, 3.0, 12.0, np.nan),
    (0.0, -1.0, -np.inf, -np.inf),    # inf * log(0); the base gets -1 * 0**-2
    (0.0, 0.5, np.inf, 0.0),          # the derivative of sqrt at 0
    (0.0, 2.0, 0.0, 0.0),
    (0.0, 1.0, 1.0, 0.0),
    (3.0, 0.0, 0.0, np.log(3.0)),
])
def test_pow_gradients_at_the_edges_match_pytorch(base, exponent, base_grad, exponent_grad):
    x, y = Tensor(base, requires_grad=True), Tensor(exponent, requires_grad=True)
    with np.errstate(divide="ignore"):  # the forward 0 ** -1 = inf warns, as numpy's does
        out = x ** y
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        out.backward()  # the gradients warn about nothing
    np.testing.assert_array_equal(x.grad, base_grad)
    np.testing.assert_array_equal(y.grad, exponent_grad)


def test_linear_equals_matmul_plus_bias_for_the_issues_repro():
    x, w, b = (Tensor(v, requires_grad=True) for v in ([1.0, 2.0], [3.0, 4.0], [0.0, 0.0]))
    out = x.linear(w, b)
    assert out.shape == (2,)
    np.testing.assert_array_equal(out.data, [11.0, 11.0])
    out.sum().backward()
    np.testing.assert_array_equal(w.grad, [2.0, 4.0])  # x @ w is used twice by the broadcast
    np.testing.assert_array_equal(x.grad, [6.0, 8.0])
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])


def test_linear_promotes_like_numpy_and_takes_a_bias_that_adds_dimensions():
    x = Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    w = Tensor(np.ones((3, 4), np.float32), requires_grad=True)
    b = Tensor(np.ones(4), requires_grad=True)  # float64
    out = x.linear(w, b)
    assert out.dtype == np.float64 == (x @ w + b).dtype
    out.sum().backward()
    assert (x.grad.dtype, w.grad.dtype, b.grad.dtype) == (np.float32, np.float32, np.float64)
    wide = x.linear(w, Tensor(np.zeros((5, 1, 4), np.float32)))
    assert wide.shape == (5, 2, 4)


@PROPERTY
@given(data=st.data(),
       shapes=hnp.mutually_broadcastable_shapes(signature=np.matmul.signature, max_dims=2,
                                                max_side=3),
       bias_dims=st.integers(0, 3))
def test_linear_is_x_at_w_plus_b_for_every_shape(data, shapes, bias_dims):
    a, b = shapes.input_shapes
    product = np.broadcast_shapes(shapes.result_shape)
    # a bias of any shape that broadcasts with the product, adding dimensions or not
    bias_shape = data.draw(hnp.broadcastable_shapes(product, min_dims=0,
                                                    max_dims=len(product) + bias_dims,
                                                    max_side=3), label="bias")
    x, w, c = (data.draw(arrays(s), label=n) for s, n in ((a, "x"), (b, "w"), (bias_shape, "b")))
    check(lambda x, w, c: x.linear(w, c), lambda x, w, c: x @ w + c, x, w, c)


EMPTY_AXIS = np.zeros((3, 0))


@pytest.mark.parametrize("fn, expected", [
    (lambda t: t.softmax(axis=-1), np.zeros((3, 0))),
    (lambda t: t.log_softmax(axis=-1), np.zeros((3, 0))),
    (lambda t: t.logsumexp(axis=-1), np.full(3, -np.inf)),   # log of an empty sum
    (lambda t: t.softmax(axis=0), np.zeros((3, 0))),
    (lambda t: t.cross_entropy(np.zeros((3, 0)), reduction="none"), np.zeros(3)),
    (lambda t: t.cross_entropy(np.zeros((3, 0))), np.zeros(())),
])
def test_normalisations_over_an_empty_axis_return_empty_results(strict_numerics, fn, expected):
    x = Tensor(EMPTY_AXIS, requires_grad=True)
    out = fn(x)
    np.testing.assert_array_equal(out.data, expected)
    out.backward(np.ones(out.shape))
    assert x.grad.shape == (3, 0)


@pytest.mark.parametrize("loss", [
    lambda x, r: x.cross_entropy(np.zeros((0, 3)), reduction=r),
    lambda x, r: x.bce_with_logits(np.zeros((0, 3)), reduction=r),
])
def test_an_empty_batch_sums_to_zero_and_has_a_nan_mean(strict_numerics, loss):
    x = Tensor(np.zeros((0, 3)), requires_grad=True)
    total = loss(x, "sum")
    assert total.item() == 0.0
    total.backward()
    assert x.grad.shape == (0, 3)
    assert np.isnan(loss(x, "mean").item())  # PyTorch's mean of nothing, without a warning
    assert loss(x, "none").shape[0] == 0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_fused_losses_reduce_like_their_unfused_forms(dtype, reduction):
    rng = np.random.default_rng(0)
    logits, probs = rng.normal(size=(4, 3)).astype(dtype), rng.uniform(size=(4, 3)).astype(dtype)
    reduce = {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction]
    ce = -(probs * scipy.special.log_softmax(logits.astype(np.float64), axis=-1)).sum(-1)
    bce = np.logaddexp(0, logits.astype(np.float64)) - logits * probs
    for method, expected in (("cross_entropy", ce), ("bce_with_logits", bce)):
        fn = lambda x, m=method: getattr(x, m)(probs, reduction=reduction)  # noqa: E731
        x = Tensor(logits, requires_grad=True)
        out = fn(x)
        assert out.dtype == dtype
        np.testing.assert_allclose(out.data, reduce(expected), rtol=1e-5 if dtype == np.float32
                                   else 1e-12)
        assert gradcheck(weighted(fn, out.shape, dtype), Tensor(logits.astype(np.float64),
                                                                 requires_grad=True))


def test_fused_losses_name_a_bad_reduction():
    with pytest.raises(ValueError, match="cross_entropy: reduction must be 'mean', 'sum' or"):
        Tensor([[1.0, 2.0]]).cross_entropy([[0.0, 1.0]], reduction="avg")


# ---------------------------------------------------------------- property-based: edge values
EDGES = st.sampled_from([0.0, 0.0, 1.0, -1.0, 0.5, -0.5, 2.0])  # zeros twice: they matter most

# The derivative at every point, kinks included, by PyTorch's conventions: relu'(0) = 0,
# |x|'(0) = 0, and clip passes the gradient on its boundary.
DERIVATIVES = {
    "relu": (Tensor.relu, lambda a: (a > 0).astype(float)),
    "abs": (Tensor.abs, np.sign),
    "clip": (lambda t: t.clip(-0.5, 0.5), lambda a: ((a >= -0.5) & (a <= 0.5)).astype(float)),
    "square": (lambda t: t ** 2, lambda a: 2 * a),
    "pow0": (lambda t: t ** 0, np.zeros_like),
    "tanh": (Tensor.tanh, lambda a: 1 - np.tanh(a) ** 2),
    "sigmoid": (Tensor.sigmoid, lambda a: scipy.special.expit(a) * (1 - scipy.special.expit(a))),
}


@pytest.mark.parametrize("name", list(DERIVATIVES))
@PROPERTY
@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=2, max_side=4),
                    elements=EDGES))
def test_derivatives_at_kinks_and_zeros(name, x):
    fn, derivative = DERIVATIVES[name]
    t = Tensor(x, requires_grad=True)
    with strict():
        fn(t).sum().backward()
    np.testing.assert_allclose(t.grad, derivative(x), rtol=1e-12, atol=1e-15)


@PROPERTY
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
def test_max_ties_share_the_gradient_equally(data, shape):
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([0.0, 1.0])), label="x")
    axis = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1), label="axis")
    t = Tensor(x, requires_grad=True)
    t.max(axis=axis).sum().backward()
    winners = x == x.max(axis=axis, keepdims=True)
    np.testing.assert_allclose(t.grad, winners / winners.sum(axis=axis, keepdims=True))


@PROPERTY
@given(x=hnp.arrays(np.float64, st.integers(1, 6), elements=EDGES | st.just(-2.0)),
       y=st.sampled_from([0.0, 1.0, 2.0, 3.0, 0.5, -1.0, -2.0]))
def test_pow_gradients_follow_the_closed_form_at_every_base(x, y):
    """Base: y x^(y-1), but 0 for y = 0; exponent: x^y log x, but 0 at x = 0 for y >= 0."""
    base, exponent = Tensor(x, requires_grad=True), Tensor(np.full(x.shape, y), requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = base ** exponent
        expected_base = np.where(y == 0, 0.0, y * x ** (y - 1))
        expected_exponent = np.where((x == 0) & (y >= 0), 0.0, x ** y * np.log(x))
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        out.sum().backward()
    np.testing.assert_array_equal(base.grad, expected_base)
    np.testing.assert_array_equal(exponent.grad, expected_exponent)


@pytest.mark.parametrize("name", ["sum", "mean", "logsumexp", "softmax", "log_softmax"])
@PROPERTY
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3))
def test_reductions_and_normalisations_over_empty_shapes(name, data, shape):
    """Empty axes and batches: numpy's (and PyTorch's) values, no warning, gradients shaped."""
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    x = np.zeros(shape)
    t = Tensor(x, requires_grad=True)
    with strict():
        out = getattr(t, name)(axis=axis)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy's own mean of nothing warns: compare quietly
        if name in ("softmax", "log_softmax") and not x.size:
            expected = np.zeros(shape)  # scipy's fail on empty input: empty, the same shape
        else:
            expected = {"sum": np.sum, "mean": np.mean, "logsumexp": scipy.special.logsumexp,
                        "softmax": scipy.special.softmax,
                        "log_softmax": scipy.special.log_softmax}[name](x, axis=axis)
    np.testing.assert_array_equal(out.data, expected)
    with strict():
        out.backward(np.ones(out.shape))
    assert t.grad.shape == shape
