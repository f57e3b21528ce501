"""HIPS autograd's gradient check, run on npgrad Tensors, for the test files ported from
HIPS/autograd (MIT): its check_grads (reverse mode, order 2) and its combo_check.

check_grads keeps HIPS's tolerances: a random projection of the reverse-mode gradient against a
central difference along a random direction of all the checked arguments at once (EPS = 1e-6),
equal within TOL = 1e-6 absolute or RTOL = 1e-6 relative; then the same check of the gradient
itself (recorded with create_graph=True), so second derivatives are checked too.
combo_check runs every combination of the given arguments and keywords, and first checks that
the function on Tensors gives numpy's own values.
"""

import itertools

import numpy as np

import autograd
from autograd import Tensor

TOL = 1e-6
RTOL = 1e-6
EPS = 1e-6


def _close(a, b):
    return abs(a - b) < TOL or abs(a - b) / abs(a + b) < RTOL


def _outputs(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _data(y):
    return y.data if isinstance(y, Tensor) else np.asarray(y, dtype=float)


def _recorded(y):
    return isinstance(y, Tensor) and y.requires_grad


def _projection(ys, y_v):
    """sum_i <y_i, v_i> over the outputs that carry a graph (0 when none does)."""
    terms = [(y * v).sum() for y, v in zip(ys, y_v) if _recorded(y)]
    return sum(terms[1:], terms[0]) if terms else None


def _check_vjp(f, xs, rng):
    """<x_v, vjp(y_v)> against <y_v, (f(x + x_v eps/2) - f(x - x_v eps/2)) / eps>."""
    ts = [Tensor(x, requires_grad=True) for x in xs]
    ys = _outputs(f(*ts))
    y_v = [rng.normal(size=np.shape(_data(y))) for y in ys]
    x_v = [rng.normal(size=np.shape(x)) for x in xs]
    total = _projection(ys, y_v)
    exact = 0.0
    if total is not None:
        grads = autograd.grad(total, ts, allow_unused=True)
        exact = sum(float(np.sum(v * g.data)) for v, g in zip(x_v, grads) if g is not None)
    # inputs that require grad: the second-order check's f differentiates inside itself
    plus = _outputs(f(*[Tensor(x + v * EPS / 2, requires_grad=True) for x, v in zip(xs, x_v)]))
    minus = _outputs(f(*[Tensor(x - v * EPS / 2, requires_grad=True) for x, v in zip(xs, x_v)]))
    numeric = sum(float(np.sum(v * (_data(p) - _data(m))))
                  for v, p, m in zip(y_v, plus, minus)) / EPS
    assert _close(numeric, exact), f"analytic {exact} numeric {numeric}"
    return y_v


def _leaves(arg):
    """An argument's arrays: itself, or the items of a tuple or list of arrays."""
    items = arg if isinstance(arg, (tuple, list)) else [arg]
    return [np.asarray(a, dtype=float) for a in items]


def _substitute(args, argnums, leaves):
    """args with the arguments at argnums rebuilt from `leaves` (tuples and lists kept)."""
    full, leaves = list(args), iter(leaves)
    for i in argnums:
        if isinstance(args[i], (tuple, list)):
            full[i] = type(args[i])(next(leaves) for _ in args[i])
        else:
            full[i] = next(leaves)
    return full


def check_grads(fun, *args, argnums=None, order=2):
    """HIPS's check_grads(fun, modes=['rev'], order=order)(*args), jointly over `argnums` (all
    the arguments by default; a tuple or list of arrays counts as its arrays); the others are
    passed through unchanged."""
    argnums = tuple(range(len(args))) if argnums is None else tuple(argnums)
    xs = [leaf for i in argnums for leaf in _leaves(args[i])]

    def f(*wrt):
        return fun(*_substitute(args, argnums, wrt))

    rng = np.random.default_rng(0)
    y_v = _check_vjp(f, xs, rng)
    if order == 1:
        return

    def vjp(*wrt):  # the gradient of <f(x), y_v>, recorded so that it differentiates again
        total = _projection(_outputs(f(*wrt)), y_v)
        if total is None:
            return [Tensor(np.zeros(x.shape)) for x in wrt]
        grads = autograd.grad(total, list(wrt), create_graph=True, allow_unused=True)
        return [Tensor(np.zeros(x.shape)) if g is None else g for x, g in zip(wrt, grads)]

    _check_vjp(vjp, xs, rng)


def check_values(fun, args, kwargs, argnums):
    """fun on Tensors (at argnums) gives what fun gives on the plain arrays."""
    leaves = [Tensor(x, requires_grad=True) for i in argnums for x in _leaves(args[i])]
    as_tensors = _substitute(args, argnums, leaves)
    got, expected = _outputs(fun(*as_tensors, **kwargs)), _outputs(fun(*args, **kwargs))
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(_data(g), np.asarray(e, dtype=float), rtol=1e-12, atol=1e-14)


def combo_check(fun, argnums, *arg_lists, **kwarg_lists):
    """Values, then gradients to second order, for every combination of the arguments and the
    keyword values (HIPS's combo_check)."""
    keyed = [[(key, value) for value in values] for key, values in kwarg_lists.items()]
    for combo in itertools.product(*arg_lists, *keyed):
        args, kwargs = combo[:len(arg_lists)], dict(combo[len(arg_lists):])
        check_values(fun, args, kwargs, argnums)
        check_grads(lambda *a, kw=kwargs: fun(*a, **kw), *args, argnums=argnums)


# HIPS's numpy_utils: the shapes every statistic and ufunc is checked on (complex parts left out)
def _scale(lims, x):
    return x * (lims[1] - lims[0]) + lims[0]


def stat_check(fun, npr):
    """A statistic (sum, mean, ...) on scalars, vectors and matrices, over every axis/keepdims."""
    x, a = 3.5, npr.randn()
    b, c, d = npr.randn(3), npr.randn(2, 3), npr.randn(1, 3)
    combo_check(fun, (0,), [x, a])
    combo_check(fun, (0,), [b, c, d], axis=[None, 0], keepdims=[True, False])
    combo_check(fun, (0,), [c, d], axis=[None, 0, 1], keepdims=[True, False])


def unary_ufunc_check(fun, npr, lims=(-2, 2)):
    """A unary function on a whole number, a scalar, a vector and two matrices inside lims."""
    combo_check(fun, (0,), [_scale(lims, 1), _scale(lims, 0.4), _scale(lims, npr.rand(2)),
                            _scale(lims, npr.rand(3, 2)), _scale(lims, npr.rand(1, 2))])


def binary_ufunc_check(fun, npr, lims_a=(-2, 2), lims_b=(-2, 2)):
    """A binary function on every pair of scalars, vectors and broadcastable matrices."""
    values = [0.6, 1, npr.rand(2), npr.rand(3, 2), npr.rand(1, 2)]
    combo_check(fun, (0, 1), [_scale(lims_a, v) for v in values],
                [_scale(lims_b, v) for v in values])


def binary_ufunc_check_no_same_args(fun, npr, lims_a=(-2, 2), lims_b=(-2, 2)):
    """binary_ufunc_check with different values in the two arguments (for kinks at x == y)."""
    first = [0.6, 2, npr.rand(2), npr.rand(3, 2), npr.rand(1, 2)]
    second = [0.7, 3, npr.rand(2), npr.rand(3, 2), npr.rand(1, 2)]
    combo_check(fun, (0, 1), [_scale(lims_a, v) for v in first],
                [_scale(lims_b, v) for v in second])
