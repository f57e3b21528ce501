"""Convolution and max pooling over the trailing spatial axes of (batch, channels, *spatial).

Windows are strided views of the (padded) input. `conv` copies them once into a column matrix
and multiplies it by the weights (im2col); the copy lives only inside the call, and the weight
gradient rebuilds it rather than keeping it. The three convolution ops are the partial
derivatives of one bilinear form <conv(x, w), g>, so each one's VJPs are the other two: every
order of derivative comes from these rows.

Attributes, as `autograd.convolution` normalises them: `stride`, `dilation` (a tuple per
spatial axis), `padding` (a (before, after) pair per axis) and `groups` (an int).
"""

import itertools
import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .core import Op
from .shapes import add_at


def out_size(size, kernel, stride, padding, dilation):
    """The output length of one spatial axis (may be < 1: the caller reports that)."""
    return (size + padding[0] + padding[1] - dilation * (kernel - 1) - 1) // stride + 1


def _pad(x, padding, value=0.0):
    """x with its spatial axes padded by `padding` ((before, after) per axis) filled with value."""
    if not any(lo or hi for lo, hi in padding):
        return x
    spatial = x.shape[2:]
    out = np.full(x.shape[:2] + tuple(n + lo + hi for n, (lo, hi) in zip(spatial, padding)),
                  value, dtype=x.dtype)
    out[(..., *(slice(lo, lo + n) for n, (lo, _) in zip(spatial, padding)))] = x
    return out


def _windows(xp, kernel, stride, dilation):
    """A read-only view (N, C, *out, *kernel) of every window of the padded input xp."""
    spatial = xp.shape[2:]
    out = tuple((n - d * (k - 1) - 1) // s + 1
                for n, k, s, d in zip(spatial, kernel, stride, dilation))
    steps = xp.strides[2:]
    return as_strided(xp, xp.shape[:2] + out + tuple(kernel),
                      xp.strides[:2] + tuple(t * s for t, s in zip(steps, stride))
                      + tuple(t * d for t, d in zip(steps, dilation)), writeable=False)


def _columns(x, kernel, stride, padding, dilation, groups):
    """The im2col matrix (groups, channels/groups * prod(kernel), N * prod(out)), and out."""
    win = _windows(_pad(x, padding), kernel, stride, dilation)
    n, c, nd = x.shape[0], x.shape[1], len(kernel)
    out = win.shape[2:2 + nd]
    win = win.reshape((n, groups, c // groups) + out + tuple(kernel))
    # (group, channel, *kernel, batch, *out): one copy, in the order the matrix product wants
    order = (1, 2, *range(3 + nd, 3 + 2 * nd), 0, *range(3, 3 + nd))
    cols = win.transpose(order).reshape(groups, c // groups * math.prod(kernel),
                                        n * math.prod(out))
    return cols, out


def _grouped(g, groups):
    """The output gradient (N, O, *out) as the matrix (groups, O/groups, N * prod(out))."""
    n, o = g.shape[:2]
    positions = math.prod(g.shape[2:])
    g = g.reshape((n, groups, o // groups, positions)).transpose(1, 2, 0, 3)
    return g.reshape(groups, o // groups, n * positions)


def _conv(x, w, stride=(1,), padding=((0, 0),), dilation=(1,), groups=1):
    cols, out = _columns(x, w.shape[2:], stride, padding, dilation, groups)
    n, o = x.shape[0], w.shape[0]
    y = w.reshape(groups, o // groups, cols.shape[1]) @ cols  # (groups, O/groups, N * prod(out))
    y = y.reshape((o, n) + out)
    return np.ascontiguousarray(np.moveaxis(y, 1, 0))  # (N, O, *out)


def _conv_weight(x, g, shape=None, stride=(1,), padding=((0, 0),), dilation=(1,), groups=1):
    # dL/dw = g times the columns of x, summed over batch and positions: one matrix product.
    cols, _ = _columns(x, shape[2:], stride, padding, dilation, groups)
    return (_grouped(g, groups) @ cols.mT).reshape(shape)


def _conv_transpose(g, w, shape=None, stride=(1,), padding=((0, 0),), dilation=(1,), groups=1):
    # dL/dx: the column gradient w.T @ g, added back into the window positions it came from
    # (col2im). Windows overlap, so the sum runs over kernel offsets: prod(kernel) strided adds of
    # the output's size, where a gather-free alternative (a convolution of the zero-upsampled g)
    # would build columns of (out channels x kernel) times the input's size.
    o, kernel = w.shape[0], w.shape[2:]
    n, c = shape[0], shape[1]
    rows = c // groups * math.prod(kernel)
    cols = w.reshape(groups, o // groups, rows).mT @ _grouped(g, groups)
    out = g.shape[2:]
    cols = cols.reshape((groups, c // groups) + tuple(kernel) + (n,) + out)
    padded = tuple(m + lo + hi for m, (lo, hi) in zip(shape[2:], padding))
    dxp = np.zeros((n, groups, c // groups) + padded, dtype=np.result_type(g, w))
    for offset in itertools.product(*(range(k) for k in kernel)):
        target = tuple(slice(i * d, i * d + s * (m - 1) + 1, s)
                       for i, d, s, m in zip(offset, dilation, stride, out))
        piece = cols[(slice(None), slice(None), *offset)]  # (groups, C/groups, N, *out)
        dxp[(slice(None),) * 3 + target] += np.moveaxis(piece, 2, 0)
    dxp = dxp.reshape((n, c) + padded)
    return dxp[(..., *(slice(lo, lo + m) for m, (lo, _) in zip(shape[2:], padding)))]


conv = Op(
    "conv",
    _conv,
    lambda g, out, x, w, **a: conv_transpose(g, w, shape=x.shape, **a),
    "dx = conv_transpose(g, w)",
    lambda g, out, x, w, **a: conv_weight(x, g, shape=w.shape, **a),
    "dw = conv_weight(x, g)",
)
# conv's input gradient, linear in g and in w: <conv_transpose(g, w), h> = <conv(h, w), g>.
conv_transpose = Op(
    "conv_transpose",
    _conv_transpose,
    lambda h, out, g, w, shape=None, **a: conv(h, w, **a),
    "dg = conv(h, w)",
    lambda h, out, g, w, shape=None, **a: conv_weight(h, g, shape=w.shape, **a),
    "dw = conv_weight(h, g)",
)
# conv's weight gradient, linear in x and in g: <conv_weight(x, g), h> = <conv(x, h), g>.
conv_weight = Op(
    "conv_weight",
    _conv_weight,
    lambda h, out, x, g, shape=None, **a: conv_transpose(g, h, shape=x.shape, **a),
    "dx = conv_transpose(g, h)",
    lambda h, out, x, g, shape=None, **a: conv(x, h, **a),
    "dg = conv(x, h)",
)


def _max_index(x, kernel, stride, padding, dilation):
    """Each window's maximum and the flat index into x of the first one (PyTorch's pick on
    ties; NaN counts as the largest, so NaN propagates)."""
    n, c, nd = x.shape[0], x.shape[1], len(kernel)
    win = _windows(_pad(x, padding, -np.inf), kernel, stride, dilation)
    out = win.shape[2:2 + nd]
    # (N, C, *out, prod(kernel)): a copy, argmax needs the window on one axis
    flat = win.reshape(win.shape[:2 + nd] + (math.prod(kernel),))
    arg = flat.argmax(axis=-1)
    top = np.take_along_axis(flat, arg[..., None], axis=-1)[..., 0]
    index = np.arange(n * c).reshape((n, c) + (1,) * nd)
    for axis, offset in enumerate(np.unravel_index(arg, kernel)):
        start = np.arange(out[axis]) * stride[axis] - padding[axis][0]
        pos = start.reshape((-1,) + (1,) * (nd - 1 - axis)) + offset * dilation[axis]
        # A window whose real values are all -inf may pick a padding cell: the first real cell
        # of that window takes it instead, as in PyTorch (its search starts there).
        np.clip(pos, 0, x.shape[2 + axis] - 1, out=pos)
        index = index * x.shape[2 + axis] + pos
    return top, index


def _max_pool(x, kernel=(1,), stride=(1,), padding=((0, 0),), dilation=(1,)):
    top, index = _max_index(x, kernel, stride, padding, dilation)
    return top, {"index": index}


def _max_pool_vjp(g, out, x, kernel=(1,), stride=(1,), padding=((0, 0),), dilation=(1,),
                  index=None):
    # All of a window's gradient goes to the one cell that won it; overlapping windows may pick
    # the same cell, so the pieces are added (add_at), never assigned.
    if index is None:  # higher order: the winners are constants, found again from the values
        index = _max_index(getattr(x, "data", x), kernel, stride, padding, dilation)[1]
    return add_at(g.reshape(-1), shape=(x.size,), index=index.reshape(-1)).reshape(x.shape)


max_pool = Op("max_pool", _max_pool, _max_pool_vjp, "dx = g added at each window's first maximum",
              saves=("index",))
