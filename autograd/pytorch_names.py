"""PyTorch names that npgrad does not use, and what to write instead: one table, shown in errors.

`t.view(2, 3)` raises an AttributeError that says `t.reshape(2, 3)`; `t.sum(dim=1)` a TypeError
that says `axis=1`; `t.size()` one that says `t.shape`. `install(Tensor)` puts the table on
Tensor: each missing name (and each ndarray attribute Tensor lacks) as a property that raises
the AttributeError with its hint, and a thin wrapper around the methods and functions that
take `axis` (not around operators or the ops a training step runs), which turns an unexpected
PyTorch keyword into the hint. (Not a `__getattr__`: a class with one makes every attribute
read of every tensor slower, since Python can no longer specialise the lookup.) The hints stay
out of dir(), help() and tab completion (`HidesHints`, `Tensor.__dir__`).
"""

import functools

import numpy as np

# PyTorch's Tensor methods and attributes, and torch functions as autograd.<name>, -> what to
# write in npgrad. Each value is said after "write", unless it starts with "drop it".
NAMES = {
    # shapes
    "view": "t.reshape(*shape) (numpy's name)",
    "view_as": "t.reshape(other.shape)",
    "permute": "t.transpose(*axes) (numpy's name: all the axes, in their new order)",
    "expand": "t.broadcast_to(shape)",
    "expand_as": "t.broadcast_to(other.shape)",
    "contiguous": "drop it: numpy manages the memory layout",
    "t": "t.T (all axes reversed) or t.mT (the last two swapped)",
    "flip": "t[::-1] (first axis) or t[:, ::-1] (second): indexing, with its gradient",
    "chunk": "autograd.split(t, sections, axis)",
    "unbind": "[t[i] for i in range(len(t))]",
    "cat": "autograd.concatenate(tensors, axis=...)",
    "hstack": "autograd.concatenate(tensors, axis=1) (axis=0 for 1-D tensors)",
    "vstack": "autograd.concatenate(tensors, axis=0) (rows of 1-D tensors: autograd.stack)",
    "repeat": "autograd.concatenate([t] * n, axis=...) (or t.broadcast_to for new axes) for "
              "PyTorch's repeat, numpy's tile; for numpy's repeat, indexing with repeated "
              "positions, t[np.repeat(np.arange(len(t)), n)]",
    "numel": "t.size (a property: numpy's name for the number of elements)",
    "nelement": "t.size (a property: numpy's name for the number of elements)",
    "dim": "t.ndim (a property)",
    "ndimension": "t.ndim (a property)",
    # dtypes and devices
    "float": "t.astype(np.float32)",
    "double": "t.astype(np.float64)",
    "half": "t.astype(np.float32): npgrad computes in float32 or float64",
    "int": "t.data.astype(np.int64), a plain integer array (Tensors hold floats)",
    "long": "t.data.astype(np.int64), a plain integer array (Tensors hold floats)",
    "bool": "a comparison (t > 0), which gives a plain numpy bool array",
    "type": "t.dtype to read the dtype, t.astype(np.float32) to convert",
    "to": "t.astype(np.float32) for a dtype (npgrad runs on numpy, on the CPU only)",
    "cuda": "drop it: npgrad runs on numpy, on the CPU only",
    "cpu": "drop it: a Tensor's data is already a numpy array in memory",
    "tolist": "t.data.tolist() (plain numbers, no gradient)",
    # arithmetic and elementwise functions
    "add": "t + other", "sub": "t - other", "mul": "t * other", "div": "t / other", "neg": "-t",
    "pow": "t ** p", "mm": "t @ other", "bmm": "t @ other (batch axes broadcast)",
    "matmul": "t @ other (or np.matmul(t, other))",
    "outer": "np.outer(t, other)",
    "rsqrt": "1 / t.sqrt()",
    "clamp": "t.clip(lo, hi)", "clamp_min": "t.clip(lo=...)", "clamp_max": "t.clip(hi=...)",
    "amax": "t.max(axis=...) (tied maxima share the gradient, as amax's do)",
    "amin": "t.min(axis=...) (tied minima share the gradient, as amin's do)",
    "maximum": "autograd.maximum(t, other) or np.maximum(t, other)",
    "minimum": "autograd.minimum(t, other) or np.minimum(t, other)",
    "logaddexp": "autograd.logaddexp(t, other) or np.logaddexp(t, other)",
    "masked_fill": "autograd.where(mask, value, t) (a mask from a comparison, e.g. t > 0)",
    "masked_select": "t[mask] (numpy indexing with a bool array)",
    "index_select": "t[indices] or t[:, indices] (numpy indexing with an integer array)",
    "gather": "t[np.arange(len(t)), labels] (numpy indexing with integer arrays)",
    "eq": "t == other", "ne": "t != other", "lt": "t < other", "le": "t <= other",
    "gt": "t > other", "ge": "t >= other",
    # autograd
    "grad_fn": "t.op (the primitive that made t; None for a leaf) and t.parents",
    "register_hook": "t.retain_grad() before backward(), then read t.grad",
    "detach_": "t = t.detach() (a new leaf sharing the data)",
    "zero_": "t.zero_grad() or t.grad = None to forget a gradient (t.grad is a plain numpy "
             "array, so t.grad.zero_() does not exist either); to zero the values, "
             "t.data[...] = 0 then t.mark_modified()",
    "fill_": "t.data[...] = value, then t.mark_modified()",
    "new_zeros": "autograd.zeros(shape, dtype=t.dtype)",
    "new_ones": "autograd.ones(shape, dtype=t.dtype)",
    "new_full": "autograd.full(shape, value, dtype=t.dtype)",
    "new_tensor": "autograd.Tensor(data, dtype=t.dtype)",
    # torch functions
    "as_tensor": "autograd.Tensor(data) (shares memory with a float array)",
    "from_numpy": "autograd.Tensor(array) (shares memory with a float array)",
    "empty": "autograd.zeros(*shape)",
    "empty_like": "autograd.zeros_like(t)",
    "full_like": "autograd.full(t.shape, value, dtype=t.dtype)",
    "linspace": "autograd.Tensor(np.linspace(start, stop, n))",
    "randint": "rng.integers(low, high, size) with a numpy Generator (integers are data)",
    "set_grad_enabled": "autograd.no_grad() or autograd.enable_grad(), as context managers",
}

# PyTorch's keywords -> npgrad's (numpy's), for the methods and functions that take them.
KEYWORDS = {
    "dim": "axis=",
    "keepdim": "keepdims=",
    "unbiased": "ddof=1 (unbiased, PyTorch's default) or ddof=0 (numpy's and npgrad's default)",
    "correction": "ddof=",
    "negative_slope": "slope=",
    "start_dim": "start_axis=",
    "end_dim": "t.reshape(...) (flatten merges the axes from start_axis to the last)",
    "min": "lo=", "max": "hi=",
    "generator": "rng= (a numpy.random.Generator)",
    "device": "drop it: npgrad runs on numpy, on the CPU only",
    "out": "drop it and use the result: npgrad never writes into a tensor you pass",
    "size": "the shape as arguments, zeros(2, 3), or as one tuple, zeros((2, 3))",
}

# PyTorch's in-place methods (name + "_") whose name means something in npgrad: each is said as
# a rebinding. (Only these: `backward_` or `dtype_` are no PyTorch names, and get no hint.)
IN_PLACE = ("abs", "add", "clamp", "clamp_max", "clamp_min", "clip", "cos", "div", "erf", "erfc",
            "exp", "expm1", "log", "log10", "log1p", "log2", "masked_fill", "mul", "neg", "pow",
            "reciprocal", "relu", "rsqrt", "sigmoid", "sign", "sin", "sqrt", "square", "squeeze",
            "sub", "swapaxes", "t", "tanh", "transpose", "unsqueeze")

NOTES = {  # said after the hint for these methods
    "max": "t.max(axis) gives the values only; t.argmax(axis) gives PyTorch's indices",
    "min": "t.min(axis) gives the values only; t.argmin(axis) gives PyTorch's indices",
}


def _say(value: str) -> str:
    return value if value.startswith("drop it") else f"write {value}"


def hint(name: str) -> str | None:
    """What to write instead of PyTorch's `name`, or None when the table does not know it."""
    if name in NAMES:
        return _say(NAMES[name])
    base = name[:-1]
    if name.endswith("_") and base in IN_PLACE:
        new = NAMES[base] if base in NAMES else f"t.{base}(...)"
        return (f"write t = {new}, a new tensor: npgrad has no in-place methods but "
                "requires_grad_ (the operators +=, -=, *=, /= change values in place)")
    return None


def missing_attribute(kind: str, name: str, obj=None) -> AttributeError:
    """The AttributeError for `name` missing on a `kind` ("Tensor" or the module), with a hint."""
    message = f"{kind!r} object has no attribute {name!r}" if kind == "Tensor" else (
        f"module {kind!r} has no attribute {name!r}")
    known = None if name.startswith("_") else hint(name)
    if known is not None:
        message += f" (a PyTorch name): {known}"
    elif kind == "Tensor" and hasattr(np.ndarray, name) and not name.startswith("_"):
        from . import numpy_api  # (imported here: it needs Tensor, which imports this module)
        message += ": " + numpy_api.no_rule(f"ndarray.{name}", name, f"t.data.{name}")
    elif kind != "Tensor" and not name.startswith("_") and callable(
            getattr(_tensor_class, name, None)):
        message += f": it is a Tensor method, t.{name}(...) (or np.{name}(t) where numpy has it)"
    return AttributeError(message, name=name, obj=obj)


def _missing(name):
    """A property for a name Tensor does not have: reading it raises the hinted AttributeError
    (so hasattr(t, name) stays False, as for any missing attribute)."""
    def read(self):
        raise missing_attribute("Tensor", name, self)
    return property(read, doc=f"Not in npgrad: {hint(name) or 'see t.data'}")


class HidesHints(type):
    """Tensor's metaclass: `dir(Tensor)`, and so `help(Tensor)` and tab completion, leave out
    the raising properties install() adds. (Reading an attribute never passes through here.)"""

    def __dir__(cls):
        return visible(super().__dir__())


def visible(names) -> list:
    """`names` without the hints: what dir() shows of a Tensor and of its class."""
    return [n for n in names if n not in INSTALLED]


def module_getattr(name):
    """autograd's module `__getattr__` (PEP 562): torch-style names like autograd.cat."""
    raise missing_attribute("autograd", name)


class Size(int):
    """`t.size`: the number of elements, numpy's meaning (an int). Calling it, as PyTorch's
    `t.size()` is called, raises a TypeError that says to write `t.shape`."""

    __slots__ = ()

    def __call__(self, dim=None):
        wanted = "t.shape" if dim is None else f"t.shape[{dim}]"
        raise TypeError(f"t.size is numpy's size, the number of elements ({int(self)}), not a "
                        f"method: for PyTorch's t.size({'' if dim is None else dim}) write "
                        f"{wanted}")


def with_keyword_hints(function):
    """`function`, whose TypeError for a PyTorch keyword (dim=, keepdim=, ...) says what to
    write instead. Only the failed call pays: a try costs nothing while nothing is raised."""
    name = function.__qualname__

    @functools.wraps(function)
    def call(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except TypeError as err:
            torch_words = [k for k in kwargs if k in KEYWORDS]
            # tb_next is None when the call itself failed, before the function's first line.
            if not torch_words or err.__traceback__.tb_next is not None:
                raise
            fixes = "; ".join(f"for {k}= {_say(KEYWORDS[k])}" for k in torch_words)
            note = f". {NOTES[function.__name__]}" if function.__name__ in NOTES else ""
            raise TypeError(f"{name}() takes numpy's keywords, not PyTorch's: {fixes}"
                            f"{note}") from None
    return call


def refuse_torch_transpose(ndim, axes):
    """t.transpose(a, b) means a swap in PyTorch; in numpy two axes are a full permutation only
    of a matrix. Refuse the calls where the two meanings differ, instead of picking one."""
    a, b = axes
    if ndim == 2:  # (1, 0) swaps in both; numpy's own error for axes out of range or repeated
        if -2 <= a < 2 and -2 <= b < 2 and (a % 2, b % 2) == (0, 1):
            raise ValueError(f"transpose({a}, {b}) of a 2-D tensor: numpy's transpose takes all "
                             "the axes in their new order, so this leaves it unchanged, while "
                             f"PyTorch's swaps the two: write t.T, t.mT or t.swapaxes({a}, {b}) "
                             "to swap them (t.transpose() reverses the axes, as in numpy)")
        return
    raise ValueError(f"transpose({a}, {b}) of a {ndim}-D tensor: numpy's transpose takes all "
                     f"the axes ({ndim}) in their new order, PyTorch's swaps two: write "
                     f"t.swapaxes({a}, {b}) to swap them (t.mT swaps the last two)")


# The methods that take axis (or another keyword PyTorch spells differently); operators,
# linear, tanh, relu, sigmoid and the fused losses are left alone: a training step runs them.
# (norm takes PyTorch's p=, dim= and keepdim= itself.)
HINTED_METHODS = ("sum", "mean", "max", "min", "prod", "var", "std", "logsumexp",
                  "argmax", "argmin", "softmax", "log_softmax", "squeeze", "expand_dims",
                  "unsqueeze", "flatten", "swapaxes", "clip", "leaky_relu", "cumsum",
                  "cumprod", "take")
HINTED_FUNCTIONS = ("concatenate", "stack", "split")

_tensor_class = None
INSTALLED = set()  # the names install() put on Tensor as raising properties


def install(tensor_class) -> None:
    """Put the table on Tensor: a raising property per missing name, a `size` that says
    `t.size()` is `t.shape`, the keyword hints on HINTED_METHODS and HINTED_FUNCTIONS."""
    global _tensor_class
    from . import functions

    _tensor_class = tensor_class
    names = (*NAMES, *dir(np.ndarray), *(n + "_" for n in IN_PLACE))
    for name in names:
        if not name.startswith("_") and not hasattr(tensor_class, name):
            setattr(tensor_class, name, _missing(name))
            INSTALLED.add(name)
    tensor_class.size = property(lambda self: Size(self.data.size),
                                 doc="Number of elements (an int; not callable as in PyTorch).")
    for name in HINTED_METHODS:
        setattr(tensor_class, name, with_keyword_hints(getattr(tensor_class, name)))
    for name in HINTED_FUNCTIONS:
        setattr(functions, name, with_keyword_hints(getattr(functions, name)))
