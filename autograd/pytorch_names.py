"""PyTorch's names and keywords: accepted where the meaning is numpy's, explained where not.

`t.sum(dim=1, keepdim=True)` runs as `t.sum(axis=1, keepdims=True)` (SAME_KEYWORDS), and
`t.max(dim=1)` gives PyTorch's (values, indices); `t.expand(2, 3)` raises an AttributeError
that says `t.broadcast_to(shape)`, `t.var(unbiased=False)` a TypeError that says `ddof=`.
`install(Tensor)` puts the table on Tensor: each missing name (and each ndarray attribute
Tensor lacks) as a property that raises the AttributeError with its hint, and a thin wrapper
around the methods and functions that take `axis` (not around operators or the ops a training
step runs), which renames a PyTorch keyword or explains it. (Not a `__getattr__`: a class with
one makes every attribute read of every tensor slower, since Python can no longer specialise
the lookup.) The hints stay out of dir(), help() and tab completion (`HidesHints`,
`Tensor.__dir__`).
"""
import functools

import numpy as np

# PyTorch's Tensor methods and attributes, and torch functions as autograd.<name>, -> what to
# write in npgrad. Each value is said after "write", unless it starts with "drop it".
NAMES = {
    # shapes
    "expand": "t.broadcast_to(shape)",
    "expand_as": "t.broadcast_to(other.shape)",
    "contiguous": "drop it: numpy manages the memory layout",
    "t": "t.T (all axes reversed) or t.mT (the last two swapped)",
    "flip": "t[::-1] (first axis) or t[:, ::-1] (second): indexing, with its gradient",
    "unbind": "[t[i] for i in range(len(t))]",
    "hstack": "autograd.concatenate(tensors, axis=1) (axis=0 for 1-D tensors)",
    "vstack": "autograd.concatenate(tensors, axis=0) (rows of 1-D tensors: autograd.stack)",
    "repeat": "autograd.concatenate([t] * n, axis=...) (or t.broadcast_to for new axes) for "
              "PyTorch's repeat, numpy's tile; for numpy's repeat, indexing with repeated "
              "positions, t[np.repeat(np.arange(len(t)), n)]",
    "nelement": "t.size (a property: numpy's name for the number of elements)",
    "ndimension": "t.ndim (a property)",
    # dtypes and devices
    "half": "t.astype(np.float32): npgrad computes in float32 or float64",
    "int": "t.data.astype(np.int64), a plain integer array (Tensors hold floats)",
    "long": "t.data.astype(np.int64), a plain integer array (Tensors hold floats)",
    "bool": "a comparison (t > 0), which gives a plain numpy bool array",
    "type": "t.dtype to read the dtype, t.astype(np.float32) to convert",
    "cuda": "drop it: npgrad runs on numpy, on the CPU only",
    # arithmetic and elementwise functions
    "add": "t + other", "sub": "t - other", "mul": "t * other", "div": "t / other", "neg": "-t",
    "pow": "t ** p", "mm": "t @ other", "bmm": "t @ other (batch axes broadcast)",
    "matmul": "t @ other (or np.matmul(t, other))",
    "outer": "np.outer(t, other)",
    "rsqrt": "1 / t.sqrt()",
    "amax": "t.max(axis=...) (tied maxima share the gradient, as amax's do)",
    "amin": "t.min(axis=...) (tied minima share the gradient, as amin's do)",
    "maximum": "autograd.maximum(t, other) or np.maximum(t, other)",
    "minimum": "autograd.minimum(t, other) or np.minimum(t, other)",
    "logaddexp": "autograd.logaddexp(t, other) or np.logaddexp(t, other)",
    "masked_select": "t[mask] (numpy indexing with a bool array)",
    "index_select": "t[indices] or t[:, indices] (numpy indexing with an integer array)",
    "gather": "t[np.arange(len(t)), labels] (numpy indexing with integer arrays)",
    "eq": "t == other", "ne": "t != other", "lt": "t < other", "le": "t <= other",
    "gt": "t > other", "ge": "t >= other",
    # autograd
    "grad_fn": "t.op (the primitive that made t; None for a leaf) and t.parents",
    "register_hook": "t.retain_grad() before backward(), then read t.grad",
    "detach_": "t = t.detach() (a new leaf sharing the data)",
    "fill_": "t.data[...] = value, then t.mark_modified()",
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

# PyTorch's keywords whose meaning is numpy's: accepted, as numpy's word (t.sum(dim=1) is
# t.sum(axis=1)). Not for autograd.split: numpy's split(t, 2) makes 2 pieces, PyTorch's pieces
# of 2, so there dim= raises instead of picking one.
SAME_KEYWORDS = {"dim": "axis", "keepdim": "keepdims", "start_dim": "start_axis",
                 "end_dim": "end_axis", "negative_slope": "slope", "correction": "ddof",
                 "min": "lo", "max": "hi"}
DIFFERENT_MEANING = {"split": "autograd.split is numpy's split (n equal pieces, or at indices); "
                              "for PyTorch's split(size, dim) write t.split(size, axis), the "
                              "Tensor method"}

# PyTorch's keywords that mean something else here -> what to write.
KEYWORDS = {
    "unbiased": "ddof=1 (unbiased, PyTorch's default) or ddof=0 (numpy's and npgrad's default)",
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
        message += ": " + _handed["no_rule"](f"ndarray.{name}", name, f"t.data.{name}")
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
    """`t.size`: the number of elements, numpy's meaning (an int). Called, as PyTorch's
    `t.size()` is, it gives the shape (a tuple), and `t.size(d)` the length of axis d."""

    def __call__(self, dim=None):
        return self.shape if dim is None else self.shape[dim]


def with_keyword_hints(function):
    """`function`, accepting PyTorch's keywords of SAME_KEYWORDS as numpy's, and with a
    TypeError that says what to write for the others. Only a call with a PyTorch keyword pays:
    it fails first (a try costs nothing while nothing is raised), then runs renamed.
    `t.max(dim=1)` and `t.min(dim=1)` give PyTorch's (values, indices) pair."""
    @functools.wraps(function)
    def call(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except TypeError as err:
            # tb_next is None when the call itself failed, before the function's first line.
            if err.__traceback__.tb_next is not None or not any(
                    k in SAME_KEYWORDS or k in KEYWORDS for k in kwargs):
                raise
        return _with_numpys_keywords(function, args, kwargs)
    return call


def _with_numpys_keywords(function, args, kwargs):
    name = function.__qualname__
    if "." in name:  # a method of Tensor or of one of its mixins
        name = f"Tensor.{function.__name__}"
    different = DIFFERENT_MEANING.get(name)
    renamed, said = {}, {}
    for key, value in kwargs.items():
        new = key if different else SAME_KEYWORDS.get(key, key)
        if new in renamed:
            raise TypeError(f"{name}() got {said[new]}= and {key}=, the same argument twice "
                            "(PyTorch's and numpy's word): pass one")
        renamed[new], said[new] = value, key
    error = ""
    if "dim" in kwargs and function.__name__ in ("max", "min") and len(args) == 1 and set(
            renamed) <= {"axis", "keepdims"}:
        return _handed["paired"](args[0], function.__name__, renamed["axis"],
                                 renamed.get("keepdims", False))
    if different is None and not any(k in KEYWORDS for k in kwargs):
        try:
            result = function(*args, **renamed)
        except TypeError as err:
            # raised by the call itself, and about a word we renamed: say what happened
            if err.__traceback__.tb_next is not None or not any(
                    f"'{SAME_KEYWORDS[k]}'" in str(err) for k in kwargs if k in SAME_KEYWORDS):
                raise
            error = str(err)
            if "unexpected keyword" not in error:  # e.g. t.sum(1, dim=1): axis given twice
                renames = ", ".join(f"{k}= as {SAME_KEYWORDS[k]}=" for k in kwargs
                                    if k in SAME_KEYWORDS)
                raise TypeError(f"{error} (PyTorch's {renames})") from None
        else:
            return result
    if different is not None:
        raise TypeError(f"{name}() got {', '.join(k + '=' for k in kwargs)}: {different}")
    fixes = "; ".join(f"for {k}= {_say(KEYWORDS[k])}" if k in KEYWORDS else
                      f"{k}= is {SAME_KEYWORDS[k]}=, which {name}() does not take either"
                      for k in kwargs if k in KEYWORDS or k in SAME_KEYWORDS and
                      f"'{SAME_KEYWORDS[k]}'" in error)
    raise TypeError(f"{name}() does not take PyTorch's keywords here: {fixes}") from None


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
                  "cumprod", "take", "split", "chunk")
HINTED_FUNCTIONS = ("concatenate", "stack", "split")

_tensor_class = None
INSTALLED = set()  # the names install() put on Tensor as raising properties
# What install() is handed from the modules built on this one (numpy_api.no_rule,
# tensor_methods.paired): this module sits below Tensor, so it imports none of them.
_handed = {}


def _size(t):
    size = Size(t.data.size)
    size.shape = t.data.shape
    return size


def install(tensor_class, functions, no_rule, paired) -> None:
    """Put the table on Tensor: a raising property per missing name, a `size` that says
    `t.size()` is `t.shape`, the keyword hints on HINTED_METHODS and on HINTED_FUNCTIONS of
    the module `functions`. Called by autograd/__init__.py, once every module is loaded;
    `no_rule` and `paired` are numpy_api's and tensor_methods' (see `_handed`)."""
    global _tensor_class
    _tensor_class = tensor_class
    _handed.update(no_rule=no_rule, paired=paired)
    names = (*NAMES, *dir(np.ndarray), *(n + "_" for n in IN_PLACE))
    for name in names:
        if not name.startswith("_") and not hasattr(tensor_class, name):
            setattr(tensor_class, name, _missing(name))
            INSTALLED.add(name)
    tensor_class.size = property(_size, doc="Number of elements (an int, numpy's meaning); "
                                            "t.size() is the shape and t.size(d) its d-th "
                                            "entry, as in PyTorch.")
    for name in HINTED_METHODS:
        setattr(tensor_class, name, with_keyword_hints(getattr(tensor_class, name)))
    for name in HINTED_FUNCTIONS:
        setattr(functions, name, with_keyword_hints(getattr(functions, name)))
