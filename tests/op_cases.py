"""The op table's cases, shared by the tests that run every primitive (test_ops, test_ops_reads,
test_torch_higher_order): one row per op in `ops.OPS`, calling it through the public Tensor API
with a numpy/scipy reference for its forward and inputs sampled away from kinks.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import scipy.special
from test_ops_conv import CONV_ROWS

import autograd.linalg
from autograd import Tensor, ops
from autograd.functions import (
    concatenate,
    cross_entropy_labels,
    logaddexp,
    maximum,
    minimum,
    stack,
    where,
)
from autograd.ops import Op


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
