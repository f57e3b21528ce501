"""Logarithms and exponentials in bases 2 and 10, and the cube root: numpy's forward (exactly
its values), each gradient the closed-form derivative."""

import math

import numpy as np

from .core import Op, reads

_LN2, _LN10 = math.log(2), math.log(10)

log2 = Op("log2", np.log2, lambda g, out, x: g / (x * _LN2), "dx = g / (x ln 2)", reads("x"))
log10 = Op("log10", np.log10, lambda g, out, x: g / (x * _LN10), "dx = g / (x ln 10)",
           reads("x"))
exp2 = Op("exp2", np.exp2, lambda g, out, x: g * out * _LN2, "dx = g * out * ln 2",
          reads("out"))
# log2(2^x + 2^y) without overflow; its gradients are the weights 2^x / (2^x + 2^y), as
# logaddexp's are with base e.
logaddexp2 = Op("logaddexp2", np.logaddexp2,
                lambda g, out, x, y: g * np.exp2(x - out), "dx = g * 2^(x - out)",
                reads("out", "x"),
                lambda g, out, x, y: g * np.exp2(y - out), "dy = g * 2^(y - out)",
                reads("out", "y"))
# The cube root is defined for negative x too; its slope is +inf at 0, as the limit.
cbrt = Op("cbrt", np.cbrt, lambda g, out, x: g / (out * out * 3), "dx = g / (3 out^2)",
          reads("out"))
