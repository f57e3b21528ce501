"""Circular and hyperbolic functions, their inverses, arctan2, hypot and sinc: numpy's forward,
each gradient the closed-form derivative.

Derivatives with a pole at a domain edge (arcsin at +-1, arccosh at 1, arctanh at +-1) give
+-inf there, as the limit does; factored forms such as (1 - x)(1 + x) keep digits near the
edge and never overflow where x * x would.
"""

import numpy as np

from .core import Op, reads

tan = Op("tan", np.tan, lambda g, out, x: g * (out * out + 1), "dx = g * (1 + out^2)",
         reads("out"))
sinh = Op("sinh", np.sinh, lambda g, out, x: g * np.cosh(x), "dx = g * cosh(x)", reads("x"))
cosh = Op("cosh", np.cosh, lambda g, out, x: g * np.sinh(x), "dx = g * sinh(x)", reads("x"))
arcsin = Op("arcsin", np.arcsin, lambda g, out, x: g / np.sqrt((1 - x) * (1 + x)),
            "dx = g / sqrt(1 - x^2)", reads("x"))
arccos = Op("arccos", np.arccos, lambda g, out, x: -g / np.sqrt((1 - x) * (1 + x)),
            "dx = -g / sqrt(1 - x^2)", reads("x"))
# 1 + x^2 as hypot(x, 1)^2, divided twice: x * x would overflow for |x| > 1e154
arctan = Op("arctan", np.arctan, lambda g, out, x: g / np.hypot(x, 1) / np.hypot(x, 1),
            "dx = g / (1 + x^2)", reads("x"))
# hypot(x, 1) = sqrt(x^2 + 1) without overflow for huge x
arcsinh = Op("arcsinh", np.arcsinh, lambda g, out, x: g / np.hypot(x, 1),
             "dx = g / sqrt(x^2 + 1)", reads("x"))
arccosh = Op("arccosh", np.arccosh, lambda g, out, x: g / (np.sqrt(x - 1) * np.sqrt(x + 1)),
             "dx = g / sqrt(x^2 - 1)", reads("x"))
arctanh = Op("arctanh", np.arctanh, lambda g, out, x: g / ((1 - x) * (1 + x)),
             "dx = g / (1 - x^2)", reads("x"))


# arctan2(y, x) is the angle of the point (x, y): its gradient is (-y, x) / r^2 with
# r = hypot(x, y), divided by r twice so that r^2 cannot overflow. Undefined (nan) at the
# origin, as PyTorch's.
def _radius(y, x):
    return np.hypot(x, y)


arctan2 = Op("arctan2", np.arctan2,
             lambda g, out, y, x: g * (x / _radius(y, x)) / _radius(y, x),
             "dy = g * x / (x^2 + y^2)", reads("y", "x"),
             lambda g, out, y, x: -g * (y / _radius(y, x)) / _radius(y, x),
             "dx = -g * y / (x^2 + y^2)", reads("y", "x"))


# hypot is the 2-norm of (x, y): at the origin its gradient is 0, the norm's subgradient
# (npgrad's norm gives the same; PyTorch's hypot gives nan there).
def _over(x, out):
    return x / np.where(out == 0, 1, out)


hypot = Op("hypot", np.hypot,
           lambda g, out, x, y: g * _over(x, out), "dx = g * x / out (0 at the origin)",
           reads("out", "x"),
           lambda g, out, x, y: g * _over(y, out), "dy = g * y / out (0 at the origin)",
           reads("out", "y"))

# sinc(x) = sin(pi x) / (pi x). Its slope (cos(pi x) - sinc(x)) / x loses digits to
# cancellation near 0 and is 0 / 0 at 0, so below |x| = 0.1 it is the Taylor series
#     sinc'(x) = sum_k>=1 (-1)^k 2k pi^2k x^(2k-1) / (2k+1)!
# (9 terms: the next is below 1e-20 of the first). Both branches are written with operations
# that Tensors record, so second derivatives are exact at 0 too; the branch `where` discards
# is computed at a harmless point, so no 0 * inf reaches a higher derivative.
_NEAR = 0.1
_SERIES = [(-1) ** k * 2 * k * np.pi ** (2 * k) / np.prod(np.arange(1.0, 2 * k + 2))
           for k in range(1, 10)]


def _sinc_slope(x):
    near = abs(x) < _NEAR  # a bool array, also for a Tensor x
    far = np.where(near, 1, x)
    closed = (np.cos(far * np.pi) - np.sinc(far)) / far
    x2 = np.where(near, x, 0) ** 2
    series = _SERIES[-1]
    for c in _SERIES[-2::-1]:
        series = series * x2 + c
    return np.where(near, series * np.where(near, x, 0), closed)


sinc = Op("sinc", np.sinc, lambda g, out, x: g * _sinc_slope(x),
          "dx = g * (cos(pi x) - sinc(x)) / x (its Taylor series near 0)", reads("x"))
