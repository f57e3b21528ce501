"""Elementwise functions of one tensor: each gradient is g times the local derivative.

Where a rule zeroes the gradient (relu below 0, clip outside its bounds, abs at 0) it selects 0
with np.where instead of multiplying by a 0/1 mask: an infinite g (sqrt's at 0) times 0 is nan.
"""

import math

import numpy as np

from . import special
from .core import Op, reads, select, times

exp = Op("exp", np.exp, lambda g, out, x: g * out, "dx = g * out", reads("out"))
expm1 = Op("expm1", np.expm1, lambda g, out, x: g * (out + 1), "dx = g * (out + 1)", reads("out"))
log = Op("log", np.log, lambda g, out, x: g / x, "dx = g / x", reads("x"))
log1p = Op("log1p", np.log1p, lambda g, out, x: g / (x + 1), "dx = g / (1 + x)", reads("x"))
sqrt = Op("sqrt", np.sqrt, lambda g, out, x: g / (out * 2), "dx = g / (2 * out)", reads("out"))
abs = Op("abs", np.abs, lambda g, out, x: np.where(x > 0, g, select(x < 0, -g)),
         "dx = g * sign(x) (0 at x = 0)", reads("x"))
sin = Op("sin", np.sin, lambda g, out, x: g * np.cos(x), "dx = g * cos(x)", reads("x"))
cos = Op("cos", np.cos, lambda g, out, x: -g * np.sin(x), "dx = -g * sin(x)", reads("x"))


def _tanh_vjp(g, out, x):
    if type(out) is np.ndarray and out.ndim:  # in place on its own temporary: one array, not
        # three (a 0-d product is a numpy scalar, which has no place to write into)
        d = out * out
        np.subtract(1, d, out=d)
        d *= g
        return d
    return times(g, 1 - out * out)  # (the same, on Tensors: higher order)


tanh = Op("tanh", np.tanh, _tanh_vjp, "dx = g * (1 - out^2)", reads("out"))


def _sigmoid(x):
    # exp of a non-positive number never overflows: no warning even at +-1000.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1, e) / (1 + e)


sigmoid = Op("sigmoid", _sigmoid,
             lambda g, out, x: times(g, out * (1 - out)), "dx = g * out * (1 - out)",
             reads("out"))
relu = Op("relu", lambda x: np.maximum(x, 0), lambda g, out, x: select(x > 0, g),
            "dx = g * (x > 0)", reads("x"))
leaky_relu = Op("leaky_relu",
                lambda x, slope=0.01: np.where(x > 0, x, x * slope),
                lambda g, out, x, slope=0.01: np.where(x > 0, g, g * slope if slope else 0),
                "dx = g where x > 0, else g * slope", reads("x"))

# GELU, x * Phi(x) with Phi the standard normal CDF: PyTorch's default (approximate="none").
# Phi(x) = erfc(-x / sqrt 2) / 2 rather than (1 + erf(x / sqrt 2)) / 2: no cancellation for
# negative x. Its derivative is Phi(x) + x * phi(x), with phi the normal density.
_SQRT_HALF, _SQRT_2PI = math.sqrt(0.5), math.sqrt(2 * math.pi)


def _normal_cdf(x):
    return special.erfc(-x * _SQRT_HALF) * 0.5


def _gelu(x):
    cdf = _normal_cdf(x)
    return x * cdf, {"cdf": cdf}  # Phi(x) saved: erfc is the costly part, and the VJP needs it


def _gelu_vjp(g, out, x, cdf=None):
    if cdf is None:  # higher order: recomputed on Tensors
        cdf = _normal_cdf(x)
    return g * (cdf + x * np.exp(-(x * x) * 0.5) / _SQRT_2PI)


gelu = Op("gelu", _gelu, _gelu_vjp, "dx = g * (Phi(x) + x * phi(x)), Phi the normal CDF",
          reads("x", cdf="x"), saves=("cdf",))

# GELU by PyTorch's tanh approximation (approximate="tanh"): 0.5 x (1 + tanh(u)),
# u = sqrt(2/pi) (x + 0.044715 x^3).
_GELU_C, _GELU_A = math.sqrt(2 / math.pi), 0.044715


def _gelu_tanh(x):
    return x * 0.5 * (np.tanh((x + x * x * x * _GELU_A) * _GELU_C) + 1)


def _gelu_tanh_vjp(g, out, x):
    t = np.tanh((x + x * x * x * _GELU_A) * _GELU_C)
    du = (x * x * (3 * _GELU_A) + 1) * _GELU_C
    return g * ((t + 1) * 0.5 + x * 0.5 * (1 - t * t) * du)


gelu_tanh = Op("gelu_tanh", _gelu_tanh, _gelu_tanh_vjp,
               "dx = g * (0.5 (1 + t) + 0.5 x (1 - t^2) u'), t = tanh(u)", reads("x"))


# clip's rules are PyTorch's clamp's, ties included: x keeps the gradient where it was inside
# [lo, hi], bounds included; a bound gets it where it replaced x (hi wins when lo > hi, and at
# x < lo = hi neither bound gets it, as in PyTorch).
def _clip_vjp(g, out, x, lo=None, hi=None):
    inside = (x >= (-np.inf if lo is None else lo)) & (x <= (np.inf if hi is None else hi))
    return select(inside, g)


# Bounds given as numbers (or None) are attributes: one input, the fast usual case.
clip = Op("clip", lambda x, lo=None, hi=None: np.clip(x, lo, hi),
          _clip_vjp, "dx = g where lo <= x <= hi", reads("x"))
# Bounds given as Tensors are inputs with gradients of their own (None becomes -inf or inf).
clip_tensors = Op(
    "clip_tensors",
    np.clip,
    lambda g, out, x, lo, hi: _clip_vjp(g, out, x, lo, hi), "dx = g where lo <= x <= hi",
    reads("x", "lo", "hi"),
    lambda g, out, x, lo, hi: select((x < lo) & (lo < hi), g), "dlo = g where x < lo < hi",
    reads("x", "lo", "hi"),
    lambda g, out, x, lo, hi: select((x > hi) | (hi < lo), g),
    "dhi = g where x > hi, or everywhere hi < lo", reads("x", "lo", "hi"),
)
astype = Op("astype", lambda x, dtype=None: x.astype(dtype),
            lambda g, out, x, dtype=None: g, "dx = g (in x's dtype)", reads())
