"""Tensor's methods beyond its core, as mixins Tensor inherits from.

`ShapeMethods`: reshape, transpose, squeeze, flatten, ... (numpy's meaning, PyTorch's where
they agree). `ArrayMethods`: var, std, dot, trace, copy, cumsum, ... (ndarray's, composites).
`TorchMethods`: the names PyTorch users type that mean the same here (view, float(), clamp,
permute, split(size), masked_fill, zero_(), ...), each a composite of Tensor methods with no
gradient code. Also `in_place`, the in-place operators' one implementation.
"""

import math
import numbers
from collections import namedtuple

import numpy as np

from . import engine, ops, pytorch_names

# These mixins sit below tensor.py (Tensor inherits from them), so they import no Tensor: they
# apply ops and make Tensors through the Tensors they are handed (`t._apply`, `t._lift`,
# `t._constant`: tensor.py's apply, lift and constant).

# t.max(dim=1) and t.min(dim=1): PyTorch's (values, indices) pair (torch.return_types.max)
MaxResult = namedtuple("max", ["values", "indices"])
MinResult = namedtuple("min", ["values", "indices"])


class ShapeMethods:
    """Reshaping and reordering axes; each ends in one reshape or transpose node."""

    __slots__ = ()

    def reshape(self, *shape):
        """Like ndarray.reshape: `t.reshape(2, 3)` or `t.reshape((2, 3))`; -1 is inferred."""
        if len(shape) == 1 and not isinstance(shape[0], numbers.Integral):
            shape = tuple(shape[0])
        return self._apply(ops.reshape, self, shape=tuple(int(n) for n in shape))

    def ravel(self):
        """The elements as one axis, in C order: `t.reshape(-1)` (numpy's ravel)."""
        return self.reshape(-1)

    def transpose(self, *axes):
        """Permute axes, numpy's meaning: no arguments reverses them, else all the axes in their
        new order. Two axes that PyTorch would swap but numpy would not (t.transpose(0, 1) of a
        matrix, or any two of a tensor with more axes) raise, naming t.T, t.mT, t.swapaxes."""
        if len(axes) == 1 and (axes[0] is None or not isinstance(axes[0], numbers.Integral)):
            axes = () if axes[0] is None else tuple(axes[0])
        elif len(axes) == 2:
            pytorch_names.refuse_torch_transpose(self.ndim, axes)
        return self._apply(ops.transpose, self, axes=tuple(int(a) for a in axes) if axes else None)

    T = property(lambda self: self.transpose(), doc="The transpose (all axes reversed).")
    mT = property(lambda self: self.swapaxes(-1, -2), doc="The last two axes swapped.")

    def swapaxes(self, axis1, axis2):
        """Exchange two axes (a transpose)."""
        order = list(range(self.ndim))
        order[axis1], order[axis2] = order[axis2], order[axis1]
        return self.transpose(order)

    def squeeze(self, axis=None):
        """Drop axes of length 1 (all of them, or those in `axis`, which must have length 1)."""
        axes = axes_of(axis, self.ndim) if axis is not None else tuple(
            i for i, n in enumerate(self.shape) if n == 1)
        for i in axes:
            if self.shape[i] != 1:
                raise ValueError(f"squeeze: axis {i} has length {self.shape[i]}, not 1 (shape "
                                 f"{self.shape})")
        return self.reshape([n for i, n in enumerate(self.shape) if i not in axes])

    def expand_dims(self, axis):
        """Insert axes of length 1 at `axis` (an int or a tuple), like np.expand_dims."""
        return self.reshape(np.expand_dims(np.empty(self.shape, bool), plain_axis(axis)).shape)

    def unsqueeze(self, axis):
        """PyTorch's name for `expand_dims` (one axis)."""
        return self.expand_dims(axis)

    def flatten(self, start_axis=0, end_axis=-1):
        """Merge the axes `start_axis`..`end_axis` into one (PyTorch's flatten(start_dim,
        end_dim); numpy's flatten() is the default, all the axes)."""
        ndim = self.ndim or 1  # a 0-d tensor flattens from axis 0 (or -1), as in PyTorch
        for name, axis in (("start_axis", start_axis), ("end_axis", end_axis)):
            if not -ndim <= axis < ndim:
                raise IndexError(f"flatten: {name} {axis} is out of range for a tensor of "
                                 f"shape {self.shape} (from {-ndim} to {ndim - 1})")
        start, end = start_axis % ndim, end_axis % ndim
        if start > end:
            raise ValueError(f"flatten: start_axis {start_axis} comes after end_axis "
                             f"{end_axis} (shape {self.shape})")
        shape = self.shape
        return self.reshape(shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:])

    def broadcast_to(self, shape):
        """A read-only view with `shape`; the gradient is summed back over the new axes."""
        shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
        return self._apply(ops.broadcast_to, self, shape=shape)


def conversion_refused(shape) -> str:
    """`__array__`'s refusal for a tensor of `shape` that requires grad."""
    return (f"numpy would turn this Tensor (shape {shape}) into a plain array and drop the graph "
            "of a tensor that requires grad: use t.data (or t.detach()) for its values without "
            "a gradient; with the gradient, write np.array([a, b]) as np.stack([a, b]) (nested "
            "lists: a stack of stacks), np.array(t) as np.copy(t), np.r_[a, b] as "
            "np.concatenate([a, b]), np.c_[a, b] as np.column_stack([a, b]), np.sum([a, b]) as "
            "a + b (or np.stack([a, b]).sum(axis=0)); np.int64(t) is int(t) for one element "
            "(a number, without a gradient, as float(t)) and t.data.astype(np.int64) for "
            "integer indices")


class ArrayMethods:
    """ndarray's statistics, products, copies and running sums: composites of Tensor methods,
    or numpy's functions, which numpy dispatch runs on the ops (autograd.contractions,
    autograd.arrange). No t.repeat: numpy's repeats elements, PyTorch's tiles, and neither
    guess should be silent."""

    __slots__ = ()

    def __array__(self, dtype=None, copy=None):
        # np.asarray(t) and np.sum([a, b]) would hand out the values without the graph: refused
        # for a tensor that requires grad, as PyTorch does; t.data is the explicit way.
        if self.requires_grad:
            raise TypeError(conversion_refused(self.shape))
        return self.data if dtype is None else self.data.astype(dtype)

    def var(self, axis=None, ddof=0, keepdims=False):
        """Variance along `axis` with numpy's `ddof` (PyTorch's default is ddof=1: unbiased).

        nan without a warning where fewer than ddof + 1 elements are reduced.
        """
        count = math.prod(self.shape[i] for i in axes_of(axis, self.ndim))
        centered = self - self.mean(axis=axis, keepdims=True)
        scale = 1.0 / (count - ddof) if count > ddof else np.nan
        return (centered * centered).sum(axis=axis, keepdims=keepdims) * scale

    def std(self, axis=None, ddof=0, keepdims=False):
        """Standard deviation along `axis`, with numpy's `ddof`: the norm of the deviations over
        sqrt(n - ddof), so that its gradient where all values are equal is 0 (as in PyTorch),
        not sqrt's 0 * inf. nan without a warning where n <= ddof."""
        count = math.prod(self.shape[i] for i in axes_of(axis, self.ndim)) - ddof
        scale = count ** -0.5 if count > 0 else np.nan
        centered = self - self.mean(axis=axis, keepdims=True)
        return centered.norm(axis=axis, keepdims=keepdims) * scale

    def dot(self, other): return np.dot(self, other)
    def trace(self, offset=0, axis1=0, axis2=1): return np.trace(self, offset, axis1, axis2)
    def diagonal(self, offset=0, axis1=0, axis2=1): return np.diagonal(self, offset, axis1, axis2)
    def copy(self): return np.copy(self)
    def clone(self): return np.copy(self)  # PyTorch's name
    def cumsum(self, axis=None): return np.cumsum(self, axis)
    def cumprod(self, axis=None): return np.cumprod(self, axis)
    def take(self, indices, axis=None): return np.take(self, indices, axis)


class TorchMethods:
    """PyTorch's Tensor methods whose meaning npgrad shares, built from Tensor methods."""

    __slots__ = ()

    def view(self, *shape):
        """PyTorch's name for reshape (a copy or a view, as numpy decides; values are equal)."""
        return self.reshape(*shape)

    def view_as(self, other):
        """`t.reshape(other.shape)`."""
        return self.reshape(other.shape)

    def permute(self, *axes):
        """All the axes in their new order: `t.permute(2, 0, 1)` (numpy's transpose(axes))."""
        if len(axes) == 1 and not isinstance(axes[0], numbers.Integral):
            axes = tuple(axes[0])
        if sorted(a % max(self.ndim, 1) for a in axes) != list(range(self.ndim)):
            raise ValueError(f"permute{tuple(axes)}: give each of the {self.ndim} axes of shape "
                             f"{self.shape} once")
        return self.transpose(axes)

    def float(self):
        """As float32, differentiably (PyTorch's float())."""
        return self.astype(np.float32)

    def double(self):
        """As float64, differentiably."""
        return self.astype(np.float64)

    def to(self, *args, dtype=None, device=None):
        """PyTorch's t.to(dtype), t.to(other) (its dtype) and t.to("cpu"): a float dtype,
        numpy's or torch's; a device other than the CPU raises (npgrad runs on numpy)."""
        for arg in args:
            if engine.is_tensor(arg):
                dtype = arg.dtype
            elif _is_device(arg):
                device = arg
            else:
                dtype = arg
        if device is not None and str(device) != "cpu":
            raise ValueError(f"to({str(device)!r}): npgrad runs on numpy, on the CPU only")
        return self if dtype is None else self.astype(_numpy_dtype(dtype))

    def type_as(self, other):
        """This tensor in `other`'s dtype."""
        return self.astype(other.dtype)

    def cpu(self):
        """The tensor itself: its data is already a numpy array in memory."""
        return self

    def numel(self):
        """The number of elements (numpy's `t.size`)."""
        return self.data.size

    def dim(self):
        """The number of axes (numpy's `t.ndim`)."""
        return self.data.ndim

    def tolist(self):
        """The values as nested Python lists of floats (no gradient)."""
        return self.data.tolist()

    def clamp(self, min=None, max=None):
        """Limit values to [min, max] (PyTorch's clip; Tensor bounds get gradients too)."""
        if min is None and max is None:
            raise ValueError("clamp: give min, max or both")
        return self.clip(min, max)

    def clamp_min(self, min):
        """max(t, min) elementwise; the gradient is passed where t was above min."""
        return self.clip(min, None)

    def clamp_max(self, max):
        """min(t, max) elementwise."""
        return self.clip(None, max)

    def masked_fill(self, mask, value):
        """`value` where `mask` holds (a bool array, e.g. t > 0), t elsewhere; the gradient is
        0 at the filled positions."""
        mask = np.asarray(mask.data if engine.is_tensor(mask) else mask)
        if mask.dtype != bool:
            raise TypeError(f"masked_fill: the mask must be a bool array (a comparison such as "
                            f"t > 0 gives one), got dtype {mask.dtype}")
        if np.broadcast_shapes(mask.shape, self.shape) != self.shape:  # (numpy's error too)
            raise ValueError(f"masked_fill: a mask of shape {mask.shape} does not broadcast to "
                             f"the tensor's shape {self.shape}")
        return self._apply(ops.where, self._lift(value, self, "masked_fill"), self,
                           condition=mask)

    def zero_(self):
        """Set every value to 0 in place, returning the tensor. Under no_grad() (or on a tensor
        that needs no gradient) only: elsewhere a gradient could not flow through it."""
        if engine._grad_mode.enabled and self.requires_grad:
            raise RuntimeError(f"zero_() on a tensor that requires grad (shape {self.shape}) "
                               "while gradients are recorded: wrap it in no_grad() (to forget a "
                               "gradient, t.grad = None)")
        self.data[...] = 0
        self.mark_modified()
        return self

    def split(self, split_size, axis=0):
        """PyTorch's split: pieces of `split_size` along `axis` (the last may be shorter), or
        of the sizes in a list. (autograd.split and np.split keep numpy's meaning.)"""
        length = self.shape[axis]
        if isinstance(split_size, numbers.Integral):
            if split_size < 1 and length:
                raise ValueError(f"split: split_size must be at least 1, got {split_size}")
            # an empty axis gives one empty piece, as in PyTorch
            sizes = [min(split_size, length - i) for i in range(0, length, split_size or 1)
                     ] or [0]
        else:
            sizes = [int(n) for n in split_size]
            if sum(sizes) != length or min(sizes, default=0) < 0:
                raise ValueError(f"split: sizes {sizes} do not add up to the length {length} "
                                 f"of axis {axis} (shape {self.shape})")
        return tuple(self[_along(axis, self.ndim, slice(a, a + n))]
                     for a, n in zip(_starts(sizes), sizes))

    def chunk(self, chunks, axis=0):
        """PyTorch's chunk: at most `chunks` pieces of ceil(length / chunks) along `axis`."""
        if chunks < 1:
            raise ValueError(f"chunk: chunks must be at least 1, got {chunks}")
        if self.shape[axis] == 0:  # PyTorch gives `chunks` empty pieces of an empty axis
            return self.split([0] * chunks, axis)
        return self.split(-(-self.shape[axis] // chunks), axis)


def plain_axis(axis):
    """An axis argument as the ops take it: None, an int, or a tuple of ints."""
    if axis is None or isinstance(axis, numbers.Integral):
        return axis if axis is None else int(axis)
    return tuple(int(a) for a in axis)


def axes_of(axis, ndim):
    """`axis` (None, an int or a tuple, numpy ints too) as a sorted tuple of non-negative axes."""
    return ops.core.axes_of(plain_axis(axis), ndim)


def _starts(sizes):
    """The start of each piece: 0, then the running sum of `sizes`."""
    starts, total = [], 0
    for n in sizes:
        starts.append(total)
        total += n
    return starts


def _along(axis, ndim, index):
    return (slice(None),) * (axis % ndim) + (index,)


def _is_device(arg):
    """"cpu", "cuda:0", torch.device(...): a device, as PyTorch's to() takes it."""
    if type(arg).__name__ == "device":
        return True
    return isinstance(arg, str) and arg.split(":")[0] in ("cpu", "cuda", "mps", "meta")


def _numpy_dtype(dtype):
    """numpy's dtype for np.float32, "float32" or torch.float32 (by its name, without torch)."""
    try:
        return np.dtype(dtype)
    except TypeError:
        name = str(dtype).removeprefix("torch.")
    try:
        return np.dtype({"float": "float32", "double": "float64", "half": "float16"}.get(name,
                                                                                      name))
    except TypeError:
        raise TypeError(f"to({dtype!r}): not a dtype npgrad knows (np.float32 or "
                        "np.float64)") from None


def paired(t, name, axis, keepdims):
    """`t.max(dim=axis)`: PyTorch's (values, indices). The values are read at the indices, so
    the gradient goes to the element each index names, as in PyTorch (t.max(axis=...) shares
    it among tied elements instead)."""
    if not isinstance(axis, numbers.Integral):
        raise TypeError(f"{name}(dim={axis!r}): dim must be one int for PyTorch's (values, "
                        f"indices); for several axes write t.{name}(axis={axis!r}), the values")
    indices = (t.data.argmax if name == "max" else t.data.argmin)(axis=axis)
    where = list(np.indices(indices.shape, sparse=True))
    where.insert(axis % t.ndim, indices)
    values = t[tuple(where)]
    if keepdims:
        values, indices = values.expand_dims(axis), np.expand_dims(indices, axis)
    return (MaxResult if name == "max" else MinResult)(values, indices)


def in_place(op, target, other, symbol):
    """`target op= other` into target's own array; recorded when gradients must flow through it.

    A leaf that requires grad is refused while recording (it is a parameter: its update belongs
    in no_grad()). Any other tensor in a recorded computation gets the op as its new node, over a
    snapshot of its old value; nodes recorded from the old value reach that snapshot in backward
    (engine.as_recorded), so `h += f(h)` means `h = h + f(h)`.
    """
    other = target._lift(other, target, op.name)
    if engine._grad_mode.enabled and (target.requires_grad or other.requires_grad):
        refuse_leaf(target, symbol)
        old = snapshot(target)
        # `h *= h` reads the old value twice: the live `h` would become its own parent (a cycle)
        result = target._apply(op, old, old if other is target else other)
        _check_in_place(op, symbol, target, other, result.shape)
        take_node(target, result)
        return target
    try:
        op.forward(target.data, other.data, out=target.data, casting="same_kind")
    except ValueError:
        try:
            shape = np.broadcast_shapes(target.shape, other.shape)
        except ValueError:
            shape = "none (they do not broadcast)"
        _check_in_place(op, symbol, target, other, shape)
        raise
    target.mark_modified()
    return target


def refuse_leaf(target, symbol):
    """Refuse a recorded in-place change of a parameter, or of an array another one shares."""
    if target.requires_grad and target.op is None:
        raise RuntimeError(
            f"{symbol} on a leaf tensor that requires grad (shape {target.shape}) while "
            "gradients are recorded: wrap the update in no_grad(), e.g. "
            "`with no_grad(): p -= lr * p.grad`")
    if target.data.base is not None:
        # A view (t = a.reshape(...), t = h[0], t = x.T): the write would change the array it
        # views too, a leaf's weights or values a recorded node reads, behind the graph's back.
        made = f"made by {target.op.name}" if target.op is not None else "a leaf"
        raise RuntimeError(
            f"{symbol} on a tensor (shape {target.shape}, {made}) whose array is a view of "
            "another one while gradients are recorded: the write would change that array too, "
            "unseen by the graph; write into a copy (t = t.copy()) or rebind (t = t + ...)")


def take_node(target, result):
    """Make `result`'s node target's own, its values written into target's array."""
    target.data[...] = result.data
    target.requires_grad, target.op, target.parents = True, result.op, result.parents
    # Its node is new (a newer seq): nodes recorded from its old value go to the snapshot.
    target.attrs, target.seq, target.version = result.attrs, result.seq, result.seq


def snapshot(t):
    """A copy of `t` as it is now, node included: the input of an in-place op on `t`."""
    copy = t._constant(t.data.copy())
    copy.requires_grad, copy.op, copy.parents = t.requires_grad, t.op, t.parents
    copy.attrs, copy.seq, copy.name = t.attrs, t.seq, t.name
    copy.version = t.version  # a change before this one still shows to the nodes that read t
    return copy


def _check_in_place(op, symbol, target, other, shape):
    if shape != target.shape:
        raise ValueError(f"{op.name} in place ({symbol}): shapes {target.shape} and "
                         f"{other.shape} give shape {shape}, not the tensor's own shape")


def backward_into(root, gradient, create_graph, inputs):
    """`root.backward(inputs=...)`: add the gradients of `inputs` only into their `.grad`."""
    inputs = [inputs] if engine.is_tensor(inputs) else list(inputs)
    if not inputs:
        raise ValueError("backward: inputs= is empty; leave it out to reach every leaf")
    grads = engine.grad(root, inputs, None if gradient is None else [gradient],
                        create_graph=create_graph, allow_unused=True)
    for t, g in zip(inputs, grads):
        if g is None:
            continue
        if not create_graph:
            g = g.data
        t.grad = g if t.grad is None else t.grad + g
