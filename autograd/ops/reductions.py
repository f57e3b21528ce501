"""Reductions over `axis` (None, an int or a tuple), with or without `keepdims`: the gradient
is the incoming one broadcast back over the reduced axes, times the local derivative."""

import numpy as np

from .core import Op, axes_of, keep, reads, select

# (ndarray methods: numpy's module-level wrappers cost microseconds per call.)
sum = Op(
    "sum",
    lambda x, axis=None, keepdims=False: x.sum(axis=axis, keepdims=keepdims),
    lambda g, out, x, axis=None, keepdims=False: np.broadcast_to(keep(g, x, axis, keepdims),
                                                                 x.shape),
    "dx = g, broadcast over the summed axes",
    reads(),
)


def _mean(x, axis=None, keepdims=False):
    total = x.sum(axis=axis, keepdims=keepdims)
    count = x.size // total.size if total.size else 1
    if not count:  # the mean of nothing is nan, as in numpy and PyTorch, but without a warning
        return np.full(total.shape, np.nan, total.dtype)
    return total / count


# mean is a primitive, not sum/n: one node instead of two in every loss.
mean = Op(
    "mean",
    _mean,
    lambda g, out, x, axis=None, keepdims=False: np.broadcast_to(
        keep(g, x, axis, keepdims) * (out.size / x.size if x.size else 0.0), x.shape),
    "dx = g / n, broadcast over the averaged axes",
    reads(),
)


def _extreme_vjp(g, out, x, axis=None, keepdims=False):
    # Ties share the gradient equally, so the VJP stays the mean of the one-sided derivatives
    # (PyTorch's amax/amin do the same). The others get a selected 0, never 0 * g (nan if g is
    # infinite).
    winners = x == keep(out, x, axis, keepdims)
    return select(winners, keep(g, x, axis, keepdims) / winners.sum(axis=axis, keepdims=True))


max = Op("max", lambda x, axis=None, keepdims=False: x.max(axis=axis, keepdims=keepdims),
         _extreme_vjp, "dx = g at the maximum (shared equally by ties)", reads("out", "x"))
min = Op("min", lambda x, axis=None, keepdims=False: x.min(axis=axis, keepdims=keepdims),
         _extreme_vjp, "dx = g at the minimum (shared equally by ties)", reads("out", "x"))


def _moved_last(x, axes):
    """x with `axes` moved to the end and merged into one: (..., n); works on Tensors too."""
    rest = [i for i in range(x.ndim) if i not in axes]
    moved = np.transpose(x, rest + list(axes))
    return moved.reshape(moved.shape[:len(rest)] + (-1,)), moved.shape, rest + list(axes)


def _others_product(x, axis):
    """Each element's product of the other elements along `axis`: exact with zeros (no
    division by x), as prod's gradient must be."""
    axes = axes_of(axis, x.ndim)
    flat, moved_shape, order = _moved_last(x, axes)
    if isinstance(flat, np.ndarray):
        ones = np.ones(flat.shape[:-1] + (1,), x.dtype)
        before = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        after = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
        others = before * after
    else:  # on Tensors (higher order): each row repeated with its own element set to 1
        n = flat.shape[-1]
        others = np.where(np.eye(n, dtype=bool), 1, flat.reshape(flat.shape[:-1] + (1, n)))
        others = others.prod(axis=-1)
    return np.transpose(others.reshape(moved_shape), np.argsort(order))


def _prod_vjp(g, out, x, axis=None, keepdims=False):
    if not x.size:
        return np.zeros_like(x) if isinstance(x, np.ndarray) else x * 0
    return keep(g, x, axis, keepdims) * _others_product(x, axis)


prod = Op("prod", lambda x, axis=None, keepdims=False: x.prod(axis=axis, keepdims=keepdims),
          _prod_vjp, "dx = g * (product of the other elements)", reads("x"))


def _norm(x, axis=None, keepdims=False, ord=2):
    if ord == 2:
        return np.sqrt((x * x).sum(axis=axis, keepdims=keepdims))
    # m (sum (|x| / m)^p)^(1/p), with m the largest |x| (the smallest for p < 0), so that
    # |x|^p neither overflows nor underflows to a wrong 0 or inf for huge or tiny x.
    a = np.abs(x)
    m = a.max(axis=axis, keepdims=True, initial=0) if ord > 0 else a.min(
        axis=axis, keepdims=True, initial=np.inf)
    m = np.where((m == 0) | np.isinf(m), 1, m)
    with np.errstate(divide="ignore"):  # 0 ** -p = inf: then the norm is 0, as numpy's
        total = ((a / m) ** ord).sum(axis=axis, keepdims=keepdims) ** (1 / ord)
    return total * m.reshape(total.shape)


def _norm_vjp(g, out, x, axis=None, keepdims=False, ord=2):
    # d out / dx = sign(x) (|x| / out)^(p-1), which is 0/0 or 0 * inf where x = 0 or out = 0:
    # there the subgradient 0 is selected (never multiplied), as PyTorch's. (|x| / out is at
    # most 1 for p > 0 and at least 1 for p < 0: the power does not overflow.)
    norm = keep(out, x, axis, keepdims)
    zero = norm == 0
    g = keep(g, x, axis, keepdims)
    if ord == 2:
        return x * np.where(zero, 0, g / np.where(zero, 1, norm))
    inside = (x != 0) & ~zero
    ratio = np.where(inside, np.abs(x), 1) / np.where(zero, 1, norm)
    return np.where(inside, np.sign(x) * ratio ** (ord - 1), 0) * g


# The p-norm (ord=p, 2 by default; Tensor.norm composes the orders 0, 1 and +-inf from other
# ops): a primitive, since (sum |x|^p)^(1/p) has a nan gradient at the zero vector.
norm = Op("norm", _norm, _norm_vjp,
          "dx = g * sign(x) |x|^(p-1) / out^(p-1) (0 where x = 0 or out = 0)", reads("out", "x"))


def _logsumexp(x, axis, keepdims):
    m = x.max(axis=axis, keepdims=True, initial=-np.inf)
    m = np.where(np.isfinite(m), m, 0)  # rows of -inf (and empty rows) stay -inf, not nan
    with np.errstate(divide="ignore"):  # log(0) = -inf is the answer for those rows
        out = m + np.log(np.exp(x - m).sum(axis=axis, keepdims=True))
    if keepdims:
        return out
    axes = axes_of(axis, x.ndim)
    return out.reshape([n for i, n in enumerate(x.shape) if i not in axes])


# A primitive, not exp/sum/log: shifting by the max inside one forward keeps it finite for
# logits of 1e4, and its VJP (softmax weights) needs no extra nodes.
logsumexp = Op(
    "logsumexp",
    lambda x, axis=None, keepdims=False: _logsumexp(x, axis, keepdims),
    lambda g, out, x, axis=None, keepdims=False: keep(g, x, axis, keepdims)
    * np.exp(x - keep(out, x, axis, keepdims)),
    "dx = g * exp(x - out)",
    reads("out", "x"),
)
