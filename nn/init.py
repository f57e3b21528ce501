"""Weight initialisers, drawing from the library's default generator (autograd.random).

`manual_seed(n)` (the same as `autograd.manual_seed`) replaces the default
`numpy.random.Generator`, so every later initialisation, shuffle, dropout mask and
`autograd.rand`/`randn` not given its own `rng` becomes deterministic.
`np.random.seed(n)` does not: npgrad never draws from numpy's global generator.
Initialisers take a shape `(fan_in, fan_out)` and return a fresh ndarray; they are chosen by
name or passed as callables. PyTorch's in-place initialisers (`xavier_uniform_(tensor)`,
`kaiming_normal_`, `zeros_`, ... and `calculate_gain`) fill a Tensor's array instead.
"""

import math
import numbers
from collections.abc import Callable

import numpy as np

from autograd import Tensor
from autograd import random as _random
from autograd.random import get_rng  # noqa: F401  (nn.init.get_rng)


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed npgrad's default generator (initialisation, shuffling, dropout); returns it.

    The same as `autograd.manual_seed`. `np.random.seed(seed)` does not make `nn` reproducible:
    npgrad draws from its own generator, never from numpy's global one.
    """
    return _random.manual_seed(seed)


def xavier_uniform(shape: tuple[int, int], rng: np.random.Generator | None = None) -> np.ndarray:
    """Glorot & Bengio (2010): U(-a, a) with a = sqrt(6 / (fan_in + fan_out)); for tanh, sigmoid."""
    limit = np.sqrt(6.0 / (shape[0] + shape[1]))
    return get_rng(rng).uniform(-limit, limit, size=shape)


def xavier_normal(shape: tuple[int, int], rng: np.random.Generator | None = None) -> np.ndarray:
    """Glorot & Bengio (2010): N(0, std^2) with std = sqrt(2 / (fan_in + fan_out))."""
    std = np.sqrt(2.0 / (shape[0] + shape[1]))
    return get_rng(rng).normal(0.0, std, size=shape)


def he_uniform(shape: tuple[int, int], rng: np.random.Generator | None = None) -> np.ndarray:
    """He et al. (2015): U(-a, a) with a = sqrt(6 / fan_in); for relu."""
    limit = np.sqrt(6.0 / shape[0])
    return get_rng(rng).uniform(-limit, limit, size=shape)


def he_normal(shape: tuple[int, int], rng: np.random.Generator | None = None) -> np.ndarray:
    """He et al. (2015): N(0, std^2) with std = sqrt(2 / fan_in); for relu."""
    std = np.sqrt(2.0 / shape[0])
    return get_rng(rng).normal(0.0, std, size=shape)


INITIALIZERS = {
    "xavier_uniform": xavier_uniform,
    "xavier_normal": xavier_normal,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
}

Initializer = Callable[[tuple[int, int], np.random.Generator], np.ndarray]


def get_initializer(init: str | Initializer) -> Initializer:
    """The initialiser called `init`, or `init` itself when it is callable."""
    if callable(init):
        return init
    if init not in INITIALIZERS:
        valid = ", ".join(repr(name) for name in INITIALIZERS)
        raise ValueError(f"unknown init {init!r}; valid names: {valid} (or pass a callable)")
    return INITIALIZERS[init]


# ---------------------------------------------------------------- PyTorch's in-place names
def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain PyTorch recommends for an activation: 1 for linear and sigmoid, 5/3 for tanh,
    sqrt(2) for relu, sqrt(2 / (1 + slope^2)) for leaky_relu (slope `param`, 0.01 by
    default), 3/4 for selu."""
    ones = ("linear", "identity", "sigmoid", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
            "conv_transpose2d", "conv_transpose3d")
    if nonlinearity in ones:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "selu":
        return 3.0 / 4
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if not isinstance(slope, numbers.Real) or isinstance(slope, bool):
            raise ValueError(f"calculate_gain: negative_slope {slope!r} is not a number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _fans(tensor, where: str) -> tuple[int, int]:
    """(fan_in, fan_out) in npgrad's layouts: a 2-D weight is (in, out), as Linear stores it
    (PyTorch's (out, in) transposed); 3-D and up are (out, in, *kernel), as in PyTorch."""
    shape = np.shape(tensor.data if isinstance(tensor, Tensor) else tensor)
    if len(shape) < 2:
        raise ValueError(f"{where}: fan in and fan out need a tensor of 2 or more dimensions, "
                         f"got shape {shape}")
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _fill(tensor, values: np.ndarray):
    """Write `values` into the tensor's array in place (no graph is recorded); returns it."""
    if isinstance(tensor, Tensor):
        tensor.data[...] = values
        tensor.mark_modified()  # a graph built before holds the old values
    elif isinstance(tensor, np.ndarray):
        tensor[...] = values
    else:
        raise TypeError(f"nn.init: expected a Tensor, got {type(tensor).__name__}")
    return tensor


def _shape(tensor) -> tuple:
    return np.shape(tensor.data if isinstance(tensor, Tensor) else tensor)


def uniform_(tensor, a: float = 0.0, b: float = 1.0, generator=None):
    """Fill with U(a, b) draws, in place; returns the tensor."""
    return _fill(tensor, get_rng(generator).uniform(a, b, size=_shape(tensor)))


def normal_(tensor, mean: float = 0.0, std: float = 1.0, generator=None):
    """Fill with N(mean, std^2) draws, in place; returns the tensor."""
    return _fill(tensor, get_rng(generator).normal(mean, std, size=_shape(tensor)))


def constant_(tensor, val: float):
    """Fill with `val`, in place; returns the tensor."""
    return _fill(tensor, val)


def zeros_(tensor):
    """Fill with 0, in place; returns the tensor."""
    return _fill(tensor, 0.0)


def ones_(tensor):
    """Fill with 1, in place; returns the tensor."""
    return _fill(tensor, 1.0)


def xavier_uniform_(tensor, gain: float = 1.0, generator=None):
    """U(-a, a), a = gain sqrt(6 / (fan_in + fan_out)), in place; returns the tensor."""
    fan_in, fan_out = _fans(tensor, "xavier_uniform_")
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain: float = 1.0, generator=None):
    """N(0, std^2), std = gain sqrt(2 / (fan_in + fan_out)), in place; returns the tensor."""
    fan_in, fan_out = _fans(tensor, "xavier_normal_")
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _kaiming_std(tensor, a, mode: str, nonlinearity: str, where: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{where}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(tensor, where)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None):
    """He et al. (2015): U(-b, b), b = gain sqrt(3 / fan) (fan_in or fan_out by `mode`; gain
    from `nonlinearity`, with slope `a` for leaky_relu), in place; returns the tensor."""
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_uniform_")
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator=None):
    """He et al. (2015): N(0, std^2), std = gain / sqrt(fan), in place; returns the tensor."""
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_normal_"),
                   generator)
