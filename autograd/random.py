"""Where random numbers come from: the library's default numpy Generator.

Whatever draws random numbers without being handed its own `rng` (autograd.rand and
autograd.randn; nn's initialisers, shuffles and dropout) draws from one
`numpy.random.Generator`; `manual_seed(n)` replaces it, so that
a run becomes reproducible, as with torch.manual_seed.
"""

import numbers

import numpy as np

_default_rng = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the default generator used when no `rng` is given; returns the new generator."""
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"manual_seed: the seed must be a non-negative integer, got {seed!r}")
    global _default_rng
    _default_rng = np.random.default_rng(int(seed))
    return _default_rng


def get_rng(rng: np.random.Generator | None = None) -> np.random.Generator:
    """`rng` itself, or the default generator when it is None."""
    if rng is None:
        return _default_rng
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator or None, got {type(rng).__name__} "
                        "(np.random.default_rng(seed) makes one)")
    return rng
