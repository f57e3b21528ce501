"""scipy.stats' normal distributions on Tensors: `norm.logpdf(x, loc, scale)`, `norm.pdf`,
`norm.cdf` and `multivariate_normal.logpdf(x, mean, cov)` and `.pdf`, with scipy's signatures."""

import math

import numpy as np

from .. import linalg as _linalg
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


class _MultivariateNormal:
    """The multivariate normal distribution, as scipy.stats.multivariate_normal."""

    def logpdf(self, x, mean=None, cov=1, allow_singular=False):
        """log N(x; mean, cov), by the Cholesky factor L of cov:
        -|L^-1 (x - mean)|^2 / 2 - sum(log diag L) - d log(2 pi) / 2. Shapes as scipy's: the
        dimension d comes from mean, else from cov (a number or vector is a diagonal), else 1;
        x holds one point per row (a 1-D x is one point, or n points when d = 1); the result
        has size-1 axes squeezed. cov must be positive definite (no allow_singular)."""
        if allow_singular:
            raise NotImplementedError("multivariate_normal.logpdf(allow_singular=True): npgrad "
                                      "needs a positive definite cov (its Cholesky factor)")
        where = "multivariate_normal.logpdf"
        (x, mean, cov), given = tensors(x, 0.0 if mean is None else mean, cov, where=where)
        d = mean.size if mean.ndim else cov.shape[0] if cov.ndim else 1
        if cov.ndim < 2:  # a number, or a vector: a diagonal covariance
            cov = (np.eye(d) if cov.ndim == 0 else np.eye(cov.size)) * cov
        if cov.shape != (d, d) or mean.ndim > 1:
            raise ValueError(f"{where}: mean of shape {mean.shape} and cov of shape {cov.shape} "
                             "are not a vector of d elements and a d x d matrix")
        if x.ndim < 2:
            x = x.reshape(1, d) if x.ndim == 1 and d > 1 else x.reshape(-1, 1)
        if x.shape[-1] != d:
            raise ValueError(f"{where}: x of shape {x.shape} has points of {x.shape[-1]} "
                             f"elements, not {d}")
        points = (x - mean).reshape(-1, d)
        factor = np.linalg.cholesky(cov)
        z = _linalg.solve_triangular(factor, points.T, lower=True)
        half_log_det = np.log(factor[np.arange(d), np.arange(d)]).sum()
        out = -(z * z).sum(axis=0) * 0.5 - half_log_det - d * _LOG_SQRT_2PI
        return finish(out.reshape([n for n in x.shape[:-1] if n != 1]), given)

    def pdf(self, x, mean=None, cov=1, allow_singular=False):
        """exp(logpdf(x, mean, cov))."""
        return np.exp(self.logpdf(x, mean, cov, allow_singular))

    def __repr__(self):
        return "autograd.scipy.stats.multivariate_normal"


multivariate_normal = _MultivariateNormal()
