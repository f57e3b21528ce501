"""Where random numbers come from: the weight initialisers and the library's default generator.

`manual_seed(n)` replaces the default `numpy.random.Generator`, so every later initialisation
and shuffle that is not given its own `rng` becomes deterministic. Initialisers take a shape
`(fan_in, fan_out)` and return a fresh ndarray; they are chosen by name or passed as callables.
"""

from collections.abc import Callable

import numpy as np

_default_rng = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the default generator used when no `rng` is given; returns the new generator."""
    global _default_rng
    _default_rng = np.random.default_rng(seed)
    return _default_rng


def get_rng(rng: np.random.Generator | None = None) -> np.random.Generator:
    """`rng` itself, or the default generator when it is None."""
    if rng is None:
        return _default_rng
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator or None, got {type(rng).__name__}")
    return rng


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
