"""scipy.special's functions of probabilities and logits: logsumexp, expit, logit, softmax,
log_softmax, erf and erfc, with scipy's signatures and defaults (softmax over all elements
unless given an axis)."""

import numpy as np

from ._common import finish, plain, tensors


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    """log(sum(b * exp(a))) along `axis`, without overflow; `b` (weights, broadcast against
    a) must be >= 0: scipy's return_sign for negative sums is not supported."""
    if return_sign:
        raise NotImplementedError("logsumexp(return_sign=True): not supported by npgrad; the "
                                  "weights b must be >= 0")
    if b is None:
        (x,), given = tensors(a, where="logsumexp")
    else:
        if np.any(plain(b) < 0):
            raise ValueError("logsumexp: the weights b must be >= 0 (a negative sum needs "
                             "scipy's return_sign, which npgrad does not support)")
        (x, weights), given = tensors(a, b, where="logsumexp")
        with np.errstate(divide="ignore"):  # a weight of 0 drops its term: log 0 = -inf
            x = x + np.log(weights)
    return finish(x.logsumexp(axis=axis, keepdims=keepdims), given)


def expit(x):
    """The logistic sigmoid 1 / (1 + exp(-x)), finite for any x."""
    (t,), given = tensors(x, where="expit")
    return finish(t.sigmoid(), given)


def logit(p):
    """log(p / (1 - p)), the inverse of expit; -inf at 0, inf at 1, nan outside [0, 1]."""
    (t,), given = tensors(p, where="logit")
    with np.errstate(divide="ignore", invalid="ignore"):
        return finish(np.log(t) - np.log1p(-t), given)


def softmax(x, axis=None):
    """exp(x) / sum(exp(x)) along `axis` (all the elements when None, as scipy's)."""
    (t,), given = tensors(x, where="softmax")
    if isinstance(axis, (int, np.integer)):
        return finish(t.softmax(axis=int(axis)), given)
    return finish(np.exp(t - t.logsumexp(axis=axis, keepdims=True)), given)


def log_softmax(x, axis=None):
    """x - logsumexp(x) along `axis` (all the elements when None, as scipy's)."""
    (t,), given = tensors(x, where="log_softmax")
    if isinstance(axis, (int, np.integer)):
        return finish(t.log_softmax(axis=int(axis)), given)
    return finish(t - t.logsumexp(axis=axis, keepdims=True), given)


def erf(x):
    """The error function, 2 / sqrt(pi) * integral of exp(-t^2) from 0 to x."""
    (t,), given = tensors(x, where="erf")
    return finish(t.erf(), given)


def erfc(x):
    """1 - erf(x), without the cancellation where erf(x) is near 1."""
    (t,), given = tensors(x, where="erfc")
    return finish(t.erfc(), given)
