"""numpy functions on Tensors: each one with a rule returns a differentiable Tensor; the others
raise a TypeError that names them.

Every case calls a numpy function the same way on Tensors and on plain arrays: the arrays give
the reference value, central differences the reference gradient. A test checks that every
entry of numpy_api's tables has a case, so a new entry cannot go untested.
"""

import re

import numpy as np
import pytest
import scipy.special
from test_arrange import ARRANGE_CASES

import autograd
from autograd import Tensor, concatenate, gradcheck, numpy_api


def normal(*shape):
    return lambda rng: rng.normal(size=shape)


def positive(*shape):
    return lambda rng: rng.uniform(0.5, 2.0, size=shape)


def banded(*shape):
    """Values within 0.3 of -1 or 1: away from the kinks of abs, clip and sign."""
    return lambda rng: rng.choice([-1.0, 1.0], size=shape) + rng.uniform(-0.3, 0.3, size=shape)


def distinct(*shape):
    """Values 0.25 apart at least: max and min without ties."""
    n = int(np.prod(shape))
    return lambda rng: (rng.permutation(n) - n / 2).reshape(shape) * 0.25


def spd(n):
    """A well-conditioned symmetric positive definite matrix."""
    return lambda rng: (lambda x: x @ x.T + n * np.eye(n))(rng.normal(size=(n, n)))


# (numpy function, call, samplers): call(*Tensors) must equal call(*arrays) and differentiate.
CASES = [
    # ufuncs, with a number or an array on either side
    (np.add, lambda x, y: np.add(x, y), (normal(2, 3), normal(3))),
    (np.add, lambda x: np.add(1.5, x), (normal(2, 3),)),
    (np.subtract, lambda x, y: np.subtract(x, y), (normal(2, 3), normal(2, 1))),
    (np.multiply, lambda x, y: np.multiply(x, y), (normal(2, 3), normal(2, 3))),
    (np.divide, lambda x, y: np.divide(x, y), (normal(2, 3), banded(3))),
    (np.divide, lambda x: np.true_divide(2.0, x), (banded(2, 3),)),
    (np.power, lambda x, y: np.power(x, y), (positive(2, 3), normal(3))),
    (np.matmul, lambda x, y: np.matmul(x, y), (normal(2, 3), normal(3, 4))),
    (np.negative, lambda x: np.negative(x), (normal(2, 3),)),
    (np.positive, lambda x: np.positive(x) * 1, (normal(2, 3),)),
    (np.reciprocal, lambda x: np.reciprocal(x), (banded(2, 3),)),
    (np.exp, lambda x: np.exp(x), (normal(2, 3),)),
    (np.expm1, lambda x: np.expm1(x), (normal(2, 3),)),
    (np.log, lambda x: np.log(x), (positive(2, 3),)),
    (np.log1p, lambda x: np.log1p(x), (positive(2, 3),)),
    (np.sqrt, lambda x: np.sqrt(x), (positive(2, 3),)),
    (np.square, lambda x: np.square(x), (normal(2, 3),)),
    (np.absolute, lambda x: np.abs(x), (banded(2, 3),)),
    (np.fabs, lambda x: np.fabs(x), (banded(2, 3),)),
    (np.sin, lambda x: np.sin(x), (normal(2, 3),)),
    (np.cos, lambda x: np.cos(x), (normal(2, 3),)),
    (np.tanh, lambda x: np.tanh(x), (normal(2, 3),)),
    (np.maximum, lambda x, y: np.maximum(x, y), (distinct(2, 3), distinct(3))),
    (np.maximum, lambda x: np.maximum(x, 0), (banded(2, 3),)),
    (np.minimum, lambda x, y: np.minimum(x, y), (distinct(2, 3), distinct(2, 1))),
    (np.logaddexp, lambda x, y: np.logaddexp(x, y), (normal(2, 3), normal(3))),
    (np.tan, lambda x: np.tan(x), (normal(2, 3),)),
    (np.sinh, lambda x: np.sinh(x), (normal(2, 3),)),
    (np.cosh, lambda x: np.cosh(x), (normal(2, 3),)),
    (np.arcsin, lambda x: np.arcsin(x / 2), (banded(2, 3),)),
    (np.arccos, lambda x: np.arccos(x / 2), (banded(2, 3),)),
    (np.arctan, lambda x: np.arctan(x), (normal(2, 3),)),
    (np.arcsinh, lambda x: np.arcsinh(x), (normal(2, 3),)),
    (np.arccosh, lambda x: np.arccosh(x + 1), (positive(2, 3),)),
    (np.arctanh, lambda x: np.arctanh(x / 2), (banded(2, 3),)),
    (np.arctan2, lambda x, y: np.arctan2(x, y), (normal(2, 3), banded(3))),
    (np.hypot, lambda x, y: np.hypot(x, y), (normal(2, 3), banded(3))),
    (np.sinc, lambda x: np.sinc(x), (normal(2, 3),)),
    (np.log2, lambda x: np.log2(x), (positive(2, 3),)),
    (np.log10, lambda x: np.log10(x), (positive(2, 3),)),
    (np.exp2, lambda x: np.exp2(x), (normal(2, 3),)),
    (np.logaddexp2, lambda x, y: np.logaddexp2(x, y), (normal(2, 3), normal(3))),
    (np.cbrt, lambda x: np.cbrt(x), (banded(2, 3),)),
    (np.deg2rad, lambda x: np.deg2rad(x), (normal(2, 3),)),
    (np.radians, lambda x: np.radians(x), (normal(2, 3),)),
    (np.rad2deg, lambda x: np.rad2deg(x), (normal(2, 3),)),
    (np.degrees, lambda x: np.degrees(x), (normal(2, 3),)),
    (np.fmax, lambda x, y: np.fmax(x, y + 0.125), (distinct(2, 3), distinct(3))),
    (np.fmin, lambda x, y: np.fmin(x, y + 0.125), (distinct(2, 3), distinct(2, 1))),
    (np.remainder, lambda x, y: np.remainder(x, y), (positive(2, 3), banded(3))),
    (np.remainder, lambda x: np.mod(2.0, x), (banded(2, 3),)),
    (np.conjugate, lambda x: np.conj(x) * 1, (normal(2, 3),)),
    (np.real, lambda x: np.real(x) * 1, (normal(2, 3),)),
    (np.nan_to_num, lambda x: np.nan_to_num(x, nan=1.0), (normal(2, 3),)),
    # ufunc.reduce
    (np.add.reduce, lambda x: np.add.reduce(x, axis=1), (normal(2, 3),)),
    (np.multiply.reduce, lambda x: np.multiply.reduce(x), (normal(2, 3),)),
    (np.maximum.reduce, lambda x: np.maximum.reduce(x, axis=-1, keepdims=True),
     (distinct(2, 3),)),
    (np.minimum.reduce, lambda x: np.minimum.reduce(x, axis=None), (distinct(2, 3),)),
    # reductions
    (np.sum, lambda x: np.sum(x, axis=1), (normal(2, 3),)),
    (np.sum, lambda x: np.sum(x, 0, None, None, True), (normal(2, 3),)),  # keepdims positional
    (np.mean, lambda x: np.mean(x), (normal(2, 3),)),
    (np.mean, lambda x: np.mean(x, axis=(0, 2), keepdims=True), (normal(2, 3, 2),)),
    (np.max, lambda x: np.max(x), (distinct(2, 3),)),
    (np.max, lambda x: np.max(x, 1, None, True), (distinct(2, 3),)),  # keepdims positional
    (np.amax, lambda x: np.amax(x, axis=0), (distinct(2, 3),)),
    (np.min, lambda x: np.min(x, axis=-1), (distinct(2, 3),)),
    (np.amin, lambda x: np.amin(x), (distinct(2, 3),)),
    (np.prod, lambda x: np.prod(x, axis=0), (normal(3, 2),)),
    (np.var, lambda x: np.var(x, axis=1, ddof=1), (normal(2, 3),)),
    (np.std, lambda x: np.std(x, axis=0, keepdims=True), (normal(3, 2),)),
    (np.linalg.norm, lambda x: np.linalg.norm(x), (normal(2, 3),)),
    (np.linalg.norm, lambda x: np.linalg.norm(x, 2, axis=1), (normal(2, 3),)),
    (np.linalg.norm, lambda x: np.linalg.norm(x, "fro", axis=(0, 1)), (normal(2, 3),)),
    # numpy's order first: a matrix norm of a 2-D array, a vector norm of a 1-D one
    (np.linalg.norm, lambda x: np.linalg.norm(x, 1), (distinct(3, 4),)),
    (np.linalg.norm, lambda x: np.linalg.norm(x, -np.inf, keepdims=True), (distinct(3, 4),)),
    (np.linalg.norm, lambda x: np.linalg.norm(x, np.inf, axis=(1, 0)), (distinct(3, 4),)),
    (np.linalg.norm, lambda x: np.linalg.norm(x, 3), (banded(5),)),
    (np.linalg.norm, lambda x: np.linalg.norm(x, -0.5, axis=0, keepdims=True), (banded(3, 2),)),
    (np.linalg.norm, lambda x: np.linalg.norm(x, axis=(0, 2)), (normal(2, 3, 2),)),
    # shapes
    (np.reshape, lambda x: np.reshape(x, (3, 2)), (normal(2, 3),)),
    (np.reshape, lambda x: np.reshape(x, -1), (normal(2, 3),)),
    (np.ravel, lambda x: np.ravel(x), (normal(2, 3),)),
    (np.transpose, lambda x: np.transpose(x), (normal(2, 3, 4),)),
    (np.transpose, lambda x: np.transpose(x, (1, 2, 0)), (normal(2, 3, 4),)),
    (np.swapaxes, lambda x: np.swapaxes(x, 0, 2), (normal(2, 3, 4),)),
    (np.squeeze, lambda x: np.squeeze(x), (normal(1, 3, 1),)),
    (np.squeeze, lambda x: np.squeeze(x, axis=0), (normal(1, 3, 1),)),
    (np.expand_dims, lambda x: np.expand_dims(x, (0, -1)), (normal(2, 3),)),
    (np.broadcast_to, lambda x: np.broadcast_to(x, (4, 2, 3)), (normal(2, 1),)),
    (np.clip, lambda x: np.clip(x, -0.5, 0.5), (banded(2, 3),)),
    (np.clip, lambda x: np.clip(x, None, 0.5), (banded(2, 3),)),
    (np.clip, lambda x: np.clip(x, min=-0.5), (banded(2, 3),)),
    # several tensors
    (np.concatenate, lambda x, y: np.concatenate([x, y]), (normal(2, 3), normal(1, 3))),
    (np.concatenate, lambda x, y: np.concatenate((x, y), axis=-1), (normal(2, 3), normal(2, 1))),
    (np.concatenate, lambda x, y: np.concatenate([x, y], axis=None), (normal(2, 2), normal(3))),
    (np.stack, lambda x, y: np.stack([x, y], axis=1), (normal(2, 3), normal(2, 3))),
    (np.split, lambda x: np.split(x, 3, axis=1)[1] * np.split(x, [-1])[0].sum(),
     (normal(2, 3),)),
    (np.where, lambda x, y: np.where(np.array([True, False, True]), x, y),
     (normal(2, 3), normal(2, 1))),
    (np.dot, lambda x, y: np.dot(x, y), (normal(2, 3), normal(3))),
    (np.dot, lambda x, y: np.dot(x, y), (normal(3), normal(3))),
    (np.dot, lambda x: np.dot(x, 2.0), (normal(2, 3),)),
    (np.dot, lambda x: np.dot(2.0, x), (normal(2, 3, 2),)),  # numpy: a scalar times any ndim
    (np.dot, lambda x, y: np.dot(x, y), (normal(), normal(2, 1, 3, 2))),
    # linear algebra and contractions (autograd.linalg, autograd.contractions)
    (np.linalg.solve, lambda a, b: np.linalg.solve(a, b), (spd(3), normal(3))),
    (np.linalg.inv, lambda a: np.linalg.inv(a), (spd(3),)),
    (np.linalg.det, lambda a: np.linalg.det(a), (normal(2, 3, 3),)),
    (np.linalg.slogdet, lambda a: np.linalg.slogdet(a)[1], (normal(3, 3),)),
    (np.linalg.cholesky, lambda a: np.linalg.cholesky(a), (spd(3),)),
    (np.linalg.eigh, lambda a: np.linalg.eigh(a)[1] * np.linalg.eigh(a).eigenvalues, (spd(3),)),
    (np.linalg.eigvalsh, lambda a: np.linalg.eigvalsh(a), (normal(3, 3),)),
    (np.linalg.svd, lambda a: np.linalg.svd(a, full_matrices=False)[0], (normal(4, 3),)),
    (np.linalg.qr, lambda a: np.linalg.qr(a).R, (normal(4, 3),)),
    (np.linalg.pinv, lambda a: np.linalg.pinv(a), (normal(3, 4),)),
    (np.linalg.matrix_power, lambda a: np.linalg.matrix_power(a, 3), (normal(3, 3),)),
    (np.einsum, lambda x, y: np.einsum("...ij,jk", x, y), (normal(2, 2, 3), normal(3, 4))),
    (np.tensordot, lambda x, y: np.tensordot(x, y, axes=([0], [1])),
     (normal(2, 3), normal(4, 2))),
    (np.dot, lambda x, y: np.dot(x, y), (normal(2, 2, 3), normal(4, 3, 2))),
    (np.vdot, lambda x, y: np.vdot(x, y), (normal(2, 3), normal(3, 2))),
    (np.inner, lambda x, y: np.inner(x, y), (normal(2, 3), normal(4, 3))),
    (np.outer, lambda x, y: np.outer(x, y), (normal(2), normal(2, 2))),
    (np.kron, lambda x, y: np.kron(x, y), (normal(2, 2), normal(3))),
    (np.trace, lambda x: np.trace(x, 1), (normal(3, 4),)),
    (np.diag, lambda x: np.diag(x, 1), (normal(3),)),
    (np.diagonal, lambda x: np.diagonal(x, -1, 2, 0), (normal(3, 2, 4),)),
    (np.tril, lambda x: np.tril(x, -1), (normal(2, 3, 3),)),
    (np.triu, lambda x: np.triu(x, 1), (normal(3, 4),)),
    (np.cross, lambda x, y: np.cross(x, y, axisa=0), (normal(3, 2), normal(2, 3))),
    (np.real_if_close, lambda x: np.real_if_close(x) * 1, (normal(2, 3),)),
]
CASES += ARRANGE_CASES  # building and rearranging: tests/test_arrange.py


def ids(cases):
    return [f"{getattr(f, '__name__', f)}-{i}" for i, (f, _, _) in enumerate(cases)]


def make(samplers, seed=0):
    rng = np.random.default_rng(seed)
    return [sample(rng) for sample in samplers]


@pytest.mark.parametrize("func, call, samplers", CASES, ids=ids(CASES))
def test_numpy_function_returns_a_differentiable_tensor(func, call, samplers):
    arrays = make(samplers)
    x = [Tensor(a, requires_grad=True) for a in arrays]
    out = call(*x)
    assert isinstance(out, Tensor) and out.requires_grad and out.op is not None
    np.testing.assert_allclose(out.data, call(*arrays), rtol=1e-12, atol=1e-12)
    weights = np.random.default_rng(1).normal(size=out.shape)
    assert gradcheck(lambda *t: call(*t) * weights, *x)


@pytest.mark.parametrize("func, call, samplers", CASES, ids=ids(CASES))
def test_numpy_function_keeps_float32(func, call, samplers):
    x = [Tensor(a.astype(np.float32), requires_grad=True) for a in make(samplers)]
    out = call(*x)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, np.float32))
    assert all(t.grad.dtype == np.float32 for t in x)


def test_every_numpy_rule_has_a_case():
    tested = {func for func, _, _ in CASES} | {func for func, _ in CONSTANTS} | set(DATA)
    rules = set(numpy_api.UFUNCS) | set(numpy_api.FUNCTIONS) | numpy_api.CONSTANT_UFUNCS
    missing = [getattr(f, "__name__", str(f)) for f in rules if f not in tested]
    assert not missing, f"numpy functions with a rule but no case here: {missing}"
    reducers = {f.__self__ for f, _, _ in CASES if getattr(f, "__name__", "") == "reduce"}
    assert reducers == set(numpy_api.REDUCERS)


# ---------------------------------------------------------------- answers without a gradient
CONSTANTS = [(np.sign, np.sign), (np.floor, np.floor), (np.ceil, np.ceil), (np.trunc, np.trunc),
             (np.rint, np.rint), (np.round, lambda a: np.round(a, 1)),
             (np.around, lambda a: np.around(a)), (np.imag, np.imag),
             (np.floor_divide, lambda a: np.floor_divide(a, 0.75)),
             (np.angle, np.angle), (np.angle, lambda a: np.angle(a, deg=True))]


@pytest.mark.parametrize("func, call", CONSTANTS, ids=[f.__name__ for f, _ in CONSTANTS])
def test_piecewise_constant_functions_give_constant_tensors(func, call):
    a = np.array([-1.75, -0.5, -0.0, 0.0, 0.25, 2.5])
    out = call(Tensor(a, requires_grad=True))
    assert isinstance(out, Tensor) and not out.requires_grad  # its gradient is 0 anyway
    np.testing.assert_array_equal(out.data, call(a))


DATA = {
    np.shape: lambda x: np.shape(x), np.ndim: lambda x: np.ndim(x), np.size: lambda x: np.size(x),
    np.argmax: lambda x: np.argmax(x, axis=1), np.argmin: lambda x: np.argmin(x),
    np.argsort: lambda x: np.argsort(x), np.nonzero: lambda x: np.nonzero(x > 0),
    np.argpartition: lambda x: np.argpartition(x, 1, axis=None),
    np.count_nonzero: lambda x: np.count_nonzero(x),
    np.allclose: lambda x: np.allclose(x, x), np.isclose: lambda x: np.isclose(x, 0.5),
    np.array_equal: lambda x: np.array_equal(x, x), np.result_type: lambda x: np.result_type(x),
    np.iscomplexobj: lambda x: np.iscomplexobj(x), np.isrealobj: lambda x: np.isrealobj(x),
    np.any: lambda x: np.any(x), np.all: lambda x: np.all(x),
    np.array_repr: lambda x: np.array_repr(x), np.array_str: lambda x: np.array_str(x),
    # plain arrays, as numpy's: a constant made in a tensor's shape has nothing to differentiate
    np.zeros_like: lambda x: np.zeros_like(x), np.ones_like: lambda x: np.ones_like(x),
    np.full_like: lambda x: np.full_like(x, 2.5, dtype=np.float32),
    np.empty_like: lambda x: np.empty_like(x).shape,
    np.einsum_path: lambda x: np.einsum_path("ij,kj->ik", x, x)[1],  # its report, a str
}


@pytest.mark.parametrize("func", list(DATA), ids=[f.__name__ for f in DATA])
def test_functions_of_shapes_and_indices_answer_with_plain_data(func):
    a = np.array([[0.5, -1.0, 2.0], [0.0, 3.0, -2.0]])
    got, want = DATA[func](Tensor(a, requires_grad=True)), DATA[func](a)
    assert not isinstance(got, Tensor)
    if isinstance(want, tuple):
        for g, w in zip(got, want, strict=True):
            np.testing.assert_array_equal(g, w)
    else:
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("ufunc", sorted(numpy_api.BOOL_UFUNCS, key=lambda u: u.__name__),
                         ids=lambda u: u.__name__)
def test_comparisons_and_tests_answer_with_bool_arrays(ufunc):
    a, b = np.array([0.5, -1.0, np.inf, 0.0]), np.array([0.5, 2.0, 1.0, -0.0])
    args = (a,) if ufunc.nin == 1 else (a, b)
    with np.errstate(invalid="ignore"):
        got = ufunc(*(Tensor(v) for v in args))
    assert type(got) is np.ndarray and got.dtype == bool
    np.testing.assert_array_equal(got, ufunc(*args))


# ---------------------------------------------------------------- refusals that name the function
@pytest.mark.parametrize("call, message", [
    (lambda x: np.nancumsum(x), r"np\.nancumsum has no gradient rule"),
    (lambda x: np.median(x), r"np\.median has no gradient rule"),
    (lambda x: np.linalg.eig(x), r"np\.linalg\.eig has no gradient rule"),
    (lambda x: np.resize(x, 5), r"np\.resize has no gradient rule"),
    (lambda x: np.fmod(x, 2.0), r"np\.fmod has no gradient rule"),
    (lambda x: np.linalg.lstsq(x, x), r"np\.linalg\.lstsq has no gradient rule"),
    (lambda x: np.maximum.accumulate(x), r"np\.maximum\.accumulate has no gradient rule"),
    (lambda x: np.cumsum(x, dtype=np.float32), r"np\.cumsum\(\.\.\., dtype=/out=\)"),
    (lambda x: np.multiply.outer(x, x), r"np\.multiply\.outer has no gradient rule"),
    (lambda x: np.exp(x, out=np.empty((2, 2))), r"np\.exp\(\.\.\., out=\.\.\.\)"),
    (lambda x: np.exp(x, dtype=np.float32), r"np\.exp\(\.\.\., dtype=.*float32"),
    (lambda x: np.sum(x, dtype=np.float32), r"np\.sum\(\.\.\., dtype="),
    (lambda x: np.mean(x, where=np.ones((2, 2), bool)), r"np\.mean\(\.\.\., where="),
    (lambda x: np.max(x, initial=0.0), r"np\.max\(\.\.\., initial="),
    (lambda x: np.dot(x, x, out=np.empty((2, 2))), r"np\.dot\(\.\.\., out="),
    # once silently dropped: an output array left unwritten, a dtype or an order ignored, and
    # the 2-norm of all elements given where numpy gives the largest singular value
    (lambda x: np.concatenate([x, x], out=np.empty((4, 2))), r"np\.concatenate\(\.\.\., out="),
    (lambda x: np.stack([x, x], dtype=np.float32), r"np\.stack\(\.\.\., dtype="),
    (lambda x: np.clip(x, 0, 1, out=np.empty((2, 2))), r"np\.clip\(\.\.\., out=<ndarray of"),
    (lambda x: np.round(x, out=np.empty((2, 2))), r"np\.round\(\.\.\., out="),
    (lambda x: np.ravel(x, order="F"), r"np\.ravel\(\.\.\., order='F'\)"),
])
def test_a_numpy_call_without_a_rule_is_a_type_error_that_names_it(call, message):
    with pytest.raises(TypeError, match=message):
        call(Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True))


def test_a_failed_numpy_call_leaves_the_array_it_was_given_untouched():
    out = np.zeros((4, 2))
    with pytest.raises(TypeError):
        np.concatenate([Tensor(np.ones((2, 2))), Tensor(np.ones((2, 2)))], out=out)
    np.testing.assert_array_equal(out, 0.0)


@pytest.mark.parametrize("func", [np.sum, np.mean, np.max])
def test_a_list_of_tensors_never_silently_loses_the_graph(func):
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    try:
        out = func([x, x * 2])
    except TypeError:
        return  # an error naming the problem is fine too
    assert isinstance(out, Tensor) and out.requires_grad


# ---------------------------------------------------------------- no rule: what to write instead
A = np.array([[1.0, 2.5, -0.5], [0.75, -1.5, 3.0]])
# numpy's name called on a Tensor, and the spelling its message gives, written out for A
NO_RULE = {
    "multiply.outer": (lambda t: np.multiply.outer(t[0], t[1]),
                       lambda t: t[0][:, None] * t[1][None, :]),
    "average": (lambda t: np.average(t, axis=0, weights=[1.0, 3.0]),
                lambda t: (t * np.array([[1.0], [3.0]])).sum(axis=0) / 4.0),
    "ptp": (lambda t: np.ptp(t, axis=1), lambda t: t.max(axis=1) - t.min(axis=1)),
    "nansum": (lambda t: np.nansum(t / t * t, axis=0),  # (no nan in A: a plain sum)
               lambda t: autograd.where(np.isnan(t.data), 0, t).sum(axis=0)),
    "float_power": (lambda t: np.float_power(t, 3.0), lambda t: t ** 3.0),
    "erf": (scipy.special.erf, Tensor.erf), "erfc": (scipy.special.erfc, autograd.erfc),
}


def test_every_spelling_has_a_case():
    assert sorted(NO_RULE) == sorted(numpy_api.SPELLINGS)


@pytest.mark.parametrize("key", sorted(NO_RULE))
def test_a_name_without_a_rule_says_the_differentiable_spelling_first(key):
    name = f"np.{key}" if hasattr(np, key.split(".")[0]) else f"the ufunc {key}"  # scipy's erf
    with pytest.raises(TypeError) as info:
        NO_RULE[key][0](Tensor(A, requires_grad=True))
    assert str(info.value) == (
        f"{name} has no gradient rule in npgrad; with a gradient, write "
        f"{numpy_api.SPELLINGS[key]}; {name} on t.data gives a plain array without a gradient")


@pytest.mark.parametrize("key", sorted(k for k in NO_RULE if NO_RULE[k][1] is not None))
def test_each_spelling_computes_numpys_result_with_a_gradient(key):
    numpy_call, spelled = NO_RULE[key]
    with np.errstate(divide="ignore"):
        want = numpy_call(A)
    got = spelled(Tensor(A))
    np.testing.assert_allclose(got.data, want, rtol=1e-14)
    assert gradcheck(spelled, Tensor(A, requires_grad=True))


@pytest.mark.parametrize("key", sorted(NO_RULE))
def test_each_spelling_names_what_exists(key):
    hint = numpy_api.SPELLINGS[key]
    for method in re.findall(r"\b[tu]\.(\w+)", hint):
        assert method in ("data", "shape", "dtype") or hasattr(Tensor, method), (key, method)
    for function in re.findall(r"\bautograd\.(\w+)", hint):
        assert hasattr(autograd, function), (key, function)


def test_an_ndarray_method_without_a_rule_says_the_spelling_then_the_data(monkeypatch):
    monkeypatch.setitem(numpy_api.SPELLINGS, "partition", "np.sort(t)")  # read at each error
    with pytest.raises(AttributeError, match=re.escape(
            "'Tensor' object has no attribute 'partition': ndarray.partition has no gradient "
            "rule in npgrad; with a gradient, write np.sort(t); t.data.partition gives a plain "
            "array without a gradient")):
        Tensor(A).partition(1)
    monkeypatch.undo()
    with pytest.raises(AttributeError, match=r"ndarray\.argpartition has no gradient rule in "
                                             r"npgrad \(see the README's table .*\); "
                                             r"t\.data\.argpartition gives a plain array"):
        Tensor(A).argpartition(1)
    np.testing.assert_array_equal(Tensor(A).ravel().data, A.ravel())  # a method now: no hint


def test_names_without_a_spelling_keep_the_plain_message():
    with pytest.raises(TypeError, match=r"^np\.linalg\.eig has no gradient rule in npgrad \(see "
                                        r"the README's table of the Tensor surface\); "
                                        r"np\.linalg\.eig on t\.data gives a plain array without "
                                        r"a gradient$"):
        np.linalg.eig(Tensor(A[:, :2]))


def test_a_name_with_a_rule_gives_no_hint(monkeypatch):
    # the table is read only on the way to the error: a rule, once added, answers first
    monkeypatch.setitem(numpy_api.FUNCTIONS, np.hstack,
                        lambda tensors: concatenate(tensors, axis=1))
    np.testing.assert_array_equal(np.hstack([Tensor(A), Tensor(A)]).data, np.hstack([A, A]))


# ---------------------------------------------------------------- no hook: numpy converts itself
# np.array, the index tricks and the scalar types convert a Tensor through Tensor.__array__
# (numpy offers no dispatch for them): refused for tensors that require grad, the message
# naming the spelling that records; each spelling gives numpy's values, with a gradient.
CONVERSIONS = {
    "np.stack([a, b])": (lambda a, b: np.array([a, b]), lambda a, b: np.stack([a, b])),
    "np.copy(t)": (lambda a, b: np.array(a), lambda a, b: np.copy(a)),
    "np.concatenate([a, b])": (lambda a, b: np.r_[a, b], lambda a, b: np.concatenate([a, b])),
    "np.column_stack([a, b])": (lambda a, b: np.c_[a, b], lambda a, b: np.column_stack([a, b])),
    "a + b": (lambda a, b: np.sum([a, b], axis=0), lambda a, b: a + b),
    "t.data.astype(np.int64)": (lambda a, b: np.int64(a), lambda a, b: a.data.astype(np.int64)),
    "int(t)": (lambda a, b: np.int64(a[1]), lambda a, b: int(a[1])),
}


@pytest.mark.parametrize("spelling", list(CONVERSIONS))
def test_conversions_numpy_makes_itself_are_refused_naming_the_spelling(spelling):
    build, spelled = CONVERSIONS[spelling]
    a, b = np.array([1.5, 2.0, -3.0]), np.array([0.25, 4.0, 1.0])
    with pytest.raises(TypeError, match="drop the graph") as info:
        build(Tensor(a, requires_grad=True), Tensor(b, requires_grad=True))
    assert spelling in str(info.value)
    got = spelled(Tensor(a, requires_grad=True), Tensor(b, requires_grad=True))
    np.testing.assert_array_equal(getattr(got, "data", got), build(a, b))
    if isinstance(got, Tensor) and got.dtype.kind == "f":
        assert got.requires_grad
