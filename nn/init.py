"""Weight initialisers, drawing from the library's default generator (autograd.random).

`manual_seed(n)` (the same as `autograd.manual_seed`) replaces the default
`numpy.random.Generator`, so every later initialisation, shuffle, dropout mask and
`autograd.rand`/`randn` not given its own `rng` becomes deterministic.
`np.random.seed(n)` does not: npgrad never draws from numpy's global generator.
Initialisers take a shape `(fan_in, fan_out)` and return a fresh ndarray; they are chosen by
name or passed as callables.
"""

from collections.abc import Callable

import numpy as np

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
