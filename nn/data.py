"""Mini-batches: split paired arrays (X, y) into batches along their first axis.

Shuffling draws from `rng`, or from the library's default generator (see `nn.manual_seed`).
"""

import numbers
from collections.abc import Iterator

import numpy as np

from .init import get_rng


def batches(X, y, batch_size: int, shuffle: bool = True,
            rng: np.random.Generator | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (X_batch, y_batch) numpy arrays of `batch_size` rows; the last may be smaller.

    Arguments are checked at the call, not at the first `next()`.
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError(f"batches: X and y need a first (sample) axis, got shapes {X.shape} "
                         f"and {y.shape}")
    if len(X) != len(y):
        raise ValueError(f"batches: X and y hold different numbers of samples: X has shape "
                         f"{X.shape}, y has shape {y.shape}")
    if (not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool)
            or batch_size < 1):
        raise ValueError(f"batches: batch_size must be a positive integer, got {batch_size!r}")
    order = get_rng(rng).permutation(len(X)) if shuffle else None
    return _batches(X, y, int(batch_size), order)


def _batches(X, y, size, order):
    for start in range(0, len(X), size):
        if order is None:  # slices are views: no copy
            yield X[start:start + size], y[start:start + size]
        else:
            index = order[start:start + size]
            yield X[index], y[index]
