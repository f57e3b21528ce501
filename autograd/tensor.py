"""What a tensor is: an ndarray, its gradient, and the node that produced it.

Every differentiable method is a one-line call to `apply(op, ...)`, which runs the primitive's
forward and, when grad mode is on and an input requires grad, records the node (`op`,
`parents`, `attrs`). The graph is public: `t.op.name` and `t.parents` are what renderers read.
"""

import itertools
import numbers
from operator import attrgetter

import numpy as np

from . import engine, op_errors, ops, pytorch_names, tensor_methods
from .masks import Indices, Mask
from .tensor_math import MathMethods
from .tensor_methods import plain_axis as _axis

# Every tensor gets the next number as `seq`, so it is newer than its parents: backward visits
# the graph newest first.
_creation_order = itertools.count()


class Tensor(MathMethods, tensor_methods.ShapeMethods, tensor_methods.ArrayMethods,
             tensor_methods.TorchMethods, metaclass=pytorch_names.HidesHints):
    """An n-dimensional array that records the operations applied to it.

    `Tensor(data, requires_grad=False, dtype=None)`: Python numbers, lists, integer and boolean
    arrays become float64; float32 and float64 arrays keep their dtype. A leaf that requires
    grad gets its own copy of `data`; other arrays are wrapped without copying (as np.asarray).
    """

    __slots__ = ("data", "grad", "requires_grad", "op", "parents", "attrs", "name",
                 "retains_grad", "seq", "version", "__weakref__")

    def __init__(self, data, requires_grad=False, dtype=None, name=None):
        if type(data) is not np.ndarray and isinstance(data, Tensor):  # (arrays: the usual)
            data = data.data
        try:
            array = np.array(data, dtype=dtype, copy=None if not requires_grad else True)
        except (TypeError, ValueError) as err:
            raise TypeError(
                f"Tensor: cannot make a float array from {type(data).__name__}: {err}"
            ) from None
        if array.dtype.kind != "f":
            if dtype is not None or array.dtype.kind not in "biu":
                raise TypeError(f"Tensor: dtype must be floating point, got {array.dtype}")
            array = array.astype(np.float64)
        if engine.watcher is not None and array is not data:
            engine.watcher.made(array, np.asarray, data, array.dtype)
        self.data = array
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.op = None
        self.parents = ()
        self.attrs = None
        self.name = name
        self.retains_grad = False
        self.seq = next(_creation_order)
        self.version = 0

    # ------------------------------------------------------------ array facts
    # (attrgetter: read in C, without a Python call; layers and losses check shapes each step)
    shape = property(attrgetter("data.shape"), doc="Shape of the data, a tuple.")
    ndim = property(attrgetter("data.ndim"), doc="Number of dimensions.")
    size = property(attrgetter("data.size"), doc="Number of elements.")
    dtype = property(attrgetter("data.dtype"), doc="numpy dtype of data and grad.")
    is_leaf = property(lambda self: self.op is None, doc="True unless made by a recorded op.")

    def __dir__(self):
        # the hints for PyTorch's names are properties of the class, but not its attributes
        return pytorch_names.visible(object.__dir__(self))

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d Tensor (shape ()): it has no first axis")
        return len(self.data)

    # ------------------------------------------------------------ Python numbers from one element
    def _one(self, what):
        if engine.watcher is not None:
            engine.watcher.read(self)
        if self.data.size != 1:
            raise TypeError(f"{what}: only a Tensor with one element converts to a Python "
                            f"number; this one has shape {self.shape} ({self.data.size} elements)")
        return self.data.item()

    def __float__(self): return float(self._one("float()"))
    def __int__(self): return int(self._one("int()"))

    def __round__(self, ndigits=None):
        return round(self._one("round()"), ndigits)

    def __format__(self, spec):
        return format(self._one(f"format(Tensor, {spec!r})"), spec) if spec else str(self)

    def __bool__(self):
        if engine.watcher is not None:
            engine.watcher.read(self)
        if self.data.size != 1:
            raise ValueError(f"bool(): the truth value of a Tensor with {self.data.size} elements "
                             f"(shape {self.shape}) is ambiguous; use t.data.any() or t.data.all()")
        return bool(self.data)

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="Tensor(", threshold=20)
        extras = ""
        if self.data.dtype != np.float64:
            extras += f", dtype={self.data.dtype}"
        if self.op is not None:
            extras += f", op={self.op.name}"
        elif self.requires_grad:
            extras += ", requires_grad=True"
        if self.name:
            extras += f", name={self.name!r}"
        return f"Tensor({body}{extras})"

    # ------------------------------------------------------------ autograd
    def backward(self, gradient=None, *, retain_graph=None, create_graph=False, inputs=None,
                 retain_grads=False, grad=None):
        """Accumulate the gradient of this tensor into `.grad` of the leaves that require grad.

        `gradient` (or `grad`) is required unless the tensor holds one element, and must match
        its shape. `create_graph=True` records the backward pass itself, for higher-order
        derivatives: `.grad` then holds a Tensor with its own graph (an ndarray otherwise).
        `inputs=`: accumulate into these tensors' `.grad` only, as PyTorch's. `retain_graph`
        is accepted and changes nothing: npgrad keeps the graph, so backward may run again.
        `retain_grads=True` also keeps every intermediate's gradient (for graph pictures).
        """
        if gradient is not None and grad is not None:
            raise TypeError("backward: got both gradient= and grad=; pass one")
        gradient = grad if gradient is None else gradient
        if inputs is None:
            return engine.backward(self, gradient, retain_grads, create_graph)
        tensor_methods.backward_into(self, gradient, create_graph, inputs)

    def requires_grad_(self, requires_grad=True):
        """Set `requires_grad` on this leaf in place (PyTorch's name); returns self."""
        if self.op is not None and not requires_grad:
            raise RuntimeError(f"requires_grad_: only a leaf can stop requiring grad (this "
                               f"tensor was made by {self.op.name}); use detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def zero_grad(self):
        """Forget the accumulated gradient (sets `.grad` to None, as PyTorch does by default)."""
        self.grad = None

    def retain_grad(self):
        """Keep this intermediate tensor's gradient in `.grad` after `backward`."""
        self.retains_grad = True
        return self

    def mark_modified(self):
        """Record that `data` was changed in place (in-place operators and optimizers call this).

        backward() through a graph recorded before the change then raises instead of using the
        new values. Writing into `.data` directly without calling this bypasses the check.
        """
        self.version = next(_creation_order)
        if engine.watcher is not None:  # a compiled step must know: a replay would not repeat it
            engine.watcher.modified(self)

    def detach(self):
        """The same data as a new leaf with no graph and no gradient (shares memory)."""
        return Tensor(self.data)

    def item(self):
        """The single element as a Python float."""
        if engine.watcher is not None:
            engine.watcher.read(self)
        if self.data.size != 1:
            raise ValueError(
                f"item: tensor has {self.data.size} elements (shape {self.shape}), not 1"
            )
        return self.data.item()

    def numpy(self):
        """The underlying ndarray (shared, not copied)."""
        return self.data

    # ------------------------------------------------------------ arithmetic operators
    def __add__(self, other): return apply(ops.add, self, lift(other, self, "add"))
    def __radd__(self, other): return apply(ops.add, lift(other, self, "add"), self)
    def __sub__(self, other): return apply(ops.subtract, self, lift(other, self, "subtract"))
    def __rsub__(self, other): return apply(ops.subtract, lift(other, self, "subtract"), self)
    def __mul__(self, other): return apply(ops.multiply, self, lift(other, self, "multiply"))
    def __rmul__(self, other): return apply(ops.multiply, lift(other, self, "multiply"), self)
    def __truediv__(self, other): return apply(ops.divide, self, lift(other, self, "divide"))
    def __rtruediv__(self, other): return apply(ops.divide, lift(other, self, "divide"), self)
    def __pow__(self, other): return apply(ops.power, self, lift(other, self, "power"))
    def __rpow__(self, other): return apply(ops.power, lift(other, self, "power"), self)
    def __matmul__(self, other): return apply(ops.matmul, self, lift(other, self, "matmul"))
    def __rmatmul__(self, other): return apply(ops.matmul, lift(other, self, "matmul"), self)
    def __neg__(self): return apply(ops.negative, self)
    def __pos__(self): return self

    # In place, as in PyTorch: the tensor's own array changes (no new Tensor, no rebinding).
    def __iadd__(self, other): return tensor_methods.in_place(ops.add, self, other, "+=")
    def __isub__(self, other): return tensor_methods.in_place(ops.subtract, self, other, "-=")
    def __imul__(self, other): return tensor_methods.in_place(ops.multiply, self, other, "*=")
    def __itruediv__(self, other): return tensor_methods.in_place(ops.divide, self, other, "/=")

    # ------------------------------------------------------------ comparisons
    # Elementwise, with broadcasting, and no gradient: the result is a numpy bool array, which
    # works as a mask in arithmetic (x * (x > 0)), as an index (x[x > 0]), in np.where, and in
    # `if` for a single element. (PyTorch returns a bool tensor; npgrad's tensors hold floats.)
    def __eq__(self, other): return _compare(np.equal, self, other)
    def __ne__(self, other): return _compare(np.not_equal, self, other)
    def __lt__(self, other): return _compare(np.less, self, other)
    def __le__(self, other): return _compare(np.less_equal, self, other)
    def __gt__(self, other): return _compare(np.greater, self, other)
    def __ge__(self, other): return _compare(np.greater_equal, self, other)
    __hash__ = object.__hash__  # hashable by identity, as before == was elementwise

    # ------------------------------------------------------------ elementwise functions
    def exp(self): return apply(ops.exp, self)
    def expm1(self): return apply(ops.expm1, self)
    def log(self): return apply(ops.log, self)
    def log1p(self): return apply(ops.log1p, self)
    def sqrt(self): return apply(ops.sqrt, self)
    def square(self): return self * self
    def abs(self): return apply(ops.abs, self)
    def __abs__(self): return self.abs()
    def sin(self): return apply(ops.sin, self)
    def cos(self): return apply(ops.cos, self)
    def tanh(self): return apply(ops.tanh, self)
    def sigmoid(self): return apply(ops.sigmoid, self)
    def relu(self): return apply(ops.relu, self)

    def leaky_relu(self, slope=0.01):
        """x where x > 0, else slope * x (PyTorch's negative_slope); the gradient at 0 is slope."""
        return apply(ops.leaky_relu, self, slope=slope)

    def gelu(self, approximate="none"):
        """GELU, x * Phi(x) (Phi the normal CDF), exact by default as PyTorch's; with
        approximate="tanh", PyTorch's tanh approximation (within 5e-4 of it)."""
        if approximate == "none":
            return apply(ops.gelu, self)
        if approximate == "tanh":
            return apply(ops.gelu_tanh, self)
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")

    def erf(self):
        """The error function, 2 / sqrt(pi) * integral of exp(-t^2) from 0 to x."""
        return apply(ops.erf, self)

    def erfc(self):
        """1 - erf(x), accurate where erf(x) is near 1 (erfc(10) = 2e-45, not 0)."""
        return apply(ops.erfc, self)

    def softplus(self):
        """log(1 + exp(x)), exact and finite for inputs of +-1000."""
        return apply(ops.logaddexp, self, lift(0.0, self, "softplus"))

    def sign(self):
        """-1, 0 or 1 per element, as a constant: its gradient is 0 wherever it exists."""
        return Tensor(np.sign(self.data))

    def clip(self, lo=None, hi=None):
        """Limit values to [lo, hi]; the gradient is passed where the input was inside.

        Bounds may be Tensors: they get gradients too, by PyTorch's clamp rules."""
        if isinstance(lo, Tensor) or isinstance(hi, Tensor):
            lo = lift(-np.inf if lo is None else lo, self, "clip")
            hi = lift(np.inf if hi is None else hi, self, "clip")
            return apply(ops.clip_tensors, self, lo, hi)
        return apply(ops.clip, self, lo=lo, hi=hi)

    def astype(self, dtype):
        """Convert to another float dtype; the gradient comes back in this tensor's dtype."""
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"astype: Tensors hold floats, so {dtype} is not allowed (for an "
                            f"integer array without a gradient use t.data.astype({dtype}))")
        return apply(ops.astype, self, dtype=dtype)

    # ------------------------------------------------------------ reductions
    def sum(self, axis=None, keepdims=False):
        return apply(ops.sum, self, axis=_axis(axis), keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        """The mean along `axis`; over no elements it is nan (no warning), as in PyTorch."""
        return apply(ops.mean, self, axis=_axis(axis), keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        """Maximum along `axis`; tied maxima share the gradient equally."""
        return apply(ops.max, self, axis=_axis(axis), keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        """Minimum along `axis`; tied minima share the gradient equally."""
        return apply(ops.min, self, axis=_axis(axis), keepdims=keepdims)

    def prod(self, axis=None, keepdims=False):
        """Product along `axis`; the gradient is exact where elements are 0 (no division)."""
        return apply(ops.prod, self, axis=_axis(axis), keepdims=keepdims)

    def logsumexp(self, axis=None, keepdims=False):
        """log(sum(exp(x))) along `axis`, computed without overflow; -inf over no elements."""
        return apply(ops.logsumexp, self, axis=_axis(axis), keepdims=keepdims)

    def argmax(self, axis=None, keepdims=False):
        """Indices of the maxima: a numpy integer array (no gradient; `.float()` as PyTorch)."""
        return _indices(self.data.argmax(axis=axis, keepdims=keepdims))

    def argmin(self, axis=None, keepdims=False):
        """Indices of the minima: a numpy integer array (no gradient; `.float()` as PyTorch)."""
        return _indices(self.data.argmin(axis=axis, keepdims=keepdims))

    def softmax(self, axis=-1): return apply(ops.softmax, self, axis=axis)
    def log_softmax(self, axis=-1): return apply(ops.log_softmax, self, axis=axis)

    def linear(self, weight, bias=None):
        """`self @ weight + bias` as one fused node; weight is (in_features, out_features)."""
        if bias is None:
            return self @ weight
        if type(weight) is not Tensor or type(bias) is not Tensor:  # (parameters: Tensors)
            weight, bias = lift(weight, self, "linear"), lift(bias, self, "linear")
        return apply(ops.linear, self, weight, bias)

    def bce_with_logits(self, target, reduction="mean"):
        """Binary cross-entropy of logits against targets in [0, 1] of the same shape.

        `reduction`: "mean" (nan for no elements, as in PyTorch), "sum" or "none" (elementwise).
        One fused primitive: finite for logits of +-1000; gradient (sigmoid - target) / n.
        """
        if reduction not in REDUCTIONS:
            raise _bad_reduction("bce_with_logits", reduction)
        target = _same_shape(self, target, "bce_with_logits")
        return apply(ops.bce_with_logits, self, target, reduction=reduction)

    def cross_entropy(self, target, reduction="mean"):
        """-sum(target * log_softmax(self)) along the last axis, per row, then reduced.

        `self` holds logits (..., classes); `target` holds probability rows of the same shape
        (one-hot for class labels). `reduction`: "mean" over rows (nan for no rows, as in
        PyTorch), "sum" or "none" (one loss per row). One fused primitive: stable for logits
        of 1e4, gradient (softmax - target) / rows. nn.functional.cross_entropy takes labels.
        """
        if self.ndim == 0:
            raise ValueError("cross_entropy: logits must have a class axis, got shape ()")
        if reduction not in REDUCTIONS:
            raise _bad_reduction("cross_entropy", reduction)
        target = _same_shape(self, target, "cross_entropy")
        return apply(ops.cross_entropy, self, target, reduction=reduction)

    # ------------------------------------------------------------ indexing
    def __getitem__(self, index):
        """numpy indexing: slices, integers, boolean masks and integer arrays.

        Repeated integer indices accumulate their gradients.
        """
        return apply(ops.getitem, self, index=_plain_index(index))

    def __setitem__(self, index, value):
        """`t[index] = value`, numpy's assignment into t's own array; recorded when gradients
        must flow through it, as the in-place operators are (`tensor_methods.in_place`): value
        gets the gradient of the places it lands on, t's untouched elements theirs."""
        index, value = _plain_index(index), lift(value, self, "setitem")
        if engine._grad_mode.enabled and (self.requires_grad or value.requires_grad):
            tensor_methods.refuse_leaf(self, "t[index] = value")
            old = tensor_methods.snapshot(self)
            tensor_methods.take_node(self, apply(ops.setitem, old, old if value is self else value,
                                                 index=index))
            return
        self.data[index] = value.data
        self.mark_modified()

    # numpy dispatch (np.exp(t): __array_ufunc__, __array_function__), t.norm and PyTorch's hints
    # come from modules built on this one: autograd/__init__.py installs them.


REDUCTIONS = ("mean", "sum", "none")


def _bad_reduction(op_name, reduction):
    return ValueError(f"{op_name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def is_a_tensor(value) -> bool:
    """isinstance(value, Tensor), but arrays, numbers and containers answered by exact type:
    Tensor's metaclass (HidesHints) makes a failed isinstance(x, Tensor) cost ~0.3 us."""
    kind = type(value)
    return kind is Tensor or (kind not in _NEVER_TENSORS and isinstance(value, Tensor))


_NEVER_TENSORS = frozenset({np.ndarray, float, int, bool, str, list, tuple, dict, type(None)})


def _plain(value):
    """A comparison's other operand: a Tensor's array, anything else as it is."""
    return value.data if is_a_tensor(value) else value


def _indices(out):
    return out.view(Indices) if type(out) is np.ndarray else out  # (a numpy int for axis=None)


def _compare(func, t, other):
    """`func(t.data, other)`, told to a watcher: a mask made from values of the computation."""
    out = func(t.data, _plain(other))
    if type(out) is np.ndarray:
        out = out.view(Mask)  # a bool array with PyTorch's .float() (autograd.masks)
    if engine.watcher is not None:
        if type(out) is Mask:
            engine.watcher.made(out, func, t, other)
        else:  # a numpy bool from one element: a Python value (`if t > 0:`)
            engine.watcher.read(t)
            if isinstance(other, Tensor):
                engine.watcher.read(other)
    return out


def _same_shape(logits, target, op_name):
    """Lift a loss target; losses never broadcast, since (n,) against (n, 1) is a silent bug."""
    target = lift(target, logits, op_name)
    if target.data.shape != logits.data.shape:
        labels = op_name == "cross_entropy" and target.shape == logits.shape[:-1]
        raise ValueError(f"{op_name}: logits shape {logits.shape} and target shape {target.shape}"
                         " differ" + ("; for class labels use autograd.cross_entropy_labels or "
                                      "nn.functional.cross_entropy" if labels else ""))
    return target


def _plain_index(index):
    """The index as numpy takes it; Tensors are refused, since they hold floats.

    A Tensor of 0s and 1s could be a boolean mask or positions, and guessing either silently
    gives a wrong result; PyTorch refuses float index tensors too. Comparisons (x > 0) return
    numpy bool arrays, which index like numpy.
    """
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    if isinstance(index, Tensor):
        raise TypeError(
            f"getitem: a Tensor (shape {index.shape}) cannot be an index, since Tensors hold "
            "floats and 0/1 values could mean a mask or positions; index with a numpy array: "
            "integer positions (idx.data.astype(int)) or a boolean mask (x > 0 gives one)")
    if isinstance(index, list):
        positions = np.asarray(index)
        if positions.size == 0:  # [] becomes a float array: as an index it selects nothing
            positions = positions.astype(np.intp)
        if engine.watcher is not None:
            engine.watcher.made(positions, np.asarray, index, positions.dtype)
        return positions
    return index


def lift(value, like, op_name):
    """Turn an operand into a Tensor; numbers, lists and ndarrays take `like`'s dtype.

    Plain data joins the tensor's computation in the tensor's dtype, so float32 stays float32
    (numpy would upcast float32 with a float64 array). Two Tensors follow numpy's promotion.
    """
    if type(value) is Tensor:  # (exact types first: isinstance(v, Tensor) costs more on a miss)
        return value
    if type(value) is np.ndarray and value.dtype is like.data.dtype:
        return constant(value)
    if isinstance(value, (float, int)):  # a Python number (a numpy float64 is one too)
        dtype = like.data.dtype
        kept = _NUMBERS_64 if dtype is _FLOAT64 else _NUMBERS_32 if dtype is _FLOAT32 else None
        if kept is not None and engine.watcher is None:
            known = kept.get(value)
            if known is not None:
                return known  # (autograd.shared_constants: one read-only Tensor per number)
        array = np.asarray(value, dtype=dtype)
        if engine.watcher is not None:  # a number, or a numpy scalar (np.float64 is a float)
            engine.watcher.made(array, np.asarray, value, array.dtype)
            return constant(array)
        if kept is not None and value and value == value and len(kept) < 256 and _share:
            array.flags.writeable = False  # shared from now on: nothing may change it
            kept[value] = known = _share(array)
            return known
        return constant(array)
    if isinstance(value, Tensor):
        return value
    if isinstance(value, np.ndarray) and value.dtype is like.data.dtype:
        return constant(value)
    if isinstance(value, (numbers.Real, np.ndarray, np.generic, list)):
        try:
            array = np.asarray(value, dtype=like.data.dtype)
        except (TypeError, ValueError):
            pass
        else:
            if engine.watcher is not None:
                engine.watcher.made(array, np.asarray, value, array.dtype)
            return constant(array)
    raise TypeError(f"{op_name}: unsupported operand type {type(value).__name__} with a Tensor")


# Python numbers lifted to float64 and float32, kept by value as one shared Tensor each (at most
# 256 per dtype), except under a watcher (told where each array comes from), 0 (-0.0 == 0.0) and
# nan. `_share(array)` makes the shared Tensor: autograd/__init__.py installs it.
_FLOAT64, _FLOAT32 = np.dtype(np.float64), np.dtype(np.float32)
_NUMBERS_64, _NUMBERS_32 = {}, {}
_share = None
_new_tensor = Tensor.__new__
_grad_mode = engine._grad_mode  # (one object for good: apply reads it without the module)


def constant(data):
    """Wrap an ndarray as a Tensor that needs no gradient, skipping __init__'s checks."""
    out = _new_tensor(Tensor)
    out.data = data
    out.grad = None
    out.requires_grad = False
    out.op = None
    out.parents = ()
    out.attrs = None
    out.name = None
    out.retains_grad = False
    out.seq = next(_creation_order)
    out.version = 0
    return out


class _NoAttributes(dict):
    """The `attrs` of every node recorded without attributes: one shared, read-only empty dict
    (a dict per node would be one more object for the cyclic garbage collector to count)."""

    __slots__ = ()

    def _refuse(self, *args, **kwargs):
        raise TypeError("a node's attrs are read-only (this node was recorded without any)")

    __setitem__ = __delitem__ = __ior__ = update = setdefault = pop = popitem = clear = _refuse

    def __copy__(self): return self
    def __deepcopy__(self, memo): return self
    def __reduce__(self): return "NO_ATTRS"  # (pickled by name: this module's NO_ATTRS)


NO_ATTRS = _NoAttributes()


def apply(op, *inputs, **attrs):
    """Run primitive `op` on Tensors and record the node if any input needs a gradient."""
    n = len(inputs)
    try:  # (unrolled for the usual cases: no list of arrays to build, no empty **attrs to pass)
        if attrs:
            data = op.forward(*[t.data for t in inputs], **attrs)
        elif n == 2:
            data = op.forward(inputs[0].data, inputs[1].data)
        elif n == 1:
            data = op.forward(inputs[0].data)
        elif n == 3:
            data = op.forward(inputs[0].data, inputs[1].data, inputs[2].data)
        else:
            data = op.forward(*[t.data for t in inputs])
    except (ValueError, IndexError) as err:
        raise op_errors.describe(op, inputs, attrs, err) from None
    if op.saves:
        data, saved = data
        attrs.update(saved)  # a fresh dict per call: safe to extend
    if type(data) is not np.ndarray:  # numpy returns scalars from 0-d operations
        data = np.asarray(data)
    # The slots are set here, not through constant(): a call and four writes fewer per node.
    out = _new_tensor(Tensor)
    out.data = data
    out.grad = None
    out.name = None
    out.retains_grad = False
    out.seq = next(_creation_order)
    out.version = 0
    if _grad_mode.enabled:
        for t in inputs:
            if t.requires_grad:
                out.requires_grad = True
                out.op = op
                out.parents = inputs
                out.attrs = attrs or NO_ATTRS  # (the empty dict goes now: one object fewer)
                if engine.watcher is not None:  # the one hook for tools (engine.Watcher)
                    engine.watcher.forward(op, inputs, attrs, out)
                return out
    out.requires_grad = False
    out.op = None
    out.parents = ()
    out.attrs = None
    if engine.watcher is not None:
        engine.watcher.forward(op, inputs, attrs, out)
    return out


def _apply_lifted(op, *args, **attrs):
    """apply() for an op called inside a VJP on Tensors (higher order): arrays become constants."""
    like = next(a for a in args if isinstance(a, Tensor))
    return apply(op, *(a if isinstance(a, Tensor) else lift(a, like, op.name) for a in args),
                 **attrs)


ops.Op.on_tensors = staticmethod(_apply_lifted)
# The modules below this one (the engine, the method mixins) import no Tensor: they apply ops
# and make Tensors through the Tensors they are handed, with these.
Tensor._apply, Tensor._lift = staticmethod(apply), staticmethod(lift)
Tensor._constant = staticmethod(constant)
