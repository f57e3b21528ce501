"""The table of primitives: each op's forward computation beside its gradient rules.

A primitive is one `Op(name, forward, *vjps)`: `forward(*arrays, **attrs)` computes the result,
and `vjps[i](g, out, *arrays, **attrs)` maps the gradient `g` of the result to the gradient of
input `i` (a vector-Jacobian product). VJPs see ndarrays only and run only for inputs that need
a gradient. They may return a gradient with broadcast (extra or size-1) dimensions or another
dtype: the engine reduces it to the input's shape and dtype in one place (`engine.reduce_to`).
An op made with `saves=("name", ...)` returns `(out, extras)` from forward: `extras`, a dict of
those arrays its VJPs would otherwise recompute (softmax probabilities, say), joins the node's
attrs (renderers skip the names in `op.saves`: they are results, not settings).
"""

import math

import numpy as np

from .engine import sum_to


class Op:
    """A differentiable primitive: a name, a forward function and one VJP per input."""

    __slots__ = ("name", "forward", "vjps", "saves")

    def __init__(self, name, forward, *vjps, saves=()):
        self.name = name
        self.forward = forward
        self.vjps = vjps
        self.saves = saves

    def __repr__(self):
        return f"Op({self.name})"


# ---------------------------------------------------------------- helpers used by several VJPs
def _axes(axis, ndim):
    """Normalise `axis` (None, int or tuple) to a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    return tuple(sorted(int(a) % ndim if ndim else int(a) for a in axis))


def _keep(g, x, axis, keepdims):
    """Re-insert the reduced axes into `g` so that it broadcasts against `x`."""
    if keepdims or axis is None:  # a 0-d result broadcasts against anything already
        return g
    axes = _axes(axis, x.ndim)
    return g.reshape([1 if i in axes else n for i, n in enumerate(x.shape)])


def _mean(x, axis=None, keepdims=False):
    total = x.sum(axis=axis, keepdims=keepdims)
    count = x.size // total.size if total.size else 1
    if not count:  # the mean of nothing is nan, as in numpy and PyTorch, but without a warning
        return np.full(total.shape, np.nan, total.dtype)
    return total / count


def _times(g, fresh):
    """g * fresh, written into `fresh`: a VJP's own temporary, so one allocation fewer."""
    fresh *= g
    return fresh


def _sigmoid(x):
    # exp of a non-positive number never overflows: no warning even at +-1000.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1, e) / (1 + e)


def _shifted(x, axis):
    """x minus its max along `axis`, so that exp never overflows (an empty axis works too)."""
    return x - x.max(axis=axis, keepdims=True, initial=-np.inf)


def _logsumexp(x, axis, keepdims):
    m = x.max(axis=axis, keepdims=True, initial=-np.inf)
    m = np.where(np.isfinite(m), m, 0)  # rows of -inf (and empty rows) stay -inf, not nan
    with np.errstate(divide="ignore"):  # log(0) = -inf is the answer for those rows
        out = m + np.log(np.exp(x - m).sum(axis=axis, keepdims=True))
    if keepdims:
        return out
    axes = _axes(axis, x.ndim)
    return out.reshape([n for i, n in enumerate(x.shape) if i not in axes])


def _pow_base_vjp(g, out, x, y):
    with np.errstate(divide="ignore", invalid="ignore"):  # inf at x = 0, y < 1 is the answer
        return g * np.where(y == 0, 0, y * x ** (y - 1))


def _pow_exponent_vjp(g, out, x, y):
    with np.errstate(divide="ignore", invalid="ignore"):  # log(0) = -inf and log(-2) = nan too
        return g * np.where((x == 0) & (y >= 0), 0, out * np.log(x))


def _matmul_vjp_x(g, out, x, y):
    # 1-D operands are promoted the way np.matmul promotes them, then the axis is dropped again.
    if y.ndim == 1:
        g, y = g[..., None], y[:, None]
    if x.ndim == 1:
        return (g[..., None, :] @ y.mT)[..., 0, :]
    return g @ y.mT


def _matmul_vjp_y(g, out, x, y):
    if x.ndim == 1 and y.ndim == 1:  # a dot product: g is 0-d and has no axis to promote
        return g * x
    if x.ndim == 1:
        g, x = g[..., None, :], x[None, :]
    if y.ndim == 1:
        return (x.mT @ g[..., None])[..., 0]
    return x.mT @ g


def _max_vjp(g, out, x, axis=None, keepdims=False):
    # Ties share the gradient equally, so the VJP stays the mean of the one-sided derivatives.
    winners = x == _keep(out, x, axis, keepdims)
    return winners * (_keep(g, x, axis, keepdims) / winners.sum(axis=axis, keepdims=True))


def _inverse_permutation(axes, ndim):
    # Negative axes are normalised first: argsort((-1, 0, 1)) is not the inverse of (2, 0, 1).
    return None if axes is None else np.argsort([a % ndim for a in axes])


def _getitem_vjp(g, out, x, index=None):
    gx = np.zeros_like(x, dtype=g.dtype)
    if _is_basic(index):
        gx[index] = g  # slices and integers select each element at most once
    else:
        # np.add.at accumulates repeated integer indices; assignment would keep only one.
        np.add.at(gx, index, g)
    return gx


def _is_basic(index):
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis
               for i in parts)


# ---------------------------------------------------------------- the primitives
# arithmetic (broadcasting: the engine reduces gradients to each input's shape)
add = Op("add", np.add, lambda g, out, x, y: g, lambda g, out, x, y: g)
subtract = Op("subtract", np.subtract, lambda g, out, x, y: g, lambda g, out, x, y: -g)
multiply = Op("multiply", np.multiply, lambda g, out, x, y: g * y, lambda g, out, x, y: g * x)
divide = Op("divide", np.divide, lambda g, out, x, y: g / y, lambda g, out, x, y: -g * out / y)
negative = Op("negative", np.negative, lambda g, out, x: -g)
power = Op("power", np.power, _pow_base_vjp, _pow_exponent_vjp)
matmul = Op("matmul", np.matmul, _matmul_vjp_x, _matmul_vjp_y)


def _linear(x, w, b):
    out = x @ w
    if b.shape == out.shape[-1:] and b.dtype == out.dtype:  # a layer's bias: the usual case
        out += b  # in place: `out` is a fresh array, and this saves an allocation per layer
        return out
    return np.add(out, b)  # numpy's x @ w + b: the bias may add dimensions or promote


def _product_grad(g, x, w):
    """The gradient reaching `x @ w` in `x @ w + b`: summed back where the bias widened it."""
    if x.ndim >= 2 and w.ndim == 2:  # a layer, (..., in) @ (in, out): the usual case
        shape = x.shape[:-1] + w.shape[1:]
    else:  # numpy's rules: batch axes broadcast, and a 1-D operand's axis is dropped
        batch = np.broadcast_shapes(x.shape[:-2], w.shape[:-2])
        shape = batch + x.shape[-2:-1] + w.shape[-1:] * (w.ndim > 1)
    return g if g.shape == shape else sum_to(g, shape)


# x @ w + b as one primitive: the layer of every MLP, one node instead of two.
linear = Op(
    "linear",
    _linear,
    lambda g, out, x, w, b: _matmul_vjp_x(_product_grad(g, x, w), out, x, w),
    lambda g, out, x, w, b: _matmul_vjp_y(_product_grad(g, x, w), out, x, w),
    lambda g, out, x, w, b: g,
)

# elementwise functions
exp = Op("exp", np.exp, lambda g, out, x: g * out)
log = Op("log", np.log, lambda g, out, x: g / x)
sqrt = Op("sqrt", np.sqrt, lambda g, out, x: g / (2 * out))
abs = Op("abs", np.abs, lambda g, out, x: g * np.sign(x))
tanh = Op("tanh", np.tanh, lambda g, out, x: _times(g, 1 - out * out))
sigmoid = Op("sigmoid", _sigmoid, lambda g, out, x: _times(g, out * (1 - out)))
relu = Op("relu", lambda x: np.maximum(x, 0), lambda g, out, x: g * (x > 0))
clip = Op(
    "clip",
    lambda x, lo=None, hi=None: np.clip(x, lo, hi),
    # The gradient passes where the input was inside [lo, hi], as in PyTorch's clamp.
    lambda g, out, x, lo=None, hi=None: g
    * ((x >= (-np.inf if lo is None else lo)) & (x <= (np.inf if hi is None else hi))),
)
astype = Op("astype", lambda x, dtype=None: x.astype(dtype), lambda g, out, x, dtype=None: g)

# reductions
# (ndarray methods and np.full: numpy's module-level wrappers cost microseconds per call.)
sum = Op(
    "sum",
    lambda x, axis=None, keepdims=False: x.sum(axis=axis, keepdims=keepdims),
    lambda g, out, x, axis=None, keepdims=False: np.full(x.shape, _keep(g, x, axis, keepdims)),
)
# mean is a primitive, not sum/n: one node instead of two in every loss.
mean = Op(
    "mean",
    _mean,
    lambda g, out, x, axis=None, keepdims=False: np.full(
        x.shape, _keep(g, x, axis, keepdims) * (out.size / x.size if x.size else 0.0)
    ),
)
max = Op("max", lambda x, axis=None, keepdims=False: x.max(axis=axis, keepdims=keepdims), _max_vjp)

# shapes and indexing
reshape = Op("reshape", lambda x, shape=None: np.reshape(x, shape),
             lambda g, out, x, shape=None: np.reshape(g, x.shape))
transpose = Op("transpose", lambda x, axes=None: np.transpose(x, axes),
               lambda g, out, x, axes=None: np.transpose(g, _inverse_permutation(axes, x.ndim)))
getitem = Op("getitem", lambda x, index=None: x[index], _getitem_vjp)

# Normalisations are primitives, not composites of exp/sum: shifting by the max inside one
# forward keeps them finite for logits of 1e4, and their VJPs need no extra nodes.
logsumexp = Op(
    "logsumexp",
    _logsumexp,
    lambda g, out, x, axis=None, keepdims=False: _keep(g, x, axis, keepdims)
    * np.exp(x - _keep(out, x, axis, keepdims)),
)


def _log_softmax(x, axis=-1):
    if not x.size:  # nothing to normalise (and the log of an empty sum would warn)
        return x.copy()
    # Subtract the max once and never add it back: exact for the largest logit even at 1e4.
    shifted = _shifted(x, axis)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _softmax(x, axis=-1):
    exps = np.exp(_shifted(x, axis))
    return exps / exps.sum(axis=axis, keepdims=True)


log_softmax = Op(
    "log_softmax",
    _log_softmax,
    lambda g, out, x, axis=-1: g - np.exp(out) * g.sum(axis=axis, keepdims=True),
)
softmax = Op(
    "softmax",
    _softmax,
    lambda g, out, x, axis=-1: out * (g - (g * out).sum(axis=axis, keepdims=True)),
)


# The fused losses reduce like PyTorch's: "mean" (nan for an empty batch, as in PyTorch), "sum"
# (0 for an empty batch) or "none" (one loss per row of logits, or per element for bce).
def _reduce(losses, reduction):
    if reduction == "none":
        return losses
    if reduction == "sum" or not losses.size:
        return losses.sum() if reduction == "sum" else np.full((), np.nan, losses.dtype)
    return losses.sum() / losses.size


def _per_loss(g, reduction, count):
    """The gradient reaching each unreduced loss from the reduced one's gradient `g`."""
    return g / (count or 1) if reduction == "mean" else g


def _cross_entropy(x, t, reduction="mean"):
    shifted = _shifted(x, -1)  # finite for logits of 1e4
    exps = np.exp(shifted)
    total = exps.sum(axis=-1, keepdims=True)
    if not x.shape[-1]:
        total += 1  # no classes, so no probabilities: log(1) keeps numpy quiet
    log_probs = shifted - np.log(total)
    probs = exps / total
    losses = -(t * log_probs).sum(axis=-1)  # one per row
    return _reduce(losses, reduction), {"probs": probs, "log_probs": log_probs}


def _row_grad(g, x, reduction):
    """Each row's share of g, shaped to broadcast against the logits (rows, classes)."""
    g = _per_loss(g, reduction, math.prod(x.shape[:-1]))
    return g[..., None] if reduction == "none" else g


def _cross_entropy_vjp_logits(g, out, x, t, reduction, probs, log_probs):
    # d/dx of -sum(t * log_softmax(x)) is softmax(x) * sum(t) - t; sum(t) is 1 for one-hot rows.
    grad = probs * t.sum(axis=-1, keepdims=True)
    grad -= t
    return _times(_row_grad(g, x, reduction), grad)


# Softmax cross-entropy as one primitive: the loss of nearly every classifier, and as a single
# node its gradient is the familiar (softmax - target) / n instead of five nodes' worth of work.
cross_entropy = Op(
    "cross_entropy",
    _cross_entropy,
    _cross_entropy_vjp_logits,
    lambda g, out, x, t, reduction, probs, log_probs: log_probs * -_row_grad(g, x, reduction),
    saves=("probs", "log_probs"),
)


def _bce_with_logits(x, t, reduction="mean"):
    # log(1 + exp(x)) - x*t, with logaddexp and tanh: neither overflows at any logit.
    losses = np.logaddexp(0, x) - x * t
    probs = np.tanh(x * 0.5)
    probs *= 0.5
    probs += 0.5  # sigmoid(x) = (1 + tanh(x / 2)) / 2, in place on a fresh array
    return _reduce(losses, reduction), {"probs": probs}


# Binary cross-entropy of logits as one primitive, for the same reasons as cross_entropy.
bce_with_logits = Op(
    "bce_with_logits",
    _bce_with_logits,
    lambda g, out, x, t, reduction, probs: _times(_per_loss(g, reduction, x.size), probs - t),
    lambda g, out, x, t, reduction, probs: x * -_per_loss(g, reduction, x.size),
    saves=("probs",),
)

OPS = [v for v in list(globals().values()) if isinstance(v, Op)]
