"""scipy's functions that numpy programs differentiate, on Tensors (and plain arrays):
`autograd.scipy.special` (logsumexp, expit, logit, softmax, log_softmax, erf, erfc),
`autograd.scipy.stats` (norm.logpdf, pdf, cdf; multivariate_normal.logpdf, pdf) and
`autograd.scipy.linalg` (solve_triangular, cho_solve). Written with npgrad's own ops:
scipy is not needed to import or run them (the tests compare their values with scipy's where
it is installed). As in HIPS autograd: `import autograd.scipy.special as sp; sp.logsumexp(t)`.
"""

from . import linalg, special, stats

__all__ = ["linalg", "special", "stats"]
