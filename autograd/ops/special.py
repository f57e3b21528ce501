"""The error function erf and its complement erfc, which numpy lacks, in double precision.

The method and its coefficients are those of Sun's fdlibm `s_erf.c` (SunPro, 1993; the
freely-distributable C library behind FreeBSD's and musl's erf): rational approximations on
four intervals of |x|, each within 2**-57 of the function it approximates. Written here as
whole-array numpy expressions (each interval evaluated on its own elements, no Python loop).
erfc is computed directly in the tails, where 1 - erf(x) would cancel to 0.
"""

import math

import numpy as np

from .core import Op, reads

# ---------------------------------------------------------------- fdlibm s_erf.c coefficients
_ERX = 8.45062911510467529297e-01  # erf(1) rounded to 24 bits: the centre of [0.84375, 1.25]
_EFX8 = 1.02703333676410069053e+00  # 8 * (2 / sqrt(pi) - 1), for tiny x without underflow
# |x| < 0.84375: erf(x) = x + x * PP(x^2) / QQ(x^2). Coefficients lowest degree first.
_PP = (1.28379167095512558561e-01, -3.25042107247001499370e-01, -2.84817495755985104766e-02,
       -5.77027029648944159157e-03, -2.37630166566501626084e-05)
_QQ = (1.0, 3.97917223959155352819e-01, 6.50222499887672944485e-02, 5.08130628187576562776e-03,
       1.32494738004321644526e-04, -3.96022827877536812320e-06)
# 0.84375 <= |x| < 1.25: erf(|x|) = ERX + PA(s) / QA(s), s = |x| - 1.
_PA = (-2.36211856075265944077e-03, 4.14856118683748331666e-01, -3.72207876035701323847e-01,
       3.18346619901161753674e-01, -1.10894694282396677476e-01, 3.54783043256182359371e-02,
       -2.16637559486879084300e-03)
_QA = (1.0, 1.06420880400844228286e-01, 5.40397917702171048937e-01, 7.18286544141962662868e-02,
       1.26171219808761642112e-01, 1.36370839120290507362e-02, 1.19844998467991074170e-02)
# 1.25 <= |x| < 1/0.35: erfc(|x|) = exp(-x^2 - 0.5625 + RA(s) / SA(s)) / |x|, s = 1 / x^2.
_RA = (-9.86494403484714822705e-03, -6.93858572707181764372e-01, -1.05586262253232909814e+01,
       -6.23753324503260060396e+01, -1.62396669462573470355e+02, -1.84605092906711035994e+02,
       -8.12874355063065934246e+01, -9.81432934416914548592e+00)
_SA = (1.0, 1.96512716674392571292e+01, 1.37657754143519042600e+02, 4.34565877475229228821e+02,
       6.45387271733267880336e+02, 4.29008140027567833386e+02, 1.08635005541779435134e+02,
       6.57024977031928170135e+00, -6.04244152148580987438e-02)
# 1/0.35 <= |x| < 28: the same form with RB / SB. Beyond 28 erfc underflows to 0.
_RB = (-9.86494292470009928597e-03, -7.99283237680523006574e-01, -1.77579549177547519889e+01,
       -1.60636384855821916062e+02, -6.37566443368389627722e+02, -1.02509513161107724954e+03,
       -4.83519191608651397019e+02)
_SB = (1.0, 3.03380607434824582924e+01, 3.25792512996573918826e+02, 1.53672958608443695994e+03,
       3.19985821950859553908e+03, 2.55305040643316442583e+03, 4.74528541206955367215e+02,
       -2.24409524465858183362e+01)


def _poly(z, coefficients):
    """c0 + c1 z + c2 z^2 + ..., by Horner's rule (coefficients lowest degree first), in place:
    a fresh temporary per step costs ten times the arithmetic on large arrays."""
    total = np.full_like(z, coefficients[-1])
    for c in coefficients[-2::-1]:
        total *= z
        total += c
    return total


def _tail(a):
    """erfc(a) for 1.25 <= a < 28, from the asymptotic form exp(-a^2) / a * (1 + ...)."""
    s = 1 / (a * a)
    near = a < 1 / 0.35
    ratio = np.where(near, _poly(s, _RA) / _poly(s, _SA), _poly(s, _RB) / _poly(s, _SB))
    # exp(-a^2) loses digits to the rounding of a * a; splitting a = h + (a - h) with h of
    # 21 significant bits makes h * h exact and carries the rest as (h - a)(h + a).
    h = (a.view(np.uint64) & np.uint64(0xFFFFFFFF00000000)).view(np.float64)
    with np.errstate(under="ignore"):  # erfc(a) is subnormal above a = 26.5
        return np.exp(-h * h - 0.5625) * np.exp((h - a) * (h + a) + ratio) / a


def _regions(x, tiny):
    """x flat in float64, |x|, and the positions in each of fdlibm's intervals (nan and +-inf
    in none); below `tiny` a one-term formula is exact. (Integer positions: gathering and
    scattering with them is several times faster than with boolean masks.)"""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    a = np.abs(x)
    return x, a, *(np.flatnonzero(m) for m in (
        a < tiny, (a >= tiny) & (a < 0.84375), (a >= 0.84375) & (a < 1.25),
        (a >= 1.25) & (a < 28)))


def _erf(x):
    shape, dtype = np.shape(x), np.result_type(x, np.float32)
    x, a, tiny, small, middle, tail = _regions(x, 2.0 ** -28)
    out = np.sign(x)  # +-1 beyond 28 and at +-inf (also for erf above 6), nan at nan
    xt = x[tiny]
    out[tiny] = 0.125 * (8 * xt + _EFX8 * xt)  # no underflow for subnormal x; -0.0 stays -0.0
    xs = x[small]
    z = xs * xs
    out[small] = xs + xs * (_poly(z, _PP) / _poly(z, _QQ))
    s = a[middle] - 1
    out[middle] = np.sign(x[middle]) * (_ERX + _poly(s, _PA) / _poly(s, _QA))
    out[tail] = np.sign(x[tail]) * (1 - _tail(a[tail]))
    return out.reshape(shape).astype(dtype, copy=False)


def _erfc(x):
    shape, dtype = np.shape(x), np.result_type(x, np.float32)
    x, a, tiny, small, middle, tail = _regions(x, 2.0 ** -56)
    out = 1 - np.sign(x)  # 0 beyond 28 and at inf, 2 below -28 and at -inf, nan at nan
    out[tiny] = 1 - x[tiny]
    xs = x[small]
    z = xs * xs
    r = xs * (_poly(z, _PP) / _poly(z, _QQ))
    # Above 1/4, 0.5 - (x - 0.5 + x R) keeps the digits that 1 - (x + x R) would round away.
    out[small] = np.where(xs < 0.25, 1 - (xs + r), 0.5 - (r + (xs - 0.5)))
    s = a[middle] - 1
    p = _poly(s, _PA) / _poly(s, _QA)
    out[middle] = np.where(x[middle] > 0, (1 - _ERX) - p, 1 + (_ERX + p))
    tails = _tail(a[tail])
    out[tail] = np.where(x[tail] > 0, tails, 2 - tails)
    return out.reshape(shape).astype(dtype, copy=False)


_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


def _slope(g, x):
    """g * erf'(x) = g * 2 / sqrt(pi) * exp(-x^2): erf's VJP, and erfc's with the sign flipped."""
    return g * np.exp(-(x * x)) * _TWO_OVER_SQRT_PI


erf = Op("erf", _erf, lambda g, out, x: _slope(g, x), "dx = g * 2 / sqrt(pi) * exp(-x^2)",
         reads("x"))
erfc = Op("erfc", _erfc, lambda g, out, x: -_slope(g, x), "dx = -g * 2 / sqrt(pi) * exp(-x^2)",
          reads("x"))
