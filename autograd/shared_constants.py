"""Python numbers in a computation: one read-only constant Tensor per number and dtype.

`y * 1.0001` lifts 1.0001 into a Tensor. Keeping one Tensor per value (and dtype), made by
`lift` the first time and shared by every operation that uses the number, spares one Tensor per
node: one object fewer for Python's cyclic garbage collector to walk at each of its collections
while a long graph grows (most of a 100,000-node chain's time). Shared, it must never change:
every way to change a tensor refuses on it, with the same error (its array is read-only too).
Graph drawings show each use as its own node, as before (graph.recorded_parents).
"""

import numpy as np

from . import tensor
from .tensor import Tensor

_SLOTS = ("data", "grad", "requires_grad", "op", "parents", "attrs", "name", "retains_grad",
          "seq", "version")
_SETTERS = {name: Tensor.__dict__[name].__set__ for name in _SLOTS}


def _refused(t, what):
    return RuntimeError(
        f"{what}: this tensor is the Python number {t.data.item()!r} lifted into an operation "
        f"({t.data.dtype}), one constant shared by every operation that uses the number, so it "
        "never changes; make a tensor of your own to change (Tensor(value))")


class SharedNumber(Tensor):
    """A Python number lifted into a computation, shared by every use: read-only."""

    __slots__ = ()

    # Refused here, not by read-only properties: reading a slot stays as fast as a Tensor's
    # (apply and backward read .data, .version and .requires_grad of every input).
    def __setattr__(self, name, value):
        raise _refused(self, f"setting .{name}")

    def __delattr__(self, name):
        raise _refused(self, f"deleting .{name}")

    def _refuse(self, *args, **kwargs):
        raise _refused(self, "changing it in place")

    __iadd__ = __isub__ = __imul__ = __itruediv__ = __setitem__ = _refuse
    mark_modified = requires_grad_ = retain_grad = zero_ = _refuse

    def zero_grad(self):
        pass  # it never has a gradient: nothing to forget

    def stand_in(self):
        """A private constant Tensor like this one: how graph drawings show one of its uses."""
        own = tensor.constant(self.data)
        own.seq = self.seq
        return own

    # Copies are the same number: the shared Tensor itself (a graph's deepcopy, pickling).
    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        return _number, (self.data.item(), self.data.dtype.str)


def make(array: np.ndarray) -> SharedNumber:
    """The shared constant of a read-only 0-d `array` (tensor.lift keeps it by value)."""
    out = tensor._new_tensor(SharedNumber)
    for name, value in (("data", array), ("grad", None), ("requires_grad", False), ("op", None),
                        ("parents", ()), ("attrs", None), ("name", None),
                        ("retains_grad", False), ("seq", next(tensor._creation_order)),
                        ("version", 0)):
        _SETTERS[name](out, value)
    return out


def install():
    """Make `tensor.lift` share one SharedNumber per number (autograd/__init__.py calls this)."""
    tensor._share = make


def _number(value, dtype):
    """Unpickling: the shared constant of `value` in `dtype` (a fresh one past the cache)."""
    one = Tensor(np.zeros((), dtype))
    return tensor.lift(value, one, "unpickle")
