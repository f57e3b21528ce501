"""scipy's functions that numpy programs differentiate, on Tensors (and plain arrays):
`autograd.scipy.special` (logsumexp, expit, logit, softmax, log_softmax, erf, erfc) and
`autograd.scipy.stats` (norm.logpdf, norm.pdf, norm.cdf). Written with npgrad's own ops:
scipy is not needed to import or run them (the tests compare their values with scipy's where
it is installed). As in HIPS autograd: `import autograd.scipy.special as sp; sp.logsumexp(t)`.
"""

from . import special, stats

__all__ = ["special", "stats"]
