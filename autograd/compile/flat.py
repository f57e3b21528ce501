"""Flat parameters: the arrays of several parameters moved side by side into one aligned
array, so that an update that keeps no state is a couple of numpy calls whatever their number.
"""
import weakref

import numpy as np

_groups = {}  # id(parameter) -> (weak reference to it, its _FlatGroup)


class _FlatGroup:
    """Parameters whose arrays are consecutive views of one array, `flat`, in their order."""

    def __init__(self, params, flat, views):
        self.params = [weakref.ref(p) for p in params]
        self.flat, self.views = flat, views

    def intact(self, params):
        """True while `params` are this group's, in order, and still hold its views."""
        return (len(params) == len(self.views)
                and all(r() is p and p.data is v for r, p, v in zip(self.params, params,
                                                                     self.views)))


def _layout(params):
    """Where each parameter starts in a flat array (64-byte boundaries), and its length.

    Aligned starts keep BLAS and SIMD loops on their fast paths; the gaps hold zeros, which
    stay zero through a plain gradient step (p - rate * 0).
    """
    offsets, size = [], 0
    for p in params:
        step = max(64 // p.data.dtype.itemsize, 1)
        size = -(-size // step) * step
        offsets.append(size)
        size += p.data.size
    return offsets, size


def _aligned_zeros(size, dtype):
    """A zero-filled 1-D array whose first element sits on a 64-byte boundary."""
    dtype = np.dtype(dtype)
    raw = np.zeros(size * dtype.itemsize + 64, np.uint8)
    start = -raw.ctypes.data % 64
    return raw[start:start + size * dtype.itemsize].view(dtype)


def flatten(params):
    """Move the arrays of `params` side by side into one new array; each p.data becomes a view.

    The values do not change, but arrays taken from p.data before are no longer the
    parameters'. Returns the group (the same one for the same parameters again), or None when
    they do not fit: mixed dtypes, arrays that are views or shared, or some in another group.
    """
    params = list(params)
    if not params:
        return None
    entry = _groups.get(id(params[0]))
    if entry is not None and entry[0]() is params[0] and entry[1].intact(params):
        return entry[1]
    arrays = [p.data for p in params]
    if (len({a.dtype for a in arrays}) != 1 or any(a.base is not None for a in arrays)
            or len({id(a) for a in arrays}) != len(arrays)
            or any(id(p) in _groups and _groups[id(p)][0]() is p for p in params)):
        return None
    offsets, size = _layout(params)
    flat = _aligned_zeros(size, arrays[0].dtype)
    views = []
    for p, a, start in zip(params, arrays, offsets):
        view = flat[start:start + a.size].reshape(a.shape)
        view[...] = a
        p.data = view
        views.append(view)
    group = _FlatGroup(params, flat, views)
    for p in params:
        _groups[id(p)] = (weakref.ref(p), group)
    return group
