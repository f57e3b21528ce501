"""Functions made of pieces: fmax and fmin (which skip nan), remainder (x mod y) and
nan_to_num. Each gradient follows PyTorch's at the seams."""

import numpy as np

from .core import Op, reads


# fmax picks the operand that is not nan (nan only when both are). Its gradient goes to the
# operand it picked, all of it to x on ties, as PyTorch's fmax (unlike maximum, which splits
# ties): x gets g where x >= y or y is nan.
def _fmax_picks_x(x, y):
    return (x >= y) | np.isnan(y)


def _fmin_picks_x(x, y):
    return (x <= y) | np.isnan(y)


fmax = Op("fmax", np.fmax,
          lambda g, out, x, y: np.where(_fmax_picks_x(x, y), g, 0),
          "dx = g where x >= y or y is nan", reads("x", "y"),
          lambda g, out, x, y: np.where(_fmax_picks_x(x, y), 0, g),
          "dy = g where y > x or x alone is nan", reads("x", "y"))
fmin = Op("fmin", np.fmin,
          lambda g, out, x, y: np.where(_fmin_picks_x(x, y), g, 0),
          "dx = g where x <= y or y is nan", reads("x", "y"),
          lambda g, out, x, y: np.where(_fmin_picks_x(x, y), 0, g),
          "dy = g where y < x or x alone is nan", reads("x", "y"))

# x mod y = x - floor(x / y) * y (the sign of y, as numpy's and Python's %): the quotient is
# piecewise constant, so x gets g and y gets -g * floor(x / y), as PyTorch's remainder.
remainder = Op("remainder", np.remainder,
               lambda g, out, x, y: g, "dx = g", reads(),
               lambda g, out, x, y: -g * np.floor_divide(x, y), "dy = -g * floor(x / y)",
               reads("x", "y"))

# Replaced values (nan, +-inf) are constants: their gradient is 0, as PyTorch's.
nan_to_num = Op("nan_to_num",
                lambda x, nan=0.0, posinf=None, neginf=None: np.nan_to_num(
                    x, nan=nan, posinf=posinf, neginf=neginf),
                lambda g, out, x, nan=0.0, posinf=None, neginf=None: np.where(np.isfinite(x), g, 0),
                "dx = g where x is finite, else 0", reads("x"))
