"""Building and rearranging arrays, as numpy spells it: evenly spaced values, stacking, splitting,
repeating, padding, rolling, flipping, moving axes, differences, running sums and products,
sorting, partitioning, selecting and taking.

Each is a composite of recorded ops (reshape, concatenate, getitem, ...), so its gradient puts
every element back where it came from with no rule of its own; only cumsum and cumprod are op
rows (ops/arrange.py). Plain arrays and numbers join in the first Tensor's dtype.
"""

import numbers
import operator

import numpy as np

from . import ops
from .functions import _tensors, concatenate, split, stack, where
from .tensor import Tensor, apply


def _one(a, name):
    return _tensors([a], name)[0]


def _along(axis, ndim, index):
    return ops.core.along(axis, ndim, index)


def _axis_in(axis, ndim, name):
    """`axis` as a non-negative int, or numpy's AxisError naming the function."""
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(f"{name}: axis {axis} is out of bounds for an array of "
                                      f"dimension {ndim}")
    return int(axis) % ndim


# ---------------------------------------------------------------- evenly spaced values
def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *,
             device=None):
    """np.linspace between Tensor ends (broadcast together; the samples along `axis`): numpy's
    values, sample i being start + i * step and the last one `stop` itself when `endpoint`. So
    sample i's gradient goes to start and stop in the proportions 1 - i/div and i/div."""
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"linspace: number of samples, {num}, must be non-negative")
    if device not in (None, "cpu"):
        raise ValueError(f"linspace: device must be None or 'cpu', got {device!r}")
    if dtype is not None and np.dtype(dtype).kind != "f":
        raise TypeError(f"np.linspace(..., dtype={np.dtype(dtype)}) of Tensors: Tensors hold "
                        "floats (np.linspace on t.data gives a plain array without a gradient)")
    start, stop = _tensors([start, stop], "linspace")
    div = num - 1 if endpoint else num
    delta = stop - start
    i = np.arange(num, dtype=delta.dtype).reshape((-1,) + (1,) * delta.ndim)
    step = delta / div if div > 0 else np.nan  # numpy's step: nan when there is none
    if div > 0 and not (step.data == 0).any():
        y = step * i + start
    else:  # numpy's order of operations for a zero (or denormal) step, and for num <= 1
        y = delta * (i / div if div > 0 else i) + start
    if endpoint and num > 1:
        y = concatenate([y[:-1], stop.broadcast_to((1,) + y.shape[1:])])
    if axis != 0:
        y = moveaxis(y, 0, axis)
    if dtype is not None and np.dtype(dtype) != y.dtype:
        y = y.astype(dtype)
    return (y, step) if retstep else y


# ---------------------------------------------------------------- dimensions and stacking
def atleast_1d(*arys):
    """np.atleast_1d: 0-d tensors become shape (1,); a list for several arguments."""
    out = [t if t.ndim >= 1 else t.reshape(1) for t in _tensors(arys, "atleast_1d")]
    return out[0] if len(out) == 1 else out


def atleast_2d(*arys):
    """np.atleast_2d: (n,) becomes (1, n), 0-d becomes (1, 1)."""
    out = [t if t.ndim >= 2 else t.reshape(1, -1 if t.ndim else 1)
           for t in _tensors(arys, "atleast_2d")]
    return out[0] if len(out) == 1 else out


def atleast_3d(*arys):
    """np.atleast_3d: (n,) becomes (1, n, 1), (m, n) becomes (m, n, 1), 0-d (1, 1, 1)."""
    def grow(t):
        if t.ndim == 0:
            return t.reshape(1, 1, 1)
        if t.ndim == 1:
            return t.reshape(1, t.shape[0], 1)
        return t.reshape(*t.shape, 1) if t.ndim == 2 else t
    out = [grow(t) for t in _tensors(arys, "atleast_3d")]
    return out[0] if len(out) == 1 else out


def _pieces(tup, name):
    tup = list(tup)
    if not tup:
        raise ValueError(f"{name}: needs at least one array, got an empty sequence")
    return _tensors(tup, name)


def hstack(tup) -> Tensor:
    """np.hstack: joined along axis 1 (axis 0 for 1-D tensors)."""
    tensors = atleast_1d(*_pieces(tup, "hstack"))
    tensors = tensors if isinstance(tensors, list) else [tensors]
    return concatenate(tensors, axis=0 if tensors[0].ndim == 1 else 1)


def vstack(tup) -> Tensor:
    """np.vstack: joined along axis 0, 1-D tensors as rows."""
    tensors = atleast_2d(*_pieces(tup, "vstack"))
    return concatenate(tensors if isinstance(tensors, list) else [tensors], axis=0)


def dstack(tup) -> Tensor:
    """np.dstack: joined along axis 2, after atleast_3d."""
    tensors = atleast_3d(*_pieces(tup, "dstack"))
    return concatenate(tensors if isinstance(tensors, list) else [tensors], axis=2)


def column_stack(tup) -> Tensor:
    """np.column_stack: 1-D tensors as columns, 2-D ones as they are, joined along axis 1."""
    tensors = [t.reshape(-1, 1) if t.ndim < 2 else t for t in _pieces(tup, "column_stack")]
    return concatenate(tensors, axis=1)


def append(arr, values, axis=None) -> Tensor:
    """np.append: both flattened and joined (axis=None), or joined along `axis`. Either may be
    a list holding Tensors (numpy's array_like): its items are stacked, in the graph."""
    arr, values = _tensors([_array_like(arr), _array_like(values)], "append")
    if axis is None:
        return concatenate([arr.reshape(-1), values.reshape(-1)])
    return concatenate([arr, values], axis=axis)


def _holds_tensor(value):
    return isinstance(value, Tensor) or (
        isinstance(value, (list, tuple)) and any(_holds_tensor(v) for v in value))


def _array_like(value):
    """A (nested) list of Tensors and numbers, stacked as np.array would join it but recorded;
    anything else as it is."""
    if isinstance(value, (list, tuple)) and _holds_tensor(value):
        return stack([_array_like(v) for v in value])
    return value


# ---------------------------------------------------------------- splitting
def array_split(ary, indices_or_sections, axis=0) -> list:
    """np.array_split: np.split, except that n sections need not be equal (the first
    length % n of them get one element more). Each piece is a slice, in the graph."""
    ary = _one(ary, "array_split")
    axis = _axis_in(axis, ary.ndim, "array_split")
    try:
        sections = operator.index(indices_or_sections)
    except TypeError:  # a sequence of split points: np.split's meaning
        return split(ary, indices_or_sections, axis)
    if sections <= 0:
        raise ValueError(f"array_split: the number of sections must be larger than 0, got "
                         f"{sections}")
    each, extra = divmod(ary.shape[axis], sections)
    sizes = [each + 1] * extra + [each] * (sections - extra)
    return split(ary, np.cumsum(sizes)[:-1].tolist(), axis)


def _directional_split(name, axis, min_ndim):
    def run(ary, indices_or_sections) -> list:
        ary = _one(ary, name)
        if ary.ndim < min_ndim:
            raise ValueError(f"{name}: needs an array of at least {min_ndim} dimensions, got "
                             f"shape {ary.shape}")
        along = 0 if name == "hsplit" and ary.ndim == 1 else axis
        return split(ary, indices_or_sections, along)
    run.__name__ = name
    run.__doc__ = (f"np.{name}: np.split along axis {axis}"
                   + (" (axis 0 of a 1-D array)." if name == "hsplit" else "."))
    return run


vsplit = _directional_split("vsplit", 0, 2)
hsplit = _directional_split("hsplit", 1, 1)
dsplit = _directional_split("dsplit", 2, 3)


# ---------------------------------------------------------------- repeating and padding
def repeat(a, repeats, axis=None) -> Tensor:
    """np.repeat: each element `repeats` times along `axis` (of the flattened tensor for None).
    The copies' gradients add up."""
    a = _one(a, "repeat")
    if axis is None:
        a, axis = a.reshape(-1), 0
    axis = _axis_in(axis, a.ndim, "repeat")
    if isinstance(repeats, numbers.Integral) or np.ndim(repeats) == 0 or np.size(repeats) == 1:
        n = int(np.reshape(repeats, -1)[0])
        if n < 0:
            raise ValueError(f"repeat: repeats must be non-negative, got {n}")
        # a new axis after `axis`, broadcast to n, then merged into it
        wide = a.expand_dims(axis + 1).broadcast_to(a.shape[:axis + 1] + (n,) + a.shape[axis + 1:])
        return wide.reshape(a.shape[:axis] + (a.shape[axis] * n,) + a.shape[axis + 1:])
    positions = np.repeat(np.arange(a.shape[axis]), repeats)  # numpy checks the counts
    return a[_along(axis, a.ndim, positions)]


def tile(A, reps) -> Tensor:
    """np.tile: the whole tensor repeated `reps` times along each axis."""
    a = _one(A, "tile")
    reps = (int(reps),) if isinstance(reps, numbers.Integral) else tuple(int(r) for r in reps)
    ndim = max(a.ndim, len(reps))
    reps = (1,) * (ndim - len(reps)) + reps
    shape = (1,) * (ndim - a.ndim) + a.shape
    # each axis of length n gets a new axis of length r before it: (r, n) merges into r * n
    wide = a.reshape(tuple(x for n in shape for x in (1, n)))
    wide = wide.broadcast_to(tuple(x for r, n in zip(reps, shape) for x in (r, n)))
    return wide.reshape(tuple(r * n for r, n in zip(reps, shape)))


def _pad_positions(n, before, after, mode):
    """The input positions that the padded axis reads, for the modes that copy x's values."""
    p = np.arange(-before, n + after)
    if mode == "edge":
        return np.clip(p, 0, n - 1)
    if mode == "wrap":
        return p % n
    if n == 1:  # reflect about a single element: numpy repeats it
        return np.zeros_like(p)
    m = p % (2 * (n - 1))  # reflect: period 2(n - 1), the edges not repeated
    return np.where(m < n, m, 2 * (n - 1) - m)


def pad(array, pad_width, mode="constant", constant_values=0) -> Tensor:
    """np.pad with mode 'constant', 'edge', 'reflect' or 'wrap'; pad_width and constant_values
    as numpy takes them (one number, a pair, or a pair per axis). The padding made of copies of
    x's elements sends its gradient back to them; constant padding gets none."""
    a = original = _one(array, "pad")
    if mode not in ("constant", "edge", "reflect", "wrap"):
        raise ValueError(f"pad: mode {mode!r} has no gradient rule in npgrad; the modes with "
                         "one are 'constant', 'edge', 'reflect' and 'wrap'")
    widths = np.broadcast_to(np.asarray(pad_width), (a.ndim, 2))
    if widths.size and (widths.dtype.kind not in "iu" or widths.min() < 0):
        raise ValueError(f"pad: pad_width must be non-negative integers, got {pad_width!r}")
    values = np.broadcast_to(np.asarray(constant_values, dtype=a.dtype), (a.ndim, 2))
    for axis, (before, after) in enumerate(widths.tolist()):
        if not before and not after:
            continue
        n = a.shape[axis]
        if mode == "constant":
            sides = [np.full(a.shape[:axis] + (k,) + a.shape[axis + 1:], v, a.dtype)
                     for k, v in zip((before, after), values[axis])]
            a = concatenate([sides[0], a, sides[1]], axis=axis)
        elif n == 0:
            raise ValueError(f"pad: mode {mode!r} cannot pad axis {axis} of length 0 (shape "
                             f"{a.shape}); numpy refuses it too")
        else:
            a = a[_along(axis, a.ndim, _pad_positions(n, before, after, mode))]
    return copy(a) if a is original else a  # a new array, as numpy's, even with no padding


# ---------------------------------------------------------------- reordering
def flip(m, axis=None) -> Tensor:
    """np.flip: the order of the elements reversed along `axis` (all axes for None)."""
    m = _one(m, "flip")
    axes = range(m.ndim) if axis is None else [axis] if isinstance(axis, numbers.Integral) \
        else axis
    index = [slice(None)] * m.ndim
    for ax in axes:
        index[_axis_in(ax, m.ndim, "flip")] = slice(None, None, -1)
    return m[tuple(index)]


def fliplr(m) -> Tensor:
    """np.fliplr: columns reversed (axis 1); at least 2-D."""
    m = _one(m, "fliplr")
    if m.ndim < 2:
        raise ValueError(f"fliplr: needs at least 2 dimensions, got shape {m.shape}")
    return flip(m, 1)


def flipud(m) -> Tensor:
    """np.flipud: rows reversed (axis 0); at least 1-D."""
    m = _one(m, "flipud")
    if m.ndim < 1:
        raise ValueError("flipud: needs at least 1 dimension, got shape ()")
    return flip(m, 0)


def rot90(m, k=1, axes=(0, 1)) -> Tensor:
    """np.rot90: rotated by 90 degrees k times, from the first of `axes` towards the second."""
    m = _one(m, "rot90")
    if len(axes) != 2:
        raise ValueError(f"rot90: axes must name two axes, got {axes!r}")
    first, second = (_axis_in(ax, m.ndim, "rot90") for ax in axes)
    if first == second:
        raise ValueError(f"rot90: axes {axes!r} name the same axis twice")
    k %= 4
    if k == 0:
        return m[...]
    if k == 2:
        return flip(m, (first, second))
    order = list(range(m.ndim))
    order[first], order[second] = order[second], order[first]
    # a quarter turn is a flip and a swap of the two axes; three quarters, the swap first
    return flip(m, second).transpose(order) if k == 1 else flip(m.transpose(order), second)


def roll(a, shift, axis=None) -> Tensor:
    """np.roll: elements shifted along `axis` (the flattened tensor for None), wrapping around."""
    a = _one(a, "roll")
    if axis is None:
        return roll(a.reshape(-1), shift, 0).reshape(a.shape)
    shifts, axes = np.broadcast_arrays(np.asarray(shift), np.asarray(axis))
    total = {}
    for s, ax in zip(shifts.reshape(-1).tolist(), axes.reshape(-1).tolist()):
        ax = _axis_in(ax, a.ndim, "roll")
        total[ax] = total.get(ax, 0) + s  # one axis named twice shifts by the sum, as numpy's
    for ax, s in total.items():
        n = a.shape[ax]
        if n and s % n:
            k = n - s % n  # the element at k comes first
            a = concatenate([a[_along(ax, a.ndim, slice(k, None))],
                             a[_along(ax, a.ndim, slice(None, k))]], axis=ax)
    return a


def moveaxis(a, source, destination) -> Tensor:
    """np.moveaxis: axes moved to new positions, the others keeping their order."""
    a = _one(a, "moveaxis")
    source = [source] if isinstance(source, numbers.Integral) else list(source)
    destination = [destination] if isinstance(destination, numbers.Integral) else list(
        destination)
    if len(source) != len(destination):
        raise ValueError(f"moveaxis: source {source} and destination {destination} must have "
                         "the same number of elements")
    source = [_axis_in(s, a.ndim, "moveaxis") for s in source]
    destination = [_axis_in(d, a.ndim, "moveaxis") for d in destination]
    if len(set(source)) < len(source) or len(set(destination)) < len(destination):
        raise ValueError(f"moveaxis: repeated axis in source {source} or destination "
                         f"{destination}")
    order = [i for i in range(a.ndim) if i not in source]
    for d, s in sorted(zip(destination, source)):
        order.insert(d, s)
    return a.transpose(order)


def rollaxis(a, axis, start=0) -> Tensor:
    """np.rollaxis: `axis` moved to just before the axis now at `start` (np.moveaxis's older
    spelling)."""
    a = _one(a, "rollaxis")
    axis = _axis_in(axis, a.ndim, "rollaxis")
    start = start + a.ndim if start < 0 else start
    if not 0 <= start <= a.ndim:
        raise np.exceptions.AxisError(f"rollaxis: start {start} must be in [{-a.ndim}, "
                                      f"{a.ndim}] for an array of dimension {a.ndim}")
    order = [i for i in range(a.ndim) if i != axis]
    order.insert(start - 1 if axis < start else start, axis)
    return a.transpose(order)


def diff(a, n=1, axis=-1, prepend=np._NoValue, append=np._NoValue) -> Tensor:
    """np.diff: the n-th difference along `axis`, after joining `prepend` and `append`."""
    a = _one(a, "diff")
    if n < 0:
        raise ValueError(f"diff: order n must be non-negative, got {n}")
    if a.ndim == 0:
        raise ValueError("diff: needs at least 1 dimension, got shape ()")
    axis = _axis_in(axis, a.ndim, "diff")
    ends = []
    for end in (prepend, append):
        if end is np._NoValue:
            ends.append(None)
            continue
        end = _tensors([end, a], "diff")[0]
        if end.ndim == 0:  # a number: one slice of a's shape
            end = end.broadcast_to(a.shape[:axis] + (1,) + a.shape[axis + 1:])
        ends.append(end)
    if ends[0] is not None or ends[1] is not None:
        a = concatenate([t for t in (ends[0], a, ends[1]) if t is not None], axis=axis)
    for _ in range(n):  # the order of the difference, not the elements
        a = a[_along(axis, a.ndim, slice(1, None))] - a[_along(axis, a.ndim, slice(None, -1))]
    return a


# ---------------------------------------------------------------- running sums and products
def _running(op, name):
    def run(a, axis=None, dtype=None, out=None) -> Tensor:
        if dtype is not None or out is not None:
            raise TypeError(f"np.{name}(..., dtype=/out=) on a Tensor: npgrad's version takes "
                            "neither")
        a = _one(a, name)
        if axis is None:  # numpy's meaning: over the flattened array
            a, axis = a.reshape(-1), 0
        return apply(op, a, axis=_axis_in(axis, a.ndim, name))
    run.__name__ = name
    run.__doc__ = f"np.{name} along `axis` (the flattened tensor for None)."
    return run


cumsum = _running(ops.cumsum, "cumsum")
cumprod = _running(ops.cumprod, "cumprod")


# ---------------------------------------------------------------- sorting and taking
def take_along_axis(arr, indices, axis=-1) -> Tensor:
    """np.take_along_axis: arr[..., indices[...], ...] paired position by position along
    `axis`, the other axes broadcast (arr flattened for axis=None). Repeated picks add up."""
    arr = _one(arr, "take_along_axis")
    indices = np.asarray(indices.data if isinstance(indices, Tensor) else indices)
    if indices.dtype.kind not in "iu":
        raise IndexError(f"take_along_axis: indices must be integers, got {indices.dtype}")
    if axis is None:
        arr, axis = arr.reshape(-1), 0
    if indices.ndim != arr.ndim:
        raise ValueError(f"take_along_axis: indices of shape {indices.shape} and arr of shape "
                         f"{arr.shape} must have the same number of dimensions")
    axis = _axis_in(axis, arr.ndim, "take_along_axis")
    index = tuple(indices if d == axis else np.arange(n).reshape(
        [-1 if i == d else 1 for i in range(arr.ndim)]) for d, n in enumerate(arr.shape))
    return arr[index]


def take(a, indices, axis=None, out=None, mode="raise") -> Tensor:
    """np.take: the elements at `indices` along `axis` (of the flattened tensor for None)."""
    if out is not None or mode != "raise":
        raise TypeError("np.take(..., out=/mode=) on a Tensor: npgrad's version takes neither "
                        "(indices out of range raise)")
    a = _one(a, "take")
    indices = np.asarray(indices.data if isinstance(indices, Tensor) else indices)
    if indices.dtype.kind not in "iu":
        raise IndexError(f"take: indices must be integers, got {indices.dtype}")
    if axis is None:
        return a.reshape(-1)[indices]
    return a[_along(_axis_in(axis, a.ndim, "take"), a.ndim, indices)]


def sort(a, axis=-1, kind=None, order=None) -> Tensor:
    """np.sort: the values in order along `axis` (flattened for None); each value's gradient
    goes back to the element it came from (ties: numpy's stable order)."""
    if order is not None:
        raise TypeError("np.sort(..., order=) on a Tensor: Tensors have no fields")
    a = _one(a, "sort")
    if axis is None:
        a, axis = a.reshape(-1), 0
    if a.ndim == 0:
        raise np.exceptions.AxisError(f"sort: axis {axis} is out of bounds for a 0-d array")
    positions = np.argsort(a.data, axis=axis, kind="stable" if kind is None else kind)
    return take_along_axis(a, positions, axis)


def partition(a, kth, axis=-1, kind="introselect", order=None) -> Tensor:
    """np.partition: numpy's values (the kth elements where a sort puts them, smaller ones
    before, larger after); each value's gradient goes back to an element it came from."""
    if order is not None:
        raise TypeError("np.partition(..., order=) on a Tensor: Tensors have no fields")
    a = _one(a, "partition")
    if axis is None:
        a, axis = a.reshape(-1), 0
    values = np.partition(a.data, kth, axis=axis, kind=kind)
    # the j-th smallest output reads the j-th smallest input (both in stable order): equal
    # values, so the output is numpy's whatever order it leaves around the kth elements
    by_value = np.argsort(a.data, axis=axis, kind="stable")
    slots = np.argsort(values, axis=axis, kind="stable")
    positions = np.empty_like(slots)
    np.put_along_axis(positions, slots, by_value, axis)
    return take_along_axis(a, positions, axis)


def select(condlist, choicelist, default=0) -> Tensor:
    """np.select: at each position, the choice of the first condition that holds there, else
    `default` (all broadcast together). Conditions are bool arrays (comparisons give them);
    each choice's gradient goes to the positions where it was picked."""
    condlist, choicelist = list(condlist), list(choicelist)
    if len(condlist) != len(choicelist):
        raise ValueError(f"select: {len(condlist)} conditions and {len(choicelist)} choices; "
                         "the lists must have the same length")
    if not condlist:
        raise ValueError("select: an empty condition list is not possible")
    masks = [np.asarray(c.data if isinstance(c, Tensor) else c) for c in condlist]
    for i, mask in enumerate(masks):
        if mask.dtype != bool:
            raise TypeError(f"select: entry {i} of condlist should be a bool array, got "
                            f"{mask.dtype}")
    *choices, result = _tensors([*choicelist, default], "select")
    for mask, choice in zip(masks[::-1], choices[::-1]):  # the first condition wins: it is last
        result = where(mask, choice, result)
    return result


def copy(a, order="K", subok=False) -> Tensor:
    """np.copy: a new array with the same values, in the graph (the gradient passes through)."""
    return apply(ops.copy, _one(a, "copy"))
