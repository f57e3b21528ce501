"""numpy functions on Tensors: `np.exp(t)`, `np.sum(t, axis=1)`, `np.concatenate([a, b])` run the
same ops as Tensor methods, so their results are differentiable Tensors.

numpy hands a Tensor argument to `array_ufunc` (ufuncs: np.exp, np.add, np.maximum, comparisons)
or to `array_function` (the rest: np.sum, np.reshape, np.where, ...). Two tables map numpy's
functions to Tensor methods and `autograd.functions`: no gradient rule lives here. A numpy
function that has no rule raises a TypeError naming it, never a plain array without the graph.
Comparisons and tests (np.isfinite) return bool arrays, as the comparison operators do.
"""

import operator

import numpy as np

from . import arrange, contractions, functions, linalg, norms, ops
from .tensor import Tensor, apply, lift

# ---------------------------------------------------------------- ufuncs
UFUNCS = {
    np.add: operator.add, np.subtract: operator.sub, np.multiply: operator.mul,
    np.divide: operator.truediv, np.power: operator.pow, np.matmul: operator.matmul,
    np.negative: operator.neg, np.positive: operator.pos, np.reciprocal: lambda x: 1 / x,
    np.exp: Tensor.exp, np.expm1: Tensor.expm1, np.log: Tensor.log, np.log1p: Tensor.log1p,
    np.sqrt: Tensor.sqrt, np.square: Tensor.square, np.absolute: Tensor.abs, np.fabs: Tensor.abs,
    np.sin: Tensor.sin, np.cos: Tensor.cos, np.tanh: Tensor.tanh,
    np.maximum: functions.maximum, np.minimum: functions.minimum,
    np.logaddexp: functions.logaddexp,
    np.tan: Tensor.tan, np.sinh: Tensor.sinh, np.cosh: Tensor.cosh, np.arcsin: Tensor.arcsin,
    np.arccos: Tensor.arccos, np.arctan: Tensor.arctan, np.arcsinh: Tensor.arcsinh,
    np.arccosh: Tensor.arccosh, np.arctanh: Tensor.arctanh, np.arctan2: Tensor.arctan2,
    np.hypot: Tensor.hypot, np.log2: Tensor.log2, np.log10: Tensor.log10,
    np.exp2: Tensor.exp2, np.logaddexp2: Tensor.logaddexp2, np.cbrt: lambda x: apply(ops.cbrt, x),
    np.deg2rad: Tensor.deg2rad, np.radians: Tensor.deg2rad, np.rad2deg: Tensor.rad2deg,
    np.degrees: Tensor.rad2deg, np.fmax: Tensor.fmax, np.fmin: Tensor.fmin,
    np.remainder: Tensor.remainder, np.conjugate: Tensor.conj,
}
# No gradient to give: comparisons and tests answer with bool arrays, and piecewise-constant
# functions (gradient 0 wherever it exists) with constant Tensors.
BOOL_UFUNCS = {np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal,
               np.isfinite, np.isnan, np.isinf, np.signbit, np.logical_and, np.logical_or,
               np.logical_not, np.logical_xor}
CONSTANT_UFUNCS = {np.sign, np.floor, np.ceil, np.trunc, np.rint, np.floor_divide}
# ufunc.reduce, as np.add.reduce(t, axis) and np.maximum.reduce are spelled by some
REDUCERS = {np.add: "sum", np.multiply: "prod", np.maximum: "max", np.minimum: "min"}
ACCUMULATORS = {np.add: arrange.cumsum, np.multiply: arrange.cumprod}  # np.add.accumulate(t)


def array_ufunc(ufunc, method, inputs, kwargs):
    """Tensor.__array_ufunc__: a numpy ufunc called with a Tensor among its operands."""
    # (scipy.special's ufuncs come here too: named as such, since np has no erf)
    known = getattr(np, ufunc.__name__, None) is ufunc
    name = (f"np.{ufunc.__name__}" if known else f"the ufunc {ufunc.__name__}") + (
        "" if method == "__call__" else f".{method}")
    if kwargs.get("out") is not None:
        raise TypeError(f"{name}(..., out=...): numpy cannot write into a Tensor, nor a Tensor "
                        "into an array; use the in-place operators (t += ...) or the arrays "
                        "(t.data)")
    if method == "reduce" and ufunc in REDUCERS:
        (x,) = inputs
        _refuse(name, kwargs, ("axis", "keepdims"))
        return getattr(_tensor(x), REDUCERS[ufunc])(axis=kwargs.get("axis", 0),
                                                      keepdims=kwargs.get("keepdims", False))
    if method == "accumulate" and ufunc in ACCUMULATORS:
        (x,) = inputs
        _refuse(name, kwargs, ("axis",))
        return ACCUMULATORS[ufunc](x, axis=kwargs.get("axis", 0))
    if method != "__call__":
        raise TypeError(no_rule(name, f"{ufunc.__name__}.{method}", f"{name} on t.data"))
    _refuse(name, kwargs, ())
    arrays = [x.data if isinstance(x, Tensor) else x for x in inputs]
    if ufunc in BOOL_UFUNCS:
        return ufunc(*arrays)
    if ufunc in CONSTANT_UFUNCS:
        return Tensor(ufunc(*arrays))
    if ufunc not in UFUNCS:
        raise TypeError(no_rule(name, ufunc.__name__, f"{name} on t.data"))
    return UFUNCS[ufunc](*_tensors(inputs, name))


# ---------------------------------------------------------------- other numpy functions
def _reduction(method):
    def reduce(a, axis=None, dtype=None, out=None, keepdims=False, **rest):
        _refuse(f"np.{method}", dict(dtype=dtype, out=out, **rest), ())
        return getattr(_tensor(a), method)(axis=axis, keepdims=keepdims)
    return reduce


def _extreme(method):
    # np.max and np.min take no dtype: their third positional argument is out
    def reduce(a, axis=None, out=None, keepdims=False, **rest):
        _refuse(f"np.{method}", dict(out=out, **rest), ())
        return getattr(_tensor(a), method)(axis=axis, keepdims=keepdims)
    return reduce


def _spread(method):
    def spread(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **rest):
        _refuse(f"np.{method}", dict(dtype=dtype, out=out, **rest), ())
        return getattr(_tensor(a), method)(axis=axis, ddof=ddof, keepdims=keepdims)
    return spread


def _reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    _refuse("np.reshape", dict(order=None if order == "C" else order, copy=copy), ())
    return _tensor(a).reshape(shape if shape is not None else newshape)


def _where(condition, x=None, y=None):
    if x is None and y is None:  # np.where(cond): the indices where it holds, data only
        return np.nonzero(condition.data if isinstance(condition, Tensor) else condition)
    return functions.where(condition, x, y)


def _norm(x, ord=None, axis=None, keepdims=False):
    # numpy's meaning: without an axis, ord=None is the 2-norm of all the elements, and any
    # other order a vector norm of a 1-D array or a matrix norm of a 2-D one.
    x = _tensor(x)
    if axis is None and ord is not None:
        if x.ndim not in (1, 2):
            raise ValueError(f"np.linalg.norm(ord={ord!r}) of a {x.ndim}-D array: numpy takes "
                             "an order without an axis only for 1-D and 2-D arrays")
        axis = tuple(range(x.ndim))
    if axis is not None and not isinstance(axis, int) and len(axis) not in (1, 2):
        raise ValueError(f"np.linalg.norm(axis={axis!r}): numpy takes one axis (a vector norm) "
                         "or two (a matrix norm)")
    return norms.norm(x, ord, axis, keepdims)


def _clip(a, a_min=np._NoValue, a_max=np._NoValue, out=None, *, min=np._NoValue,
          max=np._NoValue, **kwargs):
    _refuse("np.clip", dict(out=out, **kwargs), ())
    lo, hi = (None if v is np._NoValue else v for v in (
        a_min if min is np._NoValue else min, a_max if max is np._NoValue else max))
    return _tensor(a).clip(lo, hi)


def _joining(function):
    """np.concatenate or np.stack: their out= and dtype= are refused, never silently dropped."""
    def join(arrays, axis=0, out=None, **kwargs):
        _refuse(f"np.{function.__name__}", dict(out=out, **kwargs), ())
        return function(arrays, axis)
    return join


def _round(a, decimals=0, out=None):
    _refuse("np.round", dict(out=out), ())
    return Tensor(np.round(_tensor(a).data, decimals))  # piecewise constant: no gradient


def _without_out(name, function):
    """A numpy function of two arrays whose out= is refused, never silently dropped."""
    def run(a, b, out=None):
        _refuse(f"np.{name}", dict(out=out), ())
        return function(a, b)
    return run


def _data_only(func):
    """A numpy function whose answer is not a float array of values (shapes, indices, bools):
    it runs on the arrays, and has no gradient to lose."""
    def run(*args, **kwargs):
        return func(*_plain(args), **{k: _plain(v) for k, v in kwargs.items()})
    return run


FUNCTIONS = {
    np.sum: _reduction("sum"), np.mean: _reduction("mean"), np.max: _extreme("max"),
    np.amax: _extreme("max"), np.min: _extreme("min"), np.amin: _extreme("min"),
    np.prod: _reduction("prod"), np.var: _spread("var"), np.std: _spread("std"),
    np.reshape: _reshape,
    np.ravel: lambda a, order="C": _tensor(a).reshape(-1) if order == "C" else _refuse(
        "np.ravel", {"order": order}, ()),
    np.transpose: lambda a, axes=None: _tensor(a).transpose(axes),
    np.swapaxes: lambda a, axis1, axis2: _tensor(a).swapaxes(axis1, axis2),
    np.squeeze: lambda a, axis=None: _tensor(a).squeeze(axis),
    np.expand_dims: lambda a, axis: _tensor(a).expand_dims(axis),
    np.broadcast_to: lambda array, shape, subok=False: _tensor(array).broadcast_to(shape),
    np.clip: _clip, np.concatenate: _joining(functions.concatenate),
    np.stack: _joining(functions.stack),
    np.split: lambda ary, indices_or_sections, axis=0: functions.split(ary, indices_or_sections,
                                                                        axis),
    np.where: _where, np.linalg.norm: _norm,
    np.round: _round, np.around: _round,
    np.nan_to_num: lambda x, copy=True, nan=0.0, posinf=None, neginf=None: _tensor(
        x).nan_to_num(nan, posinf, neginf),
    np.sinc: lambda x: _tensor(x).sinc(),
    np.real: lambda val: _tensor(val).real, np.imag: lambda val: _tensor(val).imag,
    # a real number's angle is 0 or pi (gradient 0: a constant), and it is its own real part
    np.angle: lambda z, deg=False: Tensor(np.angle(_tensor(z).data, deg)),
    np.real_if_close: lambda a, tol=100: _tensor(a),
    # new arrays from a tensor's shape and dtype: plain arrays, as numpy returns, with no graph
    **{f: _data_only(f) for f in (np.zeros_like, np.ones_like, np.full_like, np.empty_like)},
    **{f: _data_only(f) for f in (np.shape, np.ndim, np.size, np.argmax, np.argmin, np.argsort,
                                  np.argpartition,
                                  np.nonzero, np.count_nonzero, np.allclose, np.isclose,
                                  np.array_equal, np.result_type, np.iscomplexobj,
                                  np.isrealobj, np.any, np.all, np.array_repr, np.array_str)},
}

# linear algebra and contractions (autograd.linalg, autograd.contractions)
FUNCTIONS.update({
    np.linalg.solve: linalg.solve, np.linalg.inv: linalg.inv, np.linalg.det: linalg.det,
    np.linalg.slogdet: linalg.slogdet, np.linalg.cholesky: linalg.cholesky,
    np.linalg.eigh: linalg.eigh, np.linalg.eigvalsh: linalg.eigvalsh, np.linalg.svd: linalg.svd,
    np.linalg.qr: linalg.qr, np.linalg.pinv: linalg.pinv,
    np.linalg.matrix_power: linalg.matrix_power,
    np.einsum: contractions.einsum, np.tensordot: contractions.tensordot,
    np.dot: _without_out("dot", contractions.dot), np.vdot: contractions.vdot,
    np.inner: contractions.inner, np.outer: _without_out("outer", contractions.outer),
    np.kron: contractions.kron, np.diag: contractions.diag,
    np.trace: lambda a, offset=0, axis1=0, axis2=1, dtype=None, out=None: (
        _refuse("np.trace", dict(dtype=dtype, out=out), ()),
        contractions.trace(a, offset, axis1, axis2))[1],
    np.diagonal: contractions.diagonal, np.tril: contractions.tril, np.triu: contractions.triu,
    np.cross: contractions.cross,
    np.einsum_path: _data_only(np.einsum_path),
})

# building and rearranging (autograd.arrange)
FUNCTIONS.update({
    f: getattr(arrange, f.__name__) for f in (
        np.atleast_1d, np.atleast_2d, np.atleast_3d, np.hstack, np.vstack, np.dstack,
        np.column_stack, np.append, np.repeat, np.tile, np.pad, np.flip, np.fliplr, np.flipud,
        np.rot90, np.roll, np.moveaxis, np.diff, np.cumsum, np.cumprod, np.take_along_axis,
        np.take, np.sort, np.copy, np.linspace, np.array_split, np.vsplit, np.hsplit, np.dsplit,
        np.rollaxis, np.partition, np.select)
})


def array_function(func, args, kwargs):
    """Tensor.__array_function__: a numpy function called with a Tensor among its arguments."""
    run = FUNCTIONS.get(func)
    if run is None:
        name = f"{func.__module__.replace('numpy', 'np')}.{func.__name__}"
        raise TypeError(no_rule(name, name.removeprefix("np."), f"{name} on t.data"))
    return run(*args, **kwargs)


def install(tensor_class) -> None:
    """Make numpy functions run the ops on Tensors: np.exp(t), np.sum(t, axis=1),
    np.concatenate([a, b]), ... (called by autograd/__init__.py: this module is built on
    tensor.py). A numpy function without a gradient rule raises a TypeError naming one."""
    tensor_class.__array_ufunc__ = _tensor_array_ufunc
    tensor_class.__array_function__ = _tensor_array_function


def _tensor_array_ufunc(self, ufunc, method, *inputs, **kwargs):
    return array_ufunc(ufunc, method, inputs, kwargs)


def _tensor_array_function(self, func, types, args, kwargs):
    return array_function(func, args, kwargs)


# ---------------------------------------------------------------- no rule: what to write instead
# numpy names without a gradient rule (functions, ufuncs, ndarray methods) -> a differentiable
# spelling of the same thing. Read only where no rule exists: a name that gets a rule (in the
# tables above, or as a Tensor method) leaves the messages without a change here.
SPELLINGS = {
    # products and sums
    "multiply.outer": "np.outer(t, u) (or t[:, None] * u[None, :])",
    "average": "(t * w).sum(axis) / w.sum(axis) for weights w (t.mean(axis) without)",
    "ptp": "t.max(axis) - t.min(axis)",
    "nansum": "autograd.where(np.isnan(t.data), 0, t).sum(axis)",
    # elementwise functions composed of others
    "float_power": "t ** p",
    "erf": "t.erf() (or autograd.erf(t))", "erfc": "t.erfc() (or autograd.erfc(t))",
}


def no_rule(name: str, key: str, plain: str) -> str:
    """The message for numpy's `name` without a gradient rule: the differentiable spelling of
    SPELLINGS[key] first when there is one; `plain` (its use on t.data) only as the way to a
    plain array without a gradient."""
    spelling = SPELLINGS.get(key)
    fallback = f"{plain} gives a plain array without a gradient"
    if spelling is None:
        return (f"{name} has no gradient rule in npgrad (see the README's table of the Tensor "
                f"surface); {fallback}")
    return f"{name} has no gradient rule in npgrad; with a gradient, write {spelling}; {fallback}"


# ---------------------------------------------------------------- what numpy converts itself
# np.array([a, b]), np.r_[a, b], np.c_[a, b] and np.int64(t) reach no dispatch hook: np.array's
# like= dispatches on `like` alone, the index tricks call np.array on each item, and the scalar
# types convert directly. All of them end in Tensor.__array__, which refuses a tensor that
# requires grad (the graph would be lost) with this message, naming the spellings that record.
# ---------------------------------------------------------------- helpers
def _tensor(value):
    return value if isinstance(value, Tensor) else Tensor(value)


def _tensors(values, name):
    like = next(v for v in values if isinstance(v, Tensor))
    return [v if isinstance(v, Tensor) else lift(v, like, name) for v in values]


def _plain(value):
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value


_NUMPY_DEFAULTS = {"casting": "same_kind", "order": "K", "subok": True, "where": True}


def _refuse(name, kwargs, allowed):
    """A TypeError for numpy arguments that npgrad's op does not take (dtype=, where=, ...)."""
    for key, value in kwargs.items():
        if key in allowed or value is None or value is np._NoValue:
            continue
        if key in _NUMPY_DEFAULTS and value is _NUMPY_DEFAULTS[key]:
            continue
        if isinstance(value, bool) and value is _NUMPY_DEFAULTS.get(key):
            continue
        shown = (f"<{type(value).__name__} of shape {value.shape}>"
                 if isinstance(value, (np.ndarray, Tensor)) else repr(value))
        raise TypeError(f"{name}(..., {key}={shown}) on a Tensor: npgrad's version does not "
                        f"take {key}=")
