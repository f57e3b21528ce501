"""Shapes and indexing: the gradient puts every element back where it came from."""

import numpy as np

from .core import Op, Variadic, along, reads

reshape = Op("reshape", lambda x, shape=None: np.reshape(x, shape),
             lambda g, out, x, shape=None: np.reshape(g, x.shape), "dx = g reshaped to x's shape",
             reads())


def _inverse_permutation(axes, ndim):
    # Negative axes are normalised first: argsort((-1, 0, 1)) is not the inverse of (2, 0, 1).
    return None if axes is None else tuple(int(i) for i in np.argsort([a % ndim for a in axes]))


transpose = Op("transpose", lambda x, axes=None: np.transpose(x, axes),
               lambda g, out, x, axes=None: np.transpose(g, _inverse_permutation(axes, x.ndim)),
               "dx = g with the axes permuted back", reads())

# A read-only view, as numpy's: the engine sums the gradient back over the broadcast axes.
broadcast_to = Op("broadcast_to", lambda x, shape=None: np.broadcast_to(x, shape),
                  lambda g, out, x, shape=None: g, "dx = g summed over the broadcast axes",
                  reads())


def _is_basic(index):
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis
               for i in parts)


def _add_at(g, shape=None, index=None):
    out = np.zeros(shape, dtype=g.dtype)
    if _is_basic(index):
        out[index] = g  # slices and integers select each element at most once
    else:
        # np.add.at accumulates repeated integer indices; assignment would keep only one.
        np.add.at(out, index, g)
    return out


# zeros(shape) with g added at `index`: getitem's gradient, a primitive of its own so that
# it can be differentiated again (its own gradient is getitem).
add_at = Op("add_at", _add_at, lambda g, out, y, shape=None, index=None: g[index],
            "dy = g[index]", reads())
getitem = Op("getitem", lambda x, index=None: x[index],
             lambda g, out, x, index=None: add_at(g, shape=x.shape, index=index),
             "dx = zeros with g added at index", reads())


def _concatenate_vjp(g, out, *xs, axis=0, index):
    start = sum(x.shape[axis] for x in xs[:index])
    return g[along(axis, g.ndim, slice(start, start + xs[index].shape[axis]))]


# Any number of inputs: each one's gradient is its own piece (or slice) of g.
concatenate = Op("concatenate", lambda *xs, axis=0: np.concatenate(xs, axis=axis),
                 Variadic(_concatenate_vjp), "dx_i = g's piece i along axis", reads())
stack = Op("stack", lambda *xs, axis=0: np.stack(xs, axis=axis),
           Variadic(lambda g, out, *xs, axis=0, index: g[along(axis, g.ndim, index)]),
           "dx_i = g[i] along axis", reads())
