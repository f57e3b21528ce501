"""Convolution and max pooling over the trailing spatial axes of (batch, channels, *spatial).

Windows are strided views of the (padded) input. `conv` copies them once into a column matrix
and multiplies it by the weights (im2col); the copy lives only inside the call, and the weight
gradient rebuilds it rather than keeping it. The three convolution ops are the partial
derivatives of one bilinear form <conv(x, w), g>, so each one's VJPs are the other two: every
order of derivative comes from these rows. `max_pool` keeps one index per window, its winner.

Attributes, as `autograd.convolution` normalises them: `stride`, `dilation` (a tuple per
spatial axis), `padding` (a (before, after) pair per axis) and `groups` (an int).
"""

import functools
import itertools
import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import shapes  # (the module: its add_at would count as this family's op)
from .core import Op, reads


def out_size(size, kernel, stride, padding, dilation):
    """The output length of one spatial axis (may be < 1: the caller reports that)."""
    return (size + padding[0] + padding[1] - dilation * (kernel - 1) - 1) // stride + 1


def _padded(x, padding, value=0.0):
    """A channels-last copy of x, (N, *padded spatial, C), the padding filled with `value`.

    Channels last, each window's cells for all channels lie side by side in memory, so the
    im2col copy moves runs of kernel-width x channels numbers instead of single ones."""
    spatial = x.shape[2:]
    shape = (x.shape[0],) + tuple(n + lo + hi for n, (lo, hi) in zip(spatial, padding))
    out = np.empty(shape + x.shape[1:2], dtype=x.dtype)
    if any(lo or hi for lo, hi in padding):
        out.fill(value)
    inner = (slice(None), *(slice(lo, lo + n) for n, (lo, _) in zip(spatial, padding)))
    out[inner] = np.moveaxis(x, 1, -1)
    return out


def _windows(xp, kernel, stride, dilation):
    """A read-only view (N, *out, *kernel, C) of every window of channels-last xp."""
    spatial, steps = xp.shape[1:-1], xp.strides[1:-1]
    out = tuple((n - d * (k - 1) - 1) // s + 1
                for n, k, s, d in zip(spatial, kernel, stride, dilation))
    return as_strided(xp, xp.shape[:1] + out + tuple(kernel) + xp.shape[-1:],
                      xp.strides[:1] + tuple(t * s for t, s in zip(steps, stride))
                      + tuple(t * d for t, d in zip(steps, dilation)) + xp.strides[-1:],
                      writeable=False)


def _columns(x, kernel, stride, padding, dilation, groups):
    """The im2col matrix (groups, N * prod(out), prod(kernel) * C/groups), and out."""
    win = _windows(_padded(x, padding), kernel, stride, dilation)
    n, c, nd = x.shape[0], x.shape[1], len(kernel)
    out = win.shape[1:1 + nd]
    win = win.reshape(win.shape[:-1] + (groups, c // groups))
    # (group, batch, *out, *kernel, channel): one copy, rows of the matrix product
    cols = np.moveaxis(win, -2, 0).reshape(groups, n * math.prod(out),
                                           math.prod(kernel) * (c // groups))
    return cols, out


def _weights(w, groups):
    """w (O, C/groups, *kernel) as the matrix (groups, prod(kernel) * C/groups, O/groups)."""
    o, nd = w.shape[0], w.ndim - 2
    w = w.reshape((groups, o // groups) + w.shape[1:])
    return w.transpose(0, *range(3, 3 + nd), 2, 1).reshape(groups, math.prod(w.shape[2:]),
                                                           o // groups)


def _rows(g, groups):
    """The output gradient (N, O, *out) as the matrix (groups, N * prod(out), O/groups)."""
    n, o, nd = g.shape[0], g.shape[1], g.ndim - 2
    g = g.reshape((n, groups, o // groups) + g.shape[2:])
    g = g.transpose(1, 0, *range(3, 3 + nd), 2)
    return g.reshape(groups, n * math.prod(g.shape[2:2 + nd]), o // groups)


def _conv(x, w, stride=(1,), padding=((0, 0),), dilation=(1,), groups=1):
    cols, out = _columns(x, w.shape[2:], stride, padding, dilation, groups)
    y = cols @ _weights(w, groups)  # (groups, N * prod(out), O/groups)
    n, nd = x.shape[0], len(out)
    y = y.reshape((groups, n) + out + (w.shape[0] // groups,))
    y = np.ascontiguousarray(y.transpose(1, 0, 2 + nd, *range(2, 2 + nd)))
    return y.reshape((n, w.shape[0]) + out)


def _conv_weight(x, g, shape=None, stride=(1,), padding=((0, 0),), dilation=(1,), groups=1):
    # dL/dw = the columns of x times g, summed over batch and positions: one matrix product.
    cols, _ = _columns(x, shape[2:], stride, padding, dilation, groups)
    dw = cols.mT @ _rows(g, groups)  # (groups, prod(kernel) * C/groups, O/groups)
    nd = len(shape) - 2
    dw = dw.reshape((groups,) + shape[2:] + (shape[1], shape[0] // groups))
    return dw.transpose(0, 2 + nd, 1 + nd, *range(1, 1 + nd)).reshape(shape)


def _conv_transpose(g, w, shape=None, stride=(1,), padding=((0, 0),), dilation=(1,), groups=1):
    # dL/dx: the column gradient g @ w.T, added back into the window cells it came from
    # (col2im). Windows overlap, so the sum runs over kernel offsets: prod(kernel) strided adds of
    # the output's size, where a loop-free alternative (a convolution of the zero-upsampled g)
    # would build columns of out channels x kernel x the input's size.
    n, c, kernel, out = shape[0], shape[1], w.shape[2:], g.shape[2:]
    cols = _rows(g, groups) @ _weights(w, groups).mT  # (groups, N * prod(out), K * C/groups)
    cols = cols.reshape((groups, n) + out + tuple(kernel) + (c // groups,))
    padded = tuple(m + lo + hi for m, (lo, hi) in zip(shape[2:], padding))
    dxp = np.zeros((n,) + padded + (groups, c // groups), dtype=cols.dtype)
    whole = (slice(None),) * (2 + len(out))
    for offset in itertools.product(*(range(k) for k in kernel)):
        target = tuple(slice(i * d, i * d + s * (m - 1) + 1, s)
                       for i, d, s, m in zip(offset, dilation, stride, out))
        dxp[(slice(None), *target)] += np.moveaxis(cols[whole + offset], 0, -2)
    inner = (slice(None), *(slice(lo, lo + m) for m, (lo, _) in zip(shape[2:], padding)))
    dx = dxp[inner].reshape((n,) + tuple(shape[2:]) + (c,))
    return np.ascontiguousarray(np.moveaxis(dx, -1, 1))


conv = Op(
    "conv",
    _conv,
    lambda g, out, x, w, **a: conv_transpose(g, w, shape=x.shape, **a),
    "dx = conv_transpose(g, w)", reads("w"),
    lambda g, out, x, w, **a: conv_weight(x, g, shape=w.shape, **a),
    "dw = conv_weight(x, g)", reads("x"),
)
# conv's input gradient, linear in g and in w: <conv_transpose(g, w), h> = <conv(h, w), g>.
# (In these two rows g is an input, so h names the gradient arriving at the result.)
conv_transpose = Op(
    "conv_transpose",
    _conv_transpose,
    lambda h, out, g, w, shape=None, **a: conv(h, w, **a),
    "dg = conv(h, w)", reads("w"),
    lambda h, out, g, w, shape=None, **a: conv_weight(h, g, shape=w.shape, **a),
    "dw = conv_weight(h, g)", reads("g"),
)
# conv's weight gradient, linear in x and in g: <conv_weight(x, g), h> = <conv(x, h), g>.
conv_weight = Op(
    "conv_weight",
    _conv_weight,
    lambda h, out, x, g, shape=None, **a: conv_transpose(g, h, shape=x.shape, **a),
    "dx = conv_transpose(g, h)", reads("g"),
    lambda h, out, x, g, shape=None, **a: conv(x, h, **a),
    "dg = conv(x, h)", reads("x"),
)


@functools.lru_cache(maxsize=256)
def _window_cells(spatial, kernel, stride, padding, dilation):
    """(prod(out), prod(kernel)): the flat index, within one image, of every window's cells.

    A leading padding cell gets the index of the window's first real cell along that axis: when
    a window's real values are all -inf, its first real cell wins, as in PyTorch (whose search
    starts there). Trailing padding never wins a tie: a real cell comes before it."""
    nd = len(spatial)
    flat = np.zeros((1,) * (2 * nd), np.intp)  # broadcast up to (*out, *kernel)
    for axis, (n, k, s, (lo, _), d) in enumerate(zip(spatial, kernel, stride, padding,
                                                      dilation)):
        o = (n + 2 * lo - d * (k - 1) - 1) // s + 1
        start = np.arange(o)[:, None] * s - lo
        pos = start + np.arange(k) * d
        first_real = start + -(start // d) * d  # start, moved up in steps of d to >= 0
        # (a window with no real cell at all, which dilation allows, keeps the nearest one)
        pos = np.clip(np.where(pos < 0, first_real, pos), 0, n - 1)
        shape = [1] * (2 * nd)
        shape[axis], shape[nd + axis] = o, k
        flat = flat * n + pos.reshape(shape)
    out = flat.shape[:nd]
    flat = flat.reshape(math.prod(out), math.prod(kernel))
    return flat


def _first_maximum(stack):
    """The maximum over axis 0 of `stack` (kernel cells, ...) and the first cell holding it.

    Reductions over the first axis run as whole-array maximums (numpy's argmax would loop over
    the short windows one by one). NaN counts as the largest, so it propagates and wins."""
    top = stack.max(axis=0)
    hit = stack == top
    hit |= np.isnan(stack)
    k = len(stack)
    # The first hit scores highest: cell i scores k - i, a non-hit 0.
    rank = np.arange(k, 0, -1, dtype=np.uint8 if k < 256 else np.intp)
    first = k - (hit * rank.reshape((k,) + (1,) * (stack.ndim - 1))).max(axis=0)
    return top, first


def _max_index(x, kernel, stride, padding, dilation):
    """Each window's maximum and the flat index into x of the first one (PyTorch's pick on
    ties), both (N, C, *out)."""
    n, c, spatial, nd = x.shape[0], x.shape[1], x.shape[2:], len(kernel)
    win = _windows(_padded(x, padding, -np.inf), kernel, stride, dilation)
    out = win.shape[1:1 + nd]
    # (cells, N, *out, C): a copy that moves runs of C numbers, with the cells on axis 0
    cells = math.prod(kernel)
    stack = np.moveaxis(win, tuple(range(1 + nd, 1 + 2 * nd)), tuple(range(nd)))
    top, first = _first_maximum(stack.reshape((cells, n) + out + (c,)))
    top = np.ascontiguousarray(np.moveaxis(top, -1, 1))  # (N, C, *out)
    first = np.moveaxis(first, -1, 1).reshape(n, c, math.prod(out))
    table = _window_cells(spatial, tuple(kernel), stride, padding, dilation)
    index = table.reshape(-1)[first + np.arange(0, table.size, cells)]  # within each image
    index += (np.arange(n * c) * math.prod(spatial)).reshape(n, c, 1)
    return top, index.reshape((n, c) + out)


def _max_pool(x, kernel=(1,), stride=(1,), padding=((0, 0),), dilation=(1,)):
    top, index = _max_index(x, kernel, stride, padding, dilation)
    return top, {"index": index}


def _max_pool_vjp(g, out, x, kernel=(1,), stride=(1,), padding=((0, 0),), dilation=(1,),
                  index=None):
    # All of a window's gradient goes to the one cell that won it; overlapping windows may pick
    # the same cell, so the pieces are added (add_at), never assigned.
    if index is None:  # higher order: the winners are constants, found again from the values
        index = _max_index(getattr(x, "data", x), kernel, stride, padding, dilation)[1]
    flat = shapes.add_at(g.reshape(-1), shape=(x.size,), index=index.reshape(-1))
    return flat.reshape(x.shape)


# (The VJP reads x only through the saved winners, which create_graph finds again from x.)
max_pool = Op("max_pool", _max_pool, _max_pool_vjp, "dx = g added at each window's first maximum",
              reads(index="x"), saves=("index",))
