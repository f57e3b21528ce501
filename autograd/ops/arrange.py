"""Rearranging that no composite of other ops does exactly or without a loop: running sums and
products along an axis, a copy, and item assignment (the new value written over part of x).
"""

import numpy as np

from .core import Op, along, reads, select


def _reversed(a, axis):
    return a[along(axis, a.ndim, slice(None, None, -1))]


# Each x_i is in every running sum from i on: its gradient is the sum of g from i to the end,
# a running sum taken from the far end.
cumsum = Op("cumsum", lambda x, axis=0: np.cumsum(x, axis=axis),
            lambda g, out, x, axis=0: _reversed(cumsum(_reversed(g, axis), axis=axis), axis),
            "dx = g summed from the end (a reversed cumsum)", reads())


def _cumprod_vjp(g, out, x, axis=0):
    # d out_j / d x_i = prod_{k < i} x_k * prod_{i < k <= j} x_k for j >= i: products that skip
    # x_i, never out_j / x_i, so zeros in x give the exact gradient. With the axis last (length
    # n), row i of an (n, n) matrix holds x_k for k > i and 1 elsewhere; its running product is
    # P[i, j] = prod_{i < k <= j} x_k. Costs n * n per line along the axis.
    x, g = np.swapaxes(x, axis, -1), np.swapaxes(g, axis, -1)
    n = x.shape[-1]
    later = np.arange(n)[None, :] > np.arange(n)[:, None]
    after = cumprod(np.where(later, x[..., None, :], 1), axis=-1)
    before = np.prod(np.where(later.T, x[..., None, :], 1), axis=-1)  # prod_{k < i} x_k
    reached = np.where(later | np.eye(n, dtype=bool), after, 0)  # j >= i
    return np.swapaxes(before * (reached * g[..., None, :]).sum(axis=-1), axis, -1)


cumprod = Op("cumprod", lambda x, axis=0: np.cumprod(x, axis=axis),
             _cumprod_vjp, "dx_i = sum_{j >= i} g_j * prod_{k <= j, k != i} x_k", reads("x"))

# A new array with x's values: the gradient passes through unchanged.
copy = Op("copy", lambda x: np.array(x, copy=True), lambda g, out, x: g, "dx = g", reads())


def _written(shape, index):
    """True where `x[index] = value` writes into an array of `shape`."""
    mask = np.zeros(shape, dtype=bool)
    mask[index] = True
    return mask


def _last_writes(shape, index):
    """Which elements of x[index] land for good: with repeated integer indices numpy keeps the
    last write, so the earlier copies of a position get no gradient. None when all land."""
    parts = index if isinstance(index, tuple) else (index,)
    if all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in parts):
        return None
    selected = np.empty(shape)[index].shape
    writer = np.full(shape, -1)
    writer[index] = np.arange(int(np.prod(selected))).reshape(selected)
    lands = np.zeros(int(np.prod(selected)), dtype=bool)
    lands[writer[writer >= 0]] = True
    return lands.reshape(selected)


def _setitem(x, value, index=None):
    out = np.array(x, copy=True)
    out[index] = value
    return out


def _setitem_value_vjp(g, out, x, value, index=None):
    lands = _last_writes(x.shape, index)
    return g[index] if lands is None else select(lands, g[index])


# x with `value` written at `index` (t[index] = value, recorded): the overwritten elements of x
# get no gradient; value gets g at the places it was written to (summed over its broadcasting).
setitem = Op("setitem", _setitem,
             lambda g, out, x, value, index=None: select(~_written(x.shape, index), g),
             "dx = g where index does not write, else 0", reads(),
             _setitem_value_vjp, "dvalue = g[index]", reads())
