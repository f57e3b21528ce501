"""Tensors made from a shape, for PyTorch hands: zeros, ones, full, zeros_like, ones_like,
arange, eye, rand, randn; and from data, `tensor` (a copy); `inference_mode`, PyTorch's no_grad.

Each takes `dtype=` (np.float32 or np.float64, default float64: Tensors hold floats, so arange
gives floats too) and `requires_grad=`. A shape is given as PyTorch does, `zeros(2, 3)`, or as
numpy does, `zeros((2, 3))`. rand and randn draw from `rng=` or from the default generator
that `autograd.manual_seed` reseeds; a float32 draw is the float64 draw rounded.
"""

import contextlib
import numbers

import numpy as np

from . import engine
from .pytorch_names import with_keyword_hints
from .random import get_rng
from .tensor import Tensor

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _dtype(dtype, name: str) -> np.dtype:
    try:
        numpy_dtype = np.dtype(dtype)
    except TypeError:  # not a numpy dtype at all, e.g. torch.float32
        numpy_dtype = np.dtype(object)  # (not None: numpy's dtypes compare None as float64)
    if numpy_dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name}: dtype must be np.float32 or np.float64 (Tensors hold floats), "
                        f"got {dtype}")
    return numpy_dtype


def _shape(shape: tuple, name: str) -> tuple:
    """`(2, 3)` from zeros(2, 3) or zeros((2, 3)); every size a non-negative integer."""
    if not shape:
        raise TypeError(f"{name}: give a shape, {name}(2, 3) or {name}((2, 3)); {name}(()) "
                        "makes a 0-d tensor")
    if len(shape) == 1 and not isinstance(shape[0], numbers.Integral):
        shape = shape[0]
    shape = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
    for n in shape:
        if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 0:
            raise ValueError(f"{name}: sizes must be non-negative integers, got shape {shape}")
    return tuple(int(n) for n in shape)


def _tensor(array: np.ndarray, requires_grad: bool) -> Tensor:
    return Tensor(array).requires_grad_(requires_grad)  # a fresh array: no copy needed


def _made(array: np.ndarray, func, *args) -> np.ndarray:
    """array = func(*args), told to a recording watcher: made from Python numbers alone, a
    compiled step replays it as the constant it is; made from a generator (rand, randn), it
    refuses it (a replay would reuse the draws) rather than freeze it as numpy code's."""
    if engine.watcher is not None:
        engine.watcher.made(array, func, *args)
    return array


@with_keyword_hints
def zeros(*shape, dtype=np.float64, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: zeros(2, 3) or zeros((2, 3))."""
    shape, dtype = _shape(shape, "zeros"), _dtype(dtype, "zeros")
    return _tensor(_made(np.zeros(shape, dtype), np.zeros, shape, dtype), requires_grad)


@with_keyword_hints
def ones(*shape, dtype=np.float64, requires_grad: bool = False) -> Tensor:
    """A tensor of ones: ones(2, 3) or ones((2, 3))."""
    shape, dtype = _shape(shape, "ones"), _dtype(dtype, "ones")
    return _tensor(_made(np.ones(shape, dtype), np.ones, shape, dtype), requires_grad)


@with_keyword_hints
def full(shape, fill_value: float, dtype=np.float64, requires_grad: bool = False) -> Tensor:
    """A tensor of `shape` (an int or a tuple) holding `fill_value` everywhere."""
    return _tensor(np.full(_shape((shape,), "full"), fill_value, _dtype(dtype, "full")),
                   requires_grad)


def _like(t, dtype, name):
    data = t.data if isinstance(t, Tensor) else np.asarray(t)
    if dtype is None:
        dtype = data.dtype if data.dtype in FLOAT_DTYPES else np.float64
    return data.shape, _dtype(dtype, name)


@with_keyword_hints
def zeros_like(t, dtype=None, requires_grad: bool = False) -> Tensor:
    """Zeros with t's shape and float dtype (float64 for other arrays); no graph, as in PyTorch
    (requires_grad is not copied from t)."""
    shape, dtype = _like(t, dtype, "zeros_like")
    return _tensor(_made(np.zeros(shape, dtype), np.zeros, shape, dtype), requires_grad)


@with_keyword_hints
def ones_like(t, dtype=None, requires_grad: bool = False) -> Tensor:
    """Ones with t's shape and float dtype (float64 for other arrays)."""
    shape, dtype = _like(t, dtype, "ones_like")
    return _tensor(_made(np.ones(shape, dtype), np.ones, shape, dtype), requires_grad)


@with_keyword_hints
def arange(start: float, stop: float | None = None, step: float = 1, dtype=np.float64,
           requires_grad: bool = False) -> Tensor:
    """Evenly spaced values in [start, stop), like np.arange, as floats (PyTorch's arange(5)
    gives integers; for integer data use np.arange)."""
    if step == 0:
        raise ValueError("arange: step must not be 0")
    return _tensor(np.arange(start, stop, step, dtype=_dtype(dtype, "arange")), requires_grad)


@with_keyword_hints
def eye(n: int, m: int | None = None, dtype=np.float64, requires_grad: bool = False) -> Tensor:
    """The n x m identity matrix (m = n by default)."""
    shape = _shape((n,) if m is None else (n, m), "eye")
    return _tensor(np.eye(*shape, dtype=_dtype(dtype, "eye")), requires_grad)


@with_keyword_hints
def rand(*shape, rng: np.random.Generator | None = None, dtype=np.float64,
         requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1): rand(2, 3) or rand((2, 3))."""
    shape, dtype, rng = _shape(shape, "rand"), _dtype(dtype, "rand"), get_rng(rng)
    draws = rng.random(shape).astype(dtype, copy=False)
    return _tensor(_made(draws, np.random.Generator.random, rng, shape), requires_grad)


@with_keyword_hints
def randn(*shape, rng: np.random.Generator | None = None, dtype=np.float64,
          requires_grad: bool = False) -> Tensor:
    """Standard normal samples: randn(2, 3) or randn((2, 3))."""
    shape, dtype, rng = _shape(shape, "randn"), _dtype(dtype, "randn"), get_rng(rng)
    draws = rng.standard_normal(shape).astype(dtype, copy=False)
    return _tensor(_made(draws, np.random.Generator.standard_normal, rng, shape), requires_grad)


@with_keyword_hints
def tensor(data, dtype=None, requires_grad: bool = False) -> Tensor:
    """A new leaf holding a copy of `data` (PyTorch's torch.tensor): numbers, lists, arrays
    and Tensors (their values, without the graph); integers and bools become float64."""
    if isinstance(data, Tensor):
        data = data.data
    dtype = None if dtype is None else _dtype(dtype, "tensor")
    return Tensor(np.array(data, dtype=dtype, copy=True), requires_grad=requires_grad)


# Tensor's new_zeros and new_ones: defined here, beside zeros and ones, and installed on Tensor
# by autograd/__init__.py (tensor.py sits below this module).
def new_zeros(self, *shape, requires_grad=False):
    """Zeros of `shape` in this tensor's dtype."""
    return zeros(*shape, dtype=self.dtype, requires_grad=requires_grad)


def new_ones(self, *shape, requires_grad=False):
    """Ones of `shape` in this tensor's dtype."""
    return ones(*shape, dtype=self.dtype, requires_grad=requires_grad)


class inference_mode(contextlib.ContextDecorator):
    """PyTorch's inference_mode, a context manager and decorator: npgrad's no_grad() (nothing
    is recorded inside); `inference_mode(False)` leaves grad mode as it is."""

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)

    def __enter__(self):
        self._inner = engine.no_grad() if self.mode else contextlib.nullcontext()
        return self._inner.__enter__()

    def __exit__(self, *exc):
        return self._inner.__exit__(*exc)

    def _recreate_cm(self):
        return type(self)(self.mode)  # a fresh one per decorated call: nested calls keep theirs
