"""scipy.stats' normal distribution on Tensors: `norm.logpdf(x, loc, scale)`, `norm.pdf` and
`norm.cdf`, with scipy's signatures."""

import math

import numpy as np

from ._common import finish, tensors

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
_SQRT_2 = math.sqrt(2)


class _Norm:
    """The normal distribution, as scipy.stats.norm: loc is the mean, scale the standard
    deviation; x, loc and scale broadcast."""

    def logpdf(self, x, loc=0.0, scale=1.0):
        """log N(x; loc, scale^2) = -((x - loc) / scale)^2 / 2 - log(scale) - log(2 pi) / 2."""
        (x, loc, scale), given = tensors(x, loc, scale, where="norm.logpdf")
        z = (x - loc) / scale
        return finish(-(z * z) * 0.5 - np.log(scale) - _LOG_SQRT_2PI, given)

    def pdf(self, x, loc=0.0, scale=1.0):
        """exp(logpdf(x, loc, scale))."""
        return np.exp(self.logpdf(x, loc, scale))

    def cdf(self, x, loc=0.0, scale=1.0):
        """P(X <= x) = erfc(-(x - loc) / (scale sqrt 2)) / 2: erfc keeps the lower tail's digits
        (cdf(-30) = 4.9e-198), where (1 + erf(.)) / 2 would round it to 0."""
        (x, loc, scale), given = tensors(x, loc, scale, where="norm.cdf")
        return finish((-(x - loc) / (scale * _SQRT_2)).erfc() * 0.5, given)

    def __repr__(self):
        return "autograd.scipy.stats.norm"


norm = _Norm()
