"""Losses as functions: `loss(input, target, reduction="mean"|"sum"|"none")`.

"mean" and "sum" give a scalar Tensor, "none" the unreduced losses (per element, or per row for
cross_entropy). Over an empty batch "sum" is 0 and "mean" is nan (as in PyTorch, quietly).
Each loss is a few Tensor operations (a few graph nodes: they run every training step) and is
finite at extreme inputs. Targets are data: Tensors, arrays or lists, read as constants (no
gradient flows into them) and never broadcast: their shape must match exactly.
"""


import numpy as np

from autograd import Tensor

from .embedding import embedding  # noqa: F401  (nn.functional.embedding)
from .functional_conv import (  # noqa: F401  (nn.functional.conv2d, as in PyTorch)
    adaptive_avg_pool2d,
    avg_pool2d,
    conv1d,
    conv2d,
    max_pool1d,
    max_pool2d,
)
from .normalization import batch_norm, layer_norm  # noqa: F401

REDUCTIONS = ("mean", "sum", "none")


def _as_tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _check_reduction(reduction: str, name: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()  # nan over an empty batch, quietly, as in PyTorch
    return loss.sum() if reduction == "sum" else loss


def _target_like(x: Tensor, target, name: str) -> np.ndarray:
    """The target as an array in x's dtype, with exactly x's shape."""
    t = np.asarray(target.data if isinstance(target, Tensor) else target, dtype=x.dtype)
    if t.shape != x.shape:
        raise ValueError(
            f"{name}: input shape {x.shape} and target shape {t.shape} differ "
            "(targets are not broadcast: reshape one to match, e.g. y.reshape(-1, 1))"
        )
    return t


def _check_zero_one(values: np.ndarray, name: str, what: str, noun: str, hint: str = "") -> None:
    """Probabilities and binary targets lie in [0, 1]: {1, 2} would give a plausible number."""
    if not values.size:
        return
    lo, hi = values.min(), values.max()  # a NaN anywhere makes both NaN
    if lo >= 0 and hi <= 1:  # (False for NaN too): the one test on the path of every step
        return
    if np.isnan(lo):
        raise ValueError(f"{name}: {what} contains NaN")
    raise ValueError(f"{name}: {what} must hold {noun} in [0, 1], got values in "
                     f"[{lo:.4g}, {hi:.4g}]{hint}")


def mse_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """Mean (or sum) of squared differences; input and target have the same shape."""
    _check_reduction(reduction, "mse_loss")
    x = _as_tensor(input)
    d = x - _target_like(x, target, "mse_loss")
    return _reduce(d * d, reduction)


def bce_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of probabilities `input` in [0, 1] against targets in [0, 1].

    Values outside [0, 1] and NaNs in either raise a ValueError (PyTorch checks only the input).

    Probabilities are clipped to [eps, 1 - eps] (eps of the dtype), so the loss stays finite
    at exactly 0 and 1. For raw scores prefer `bce_with_logits_loss`, which is exact there.
    """
    _check_reduction(reduction, "bce_loss")
    x = _as_tensor(input)
    y = _target_like(x, target, "bce_loss")
    _check_zero_one(x.data, "bce_loss", "input", "probabilities",
                    " (for logits use bce_with_logits_loss)")
    _check_zero_one(y, "bce_loss", "target", "values")
    eps = float(np.finfo(x.dtype).eps)
    p = x.clip(eps, 1 - eps)
    # -(y log p + (1 - y) log(1 - p)), with the signs folded into the constant factors.
    return _reduce(p.log() * (-y) + (1 - p).log() * (y - 1), reduction)


def bce_with_logits_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of sigmoid(input) against targets, computed from logits.

    One engine node (`Tensor.bce_with_logits`), exact and finite for logits of any size.
    Targets outside [0, 1] or NaN raise a ValueError (PyTorch accepts them silently).
    """
    _check_reduction(reduction, "bce_with_logits_loss")
    x = _as_tensor(input)
    y = _target_like(x, target, "bce_with_logits_loss")
    _check_zero_one(y, "bce_with_logits_loss", "target", "values")
    return x.bce_with_logits(y, reduction=reduction)


def cross_entropy(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy of logits `input` (..., k) against class labels or probabilities.

    `target` holds integer labels in [0, k) with shape input.shape[:-1], or probability rows
    (e.g. one-hot) with input's shape. Uses log_softmax, so logits of 1e4 are fine.
    reduction="none" gives one loss per row, shape input.shape[:-1].
    """
    _check_reduction(reduction, "cross_entropy")
    x = _as_tensor(input)
    if x.ndim == 0:
        raise ValueError("cross_entropy: input must have a class axis (last dim), got a scalar")
    t = np.asarray(target.data if isinstance(target, Tensor) else target)
    k = x.shape[-1]
    if t.shape == x.shape:
        weights = t.astype(x.dtype, copy=False)
    elif t.shape == x.shape[:-1]:
        weights = _one_hot(t, k, x.dtype)
    else:
        raise ValueError(
            f"cross_entropy: input shape {x.shape} and target shape {t.shape} do not fit: "
            f"expected labels of shape {x.shape[:-1]} or probabilities of shape {x.shape}"
        )
    # One engine node (`Tensor.cross_entropy`) against probability rows: labels become one-hot
    # rows, so there is no scatter in the backward pass.
    return x.cross_entropy(weights, reduction=reduction)


def _one_hot(labels: np.ndarray, k: int, dtype) -> np.ndarray:
    """Rows with a 1 at each label: labels (...) -> (..., k)."""
    if labels.dtype.kind == "f" and np.array_equal(labels, np.round(labels)):
        labels = labels.astype(np.int64)
    if labels.dtype.kind not in "iu":
        raise ValueError(f"cross_entropy: class labels must be integers, got dtype {labels.dtype} "
                         "(whole-number floats are accepted)")
    if labels.size and (labels.min() < 0 or labels.max() >= k):
        raise ValueError(f"cross_entropy: class labels must lie in [0, {k}), got values in "
                         f"[{labels.min()}, {labels.max()}]")
    return (labels[..., None] == np.arange(k)).astype(dtype)
