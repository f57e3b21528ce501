"""Losses as functions: `loss(input, target, reduction="mean"|"sum"|"none")`, under npgrad's
and PyTorch's names (`bce_loss` is `binary_cross_entropy`); activations come from
nn/functional_activations.py, so `nn.functional` holds PyTorch's names of both.

"mean" and "sum" give a scalar Tensor, "none" the unreduced losses (per element, or per row for
cross_entropy). Over an empty batch "sum" is 0 and "mean" is nan (as in PyTorch, quietly).
Each loss is a few Tensor operations (a few graph nodes: they run every training step) and is
finite at extreme inputs. Targets are data: Tensors, arrays or lists, read as constants (no
gradient flows into them) and never broadcast: their shape must match exactly.
"""


import numpy as np

from autograd import Tensor
from autograd.functions import cross_entropy_labels, where
from autograd.tensor import is_a_tensor

from .embedding import embedding  # noqa: F401  (nn.functional.embedding)
from .functional_activations import (  # noqa: F401  (nn.functional.relu, as in PyTorch)
    dropout,
    gelu,
    leaky_relu,
    linear,
    log_softmax,
    relu,
    sigmoid,
    softmax,
    tanh,
)
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
    return x if is_a_tensor(x) else Tensor(x)


def _check_reduction(reduction: str, name: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()  # nan over an empty batch, quietly, as in PyTorch
    return loss.sum() if reduction == "sum" else loss


def _target_like(x: Tensor, target, name: str) -> np.ndarray:
    """The target as an array in x's dtype, with exactly x's shape."""
    t = np.asarray(target.data if is_a_tensor(target) else target, dtype=x.dtype)
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
    # (the ufuncs' reduce: ndarray.min and .max are Python functions around it)
    lo, hi = np.minimum.reduce(values, None), np.maximum.reduce(values, None)  # NaN: both NaN
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
    if reduction not in REDUCTIONS:  # (checked first: every step)
        _check_reduction(reduction, "bce_with_logits_loss")
    x = input if is_a_tensor(input) else Tensor(input)
    y = _target_like(x, target, "bce_with_logits_loss")
    _check_zero_one(y, "bce_with_logits_loss", "target", "values")
    return x.bce_with_logits(y, reduction=reduction)


def binary_cross_entropy(input: Tensor, target, weight=None, reduction: str = "mean"):
    """PyTorch's name for `bce_loss`, with its `weight`: each element's loss times the weight
    (broadcast to input's shape); "mean" is over elements."""
    weight, reduction = _weight_or_reduction(weight, reduction, "binary_cross_entropy")
    if weight is None:
        return bce_loss(input, target, reduction)
    _check_reduction(reduction, "binary_cross_entropy")
    x = _as_tensor(input)
    return _reduce(bce_loss(x, target, "none") * _broadcast_weight(weight, x, "weight",
                                                                    "binary_cross_entropy"),
                   reduction)


def binary_cross_entropy_with_logits(input: Tensor, target, weight=None,
                                     reduction: str = "mean", pos_weight=None) -> Tensor:
    """PyTorch's name for `bce_with_logits_loss`, with its `weight` (per element, broadcast)
    and `pos_weight` (scales the positive term, broadcast along the last axis):
    -weight (pos_weight y log sigmoid(x) + (1 - y) log(1 - sigmoid(x)))."""
    weight, reduction = _weight_or_reduction(weight, reduction, "binary_cross_entropy_with_logits")
    name = "binary_cross_entropy_with_logits"
    if weight is None and pos_weight is None:
        return bce_with_logits_loss(input, target, reduction)
    _check_reduction(reduction, name)
    x = _as_tensor(input)
    y = _target_like(x, target, name)
    _check_zero_one(y, name, "target", "values")
    if pos_weight is None:
        losses = x.bce_with_logits(y, reduction="none")
    else:  # -log sigmoid(x) = softplus(-x) and -log(1 - sigmoid(x)) = x + softplus(-x)
        pw = _broadcast_weight(pos_weight, x, "pos_weight", name)
        losses = x * (1 - y) + (-x).softplus() * (pw * y + (1 - y))
    if weight is not None:
        losses = losses * _broadcast_weight(weight, x, "weight", name)
    return _reduce(losses, reduction)


def _broadcast_weight(weight, x: Tensor, what: str, name: str) -> np.ndarray:
    """`weight` as an array in x's dtype that broadcasts to x's shape (and no further)."""
    w = np.asarray(weight.data if is_a_tensor(weight) else weight, dtype=x.dtype)
    try:
        fits = np.broadcast_shapes(w.shape, x.shape) == x.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{name}: {what} of shape {w.shape} does not broadcast to the input's "
                         f"shape {x.shape}")
    return w


def l1_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """Mean (or sum) of absolute differences; the gradient where they are 0 is 0."""
    _check_reduction(reduction, "l1_loss")
    x = _as_tensor(input)
    return _reduce((x - _target_like(x, target, "l1_loss")).abs(), reduction)


def smooth_l1_loss(input: Tensor, target, reduction: str = "mean", beta: float = 1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target); beta=0 is
    l1_loss. huber_loss with delta = beta, divided by beta."""
    _check_reduction(reduction, "smooth_l1_loss")
    if not (isinstance(beta, (int, float)) and 0 <= beta < np.inf):
        raise ValueError(f"smooth_l1_loss: beta must be a finite number >= 0, got {beta!r}")
    x = _as_tensor(input)
    d = x - _target_like(x, target, "smooth_l1_loss")
    if beta == 0:
        return _reduce(d.abs(), reduction)
    small = np.abs(d.data) < beta
    return _reduce(where(small, d * d * (0.5 / beta), d.abs() - 0.5 * beta), reduction)


def huber_loss(input: Tensor, target, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta) (d = input - target): squared
    near 0, linear (gradient +-delta) beyond."""
    _check_reduction(reduction, "huber_loss")
    if not (isinstance(delta, (int, float)) and 0 < delta < np.inf):
        raise ValueError(f"huber_loss: delta must be a finite number > 0, got {delta!r}")
    x = _as_tensor(input)
    d = x - _target_like(x, target, "huber_loss")
    small = np.abs(d.data) < delta
    return _reduce(where(small, d * d * 0.5, (d.abs() - 0.5 * delta) * delta), reduction)


def cross_entropy(input: Tensor, target, weight=None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy of logits `input` (..., k) against class labels or probabilities.

    `target` holds integer labels in [0, k) with shape input.shape[:-1], or probability rows
    (e.g. one-hot) with input's shape. Uses log_softmax, so logits of 1e4 are fine.
    reduction="none" gives one loss per row, shape input.shape[:-1]. PyTorch's options:
    `weight` (one per class) scales each row's loss by its label's weight, and "mean" divides
    by the sum of those weights; rows labelled `ignore_index` count for nothing; with
    `label_smoothing` e the target is (1 - e) the label plus e / k on every class. The class
    axis is the last one (PyTorch's is axis 1: the same for (batch, classes) logits).
    """
    if isinstance(weight, str) or reduction not in REDUCTIONS:  # (checked first: every step)
        weight, reduction = _weight_or_reduction(weight, reduction, "cross_entropy")
        _check_reduction(reduction, "cross_entropy")
    x = input if is_a_tensor(input) else Tensor(input)
    if x.ndim == 0:
        raise ValueError("cross_entropy: input must have a class axis (last dim), got a scalar")
    t = np.asarray(target.data if is_a_tensor(target) else target)
    k = x.shape[-1]
    w = None if weight is None else _class_weights(weight, k, x.dtype, "cross_entropy")
    if not (isinstance(label_smoothing, (int, float)) and 0 <= label_smoothing <= 1):
        raise ValueError(f"cross_entropy: label_smoothing must lie in [0, 1], got "
                         f"{label_smoothing!r}")
    if t.shape == x.shape:
        if ignore_index != -100:
            raise ValueError("cross_entropy: ignore_index applies to class labels, not to "
                             "probability targets")
        rows = t.astype(x.dtype, copy=False)
        if label_smoothing:
            rows = rows * (1 - label_smoothing) + label_smoothing / k
        # One engine node (`Tensor.cross_entropy`) against probability rows; "mean" is over rows.
        return x.cross_entropy(rows if w is None else rows * w, reduction=reduction)
    if t.shape != x.shape[:-1]:
        raise ValueError(
            f"cross_entropy: input shape {x.shape} and target shape {t.shape} do not fit: "
            f"expected labels of shape {x.shape[:-1]} or probabilities of shape {x.shape}"
        )
    if w is None and not label_smoothing and t.dtype.kind in "iu" and not 0 <= ignore_index < k:
        # One engine node that gathers at the labels: no one-hot rows (compiled steps too). It
        # checks that they lie in [0, k), where ignore_index does not: a batch that holds it
        # (or a label out of range) takes the general path below, which skips those rows (or
        # raises naming ignore_index).
        try:
            return cross_entropy_labels(x, t, reduction)
        except ValueError:
            pass
    labels, valid = _labels(t, k, ignore_index, "cross_entropy")
    if w is None and not label_smoothing and valid is None:
        return cross_entropy_labels(x, labels, reduction)
    rows, counts = _label_rows(labels, valid, k, w, x.dtype)
    if label_smoothing:
        spread = (label_smoothing / k) * (np.ones(k, x.dtype) if w is None else w)
        keep = np.ones(labels.shape, x.dtype) if valid is None else valid.astype(x.dtype)
        rows = rows * (1 - label_smoothing) + keep[..., None] * spread
    if reduction != "mean":
        return x.cross_entropy(rows, reduction=reduction)
    return _weighted_mean(x.cross_entropy(rows, reduction="sum"), counts.sum())


def nll_loss(input: Tensor, target, weight=None, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities `input` (..., k) at integer labels `target`
    (shape input.shape[:-1]): -input[label], scaled by `weight[label]`; rows labelled
    `ignore_index` count for nothing, and "mean" divides by the sum of the weights used.
    The class axis is the last one (PyTorch's is axis 1: the same for (batch, classes))."""
    weight, reduction = _weight_or_reduction(weight, reduction, "nll_loss")
    _check_reduction(reduction, "nll_loss")
    x = _as_tensor(input)
    if x.ndim == 0:
        raise ValueError("nll_loss: input must have a class axis (last dim), got a scalar")
    t = np.asarray(target.data if is_a_tensor(target) else target)
    k = x.shape[-1]
    if t.shape != x.shape[:-1]:
        raise ValueError(f"nll_loss: input shape {x.shape} and target shape {t.shape} do not "
                         f"fit: expected labels of shape {x.shape[:-1]}")
    labels, valid = _labels(t, k, ignore_index, "nll_loss")
    rows, counts = _label_rows(labels, valid, k, _class_weights(weight, k, x.dtype, "nll_loss"),
                               x.dtype)
    losses = -(x * rows).sum(axis=-1)
    if reduction != "mean":
        return _reduce(losses, reduction)
    return _weighted_mean(losses.sum(), counts.sum())


def _weight_or_reduction(weight, reduction: str, name: str):
    """(weight, reduction): npgrad's losses took the reduction where PyTorch's take the weight,
    and a string cannot be a weight, so there it is read as the reduction."""
    if isinstance(weight, str):
        if reduction != "mean":
            raise TypeError(f"{name}: got reduction twice ({weight!r} where PyTorch's order "
                            f"has the weight, and reduction={reduction!r})")
        return None, weight
    return weight, reduction


def _class_weights(weight, k: int, dtype, name: str) -> np.ndarray | None:
    """`weight` as one non-negative number per class, or None."""
    if weight is None:
        return None
    w = np.asarray(weight.data if is_a_tensor(weight) else weight, dtype=dtype)
    if w.shape != (k,):
        raise ValueError(f"{name}: weight must hold one value per class, shape ({k},), got "
                         f"shape {w.shape}")
    return w


def _labels(t: np.ndarray, k: int, ignore_index: int, name: str):
    """(labels with ignored ones set to 0, mask of the labels that count or None if all do)."""
    if t.dtype.kind == "f" and np.array_equal(t, np.round(t)):
        t = t.astype(np.int64)
    if t.dtype.kind not in "iu":
        raise ValueError(f"{name}: class labels must be integers, got dtype {t.dtype} "
                         "(whole-number floats are accepted)")
    low, high = _extremes(t)
    ignored = None
    if low <= ignore_index <= high:  # labels may be ignored: the range counts the others
        ignored = t == ignore_index
        low, high = _extremes(t[~ignored])
    if low < 0 or high >= k:
        raise ValueError(f"{name}: class labels must lie in [0, {k}), got values in "
                         f"[{low}, {high}] (labels equal to ignore_index={ignore_index} "
                         "are skipped)")
    if ignored is None or not ignored.any():
        return t, None
    return np.where(ignored, 0, t), ~ignored


def _extremes(t: np.ndarray):
    """(min, max) of the labels, or (0, -1) for none (inside any range)."""
    return (np.minimum.reduce(t, None), np.maximum.reduce(t, None)) if t.size else (0, -1)


def _label_rows(labels: np.ndarray, valid, k: int, w, dtype):
    """(rows with each label's weight at its class, each row's weight), both 0 where ignored."""
    rows = _one_hot(labels, k, dtype)
    counts = np.ones(labels.shape, dtype) if w is None else w[labels]
    if valid is not None:
        counts = counts * valid
    rows *= counts[..., None]
    return rows, counts


def _weighted_mean(total: Tensor, count) -> Tensor:
    """total / count; nan when nothing counts (every label ignored), as in PyTorch, whose
    gradient is then 0."""
    if count == 0:
        return total * 0.0 + np.nan
    return total / count


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
