"""scipy.stats' densities on Tensors: `norm.logpdf(x, loc, scale)` and `norm.pdf`, with scipy's
signatures. (norm.cdf needs the error function, which npgrad's ops do not have yet.)"""

import math

import numpy as np

from ._common import finish, tensors

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


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

    def __repr__(self):
        return "autograd.scipy.stats.norm"


norm = _Norm()
