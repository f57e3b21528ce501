"""Normalisations and the fused losses: softmax, log_softmax, and softmax / sigmoid
cross-entropy as single primitives. Shifting by the max inside one forward keeps them exact
and finite for logits of 1e4, and their gradients need no extra nodes."""

import math

import numpy as np

from .core import Op, reads, times


def _shifted(x, axis):
    """x minus its max along `axis`, so that exp never overflows (an empty axis works too)."""
    return x - x.max(axis=axis, keepdims=True, initial=-np.inf)


def _log_softmax(x, axis=-1):
    if not x.size:  # nothing to normalise (and the log of an empty sum would warn)
        return x.copy()
    # Subtract the max once and never add it back: exact for the largest logit even at 1e4.
    shifted = _shifted(x, axis)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _softmax(x, axis=-1):
    exps = np.exp(_shifted(x, axis))
    return exps / exps.sum(axis=axis, keepdims=True)


log_softmax = Op(
    "log_softmax",
    _log_softmax,
    lambda g, out, x, axis=-1: g - np.exp(out) * g.sum(axis=axis, keepdims=True),
    "dx = g - softmax(x) * sum(g)",
    reads("out"),
)
softmax = Op(
    "softmax",
    _softmax,
    lambda g, out, x, axis=-1: out * (g - (g * out).sum(axis=axis, keepdims=True)),
    "dx = out * (g - sum(g * out))",
    reads("out"),
)


# The fused losses reduce like PyTorch's: "mean" (nan for an empty batch, as in PyTorch), "sum"
# (0 for an empty batch) or "none" (one loss per row of logits, or per element for bce).
def _reduce(total, reduction, count):
    """The summed losses `total` of `count` rows (elements) as their sum or mean."""
    if reduction == "sum":
        return total
    return total / count if count else np.full((), np.nan, total.dtype)


def _per_loss(g, reduction, count):
    """The gradient reaching each of `count` unreduced losses from the reduced one's `g`."""
    return g / (count or 1) if reduction == "mean" else g


# Forwards see arrays only: they reduce with the ufuncs' own reduce (ndarray.sum and .max are
# Python functions around them), with the same bits.
_add, _max, _min = np.add.reduce, np.maximum.reduce, np.minimum.reduce


def _cross_entropy(x, t, reduction="mean"):
    shifted = x - _max(x, -1, None, None, True, -np.inf)  # finite for logits of 1e4
    exps = np.exp(shifted)
    total = _add(exps, -1, None, None, True)
    if not x.shape[-1]:
        total += 1  # no classes, so no probabilities: log(1) keeps numpy quiet
    log_probs = shifted - np.log(total)
    probs = exps / total
    weighted = t * log_probs
    if reduction == "none":
        loss = -_add(weighted, -1)  # one per row
    else:  # one sum over everything: the usual case, and one reduction fewer than per row
        loss = _reduce(-_add(weighted, None), reduction, math.prod(x.shape[:-1]))
    return loss, {"probs": probs, "log_probs": log_probs}


def _row_grad(g, x, reduction):
    """Each row's share of g, shaped to broadcast against the logits (rows, classes)."""
    if reduction == "mean":
        return g / (math.prod(x.shape[:-1]) or 1)
    return g[..., None] if reduction == "none" else g


def _cross_entropy_vjp_logits(g, out, x, t, reduction="mean", probs=None, log_probs=None):
    # d/dx of -sum(t * log_softmax(x)) is softmax(x) * sum(t) - t; sum(t) is 1 for one-hot rows.
    if probs is None:  # higher order: recomputed on Tensors, so that it is differentiable
        probs = softmax(x, axis=-1)
    grad = probs * t.sum(axis=-1, keepdims=True)
    grad -= t
    return times(_row_grad(g, x, reduction), grad)


def _cross_entropy_vjp_target(g, out, x, t, reduction="mean", probs=None, log_probs=None):
    if log_probs is None:
        log_probs = log_softmax(x, axis=-1)
    return log_probs * -_row_grad(g, x, reduction)


# Softmax cross-entropy as one primitive: the loss of nearly every classifier, and as a single
# node its gradient is the familiar (softmax - target) / n instead of five nodes' worth of work.
cross_entropy = Op(
    "cross_entropy",
    _cross_entropy,
    _cross_entropy_vjp_logits, "dx = g * (softmax(x) * sum(t) - t) / rows",
    reads("t", probs="x"),
    _cross_entropy_vjp_target, "dt = -g * log_softmax(x) / rows",
    reads(log_probs="x"),
    saves=("probs", "log_probs"),
)


def class_labels(labels, k):
    """Class labels as an intp array of their own (a copy: a later change to the caller's array
    leaves the graph alone), each checked to lie in [0, k)."""
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise ValueError("cross_entropy_labels: class labels must be integers, got dtype "
                         f"{labels.dtype}")
    if labels.size:
        low, high = _min(labels, None), _max(labels, None)
        if low < 0 or high >= k:
            raise ValueError(f"cross_entropy_labels: class labels must lie in [0, {k}), got "
                             f"values in [{low}, {high}]")
    return labels.astype(np.intp)


def row_offsets(shape, k):
    """row * k for each row of labels of `shape`, shaped (..., 1): where each row starts in the
    flattened logits. Kept read-only per shape (a batch size rarely changes)."""
    offsets = _OFFSETS.get((shape, k))
    if offsets is None:
        if len(_OFFSETS) >= 64:
            _OFFSETS.clear()
        size = math.prod(shape)
        offsets = np.arange(0, size * k, k or 1, dtype=np.intp).reshape(shape + (1,))
        offsets.flags.writeable = False
        _OFFSETS[shape, k] = offsets
    return offsets


_OFFSETS = {}  # (shape of the labels, k) -> row_offsets


def _flat_index(labels, k):
    """Where each row's label sits in the flattened logits: row * k + label, shape (..., 1)."""
    offsets = row_offsets(labels.shape, k)
    return labels.reshape(offsets.shape).astype(np.intp, copy=False) + offsets


def _cross_entropy_labels(x, labels, reduction="mean"):
    # The same softmax as _cross_entropy, then a gather: each row's loss is log(total) minus
    # its label's shifted logit (-log_softmax at the label), with no one-hot rows at all.
    shifted = x - _max(x, -1, None, None, True, -np.inf)
    exps = np.exp(shifted)
    total = _add(exps, -1, None, None, True)
    if not x.shape[-1]:
        total += 1
    log_total = np.log(total)
    index = _flat_index(labels, x.shape[-1])
    losses = log_total - np.take(shifted, index)  # (..., 1)
    if reduction == "none":
        loss = losses.reshape(labels.shape)
    else:
        loss = _reduce(_add(losses, None), reduction, labels.size)
    return loss, {"probs": exps / total, "index": index}


def _cross_entropy_labels_vjp(g, out, x, labels=None, reduction="mean", probs=None,
                              index=None):
    # softmax(x) minus one at each row's label: the one-hot rows, never made.
    if probs is None:  # higher order: on Tensors (a constant one-hot array there)
        rows = (labels[..., None] == np.arange(x.shape[-1])).astype(x.dtype)
        return times(_row_grad(g, x, reduction), softmax(x, axis=-1) - rows)
    grad = probs.copy()
    grad.reshape(-1)[index] -= 1
    return times(_row_grad(g, x, reduction), grad)


# Softmax cross-entropy at integer class labels (an attribute: data, not differentiable), as
# nn.functional.cross_entropy runs it for plain labels: a gather forward, a subtract-at-index
# backward: per row the losses of cross_entropy against one-hot rows (their numbers; a zero
# is +0 here) and its gradients' bits.
cross_entropy_labels = Op(
    "cross_entropy_labels",
    _cross_entropy_labels,
    _cross_entropy_labels_vjp, "dx = g * (softmax(x) - onehot(labels)) / rows",
    reads(probs="x"),
    saves=("probs", "index"),
)


def _bce_with_logits(x, t, reduction="mean"):
    # log(1 + exp(x)) - x*t, with logaddexp and tanh: neither overflows at any logit.
    losses = np.logaddexp(0, x) - x * t
    probs = np.tanh(x * 0.5)
    probs *= 0.5
    probs += 0.5  # sigmoid(x) = (1 + tanh(x / 2)) / 2, in place on a fresh array
    loss = losses if reduction == "none" else _reduce(_add(losses, None), reduction, x.size)
    return loss, {"probs": probs}


def _bce_vjp_logits(g, out, x, t, reduction="mean", probs=None):
    if probs is None:  # higher order: recomputed on Tensors
        probs = (np.tanh(x * 0.5) + 1) * 0.5
    return times(_per_loss(g, reduction, x.size), probs - t)


# Binary cross-entropy of logits as one primitive, for the same reasons as cross_entropy.
bce_with_logits = Op(
    "bce_with_logits",
    _bce_with_logits,
    _bce_vjp_logits, "dx = g * (sigmoid(x) - t) / n", reads("t", probs="x"),
    lambda g, out, x, t, reduction="mean", probs=None: x * -_per_loss(g, reduction, x.size),
    "dt = -g * x / n",
    reads("x"),
    saves=("probs",),
)
