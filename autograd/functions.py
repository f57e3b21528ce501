"""Functions of several tensors, importable from `autograd` as numpy and PyTorch users expect:
where, maximum, minimum, logaddexp, erf, erfc, concatenate, stack, split; and
cross_entropy_labels, the loss of class labels.

Each runs one primitive of the op table; arrays and numbers join in the first Tensor's dtype.
"""

import numbers

import numpy as np

from . import engine, ops
from .tensor import REDUCTIONS, Tensor, _bad_reduction, apply, lift


def _tensors(values, name):
    """Lift plain operands to Tensors in the dtype of the first Tensor among them."""
    like = next((v for v in values if isinstance(v, Tensor)), None)
    if like is None:
        like = Tensor(np.asarray(values[0], dtype=np.result_type(values[0], np.float64)))
    return [v if isinstance(v, Tensor) else lift(v, like, name) for v in values]


def where(condition, x, y) -> Tensor:
    """x where `condition` holds, else y (broadcast together); each gets the gradient of its
    own positions. `condition` is data: a bool array (x > 0 gives one), or nonzero values."""
    mask = np.asarray(condition.data if isinstance(condition, Tensor) else condition,
                      dtype=bool)
    if engine.watcher is not None and mask is not condition:
        engine.watcher.made(mask, np.asarray, condition, mask.dtype)
    return apply(ops.where, *_tensors([x, y], "where"), condition=mask)


def maximum(x, y) -> Tensor:
    """The elementwise larger of x and y (broadcast); ties share the gradient, as in PyTorch."""
    return apply(ops.maximum, *_tensors([x, y], "maximum"))


def minimum(x, y) -> Tensor:
    """The elementwise smaller of x and y (broadcast); ties share the gradient."""
    return apply(ops.minimum, *_tensors([x, y], "minimum"))


def logaddexp(x, y) -> Tensor:
    """log(exp(x) + exp(y)) without overflow (broadcast)."""
    return apply(ops.logaddexp, *_tensors([x, y], "logaddexp"))


def erf(x) -> Tensor:
    """The error function, elementwise (numpy has none: this is `autograd.erf`)."""
    return (x if isinstance(x, Tensor) else Tensor(x)).erf()


def erfc(x) -> Tensor:
    """1 - erf(x), elementwise, without the cancellation where erf(x) is near 1."""
    return (x if isinstance(x, Tensor) else Tensor(x)).erfc()


def cross_entropy_labels(logits, labels, reduction="mean") -> Tensor:
    """Softmax cross-entropy of `logits` (..., k) at integer class `labels` (...) in [0, k):
    each row's -log_softmax(logits)[label], then "mean" over rows (nan for none, as in
    PyTorch), "sum", or "none" (one loss per row).

    One primitive: a gather forward and a subtract-at-index backward, with no one-hot rows;
    per row the numbers of `logits.cross_entropy(one_hot_rows)` (a zero loss is +0 where that
    gives -0), and the same gradient bits. Stable for logits of 1e4.
    `nn.functional.cross_entropy` runs it for plain labels (no weight, smoothing or ignored
    rows). The labels are copied: changing the caller's array later leaves the graph alone.
    """
    x = logits if isinstance(logits, Tensor) else Tensor(logits)
    if x.ndim == 0:
        raise ValueError("cross_entropy_labels: logits must have a class axis, got shape ()")
    if reduction not in REDUCTIONS:
        raise _bad_reduction("cross_entropy_labels", reduction)
    given = labels.data if isinstance(labels, Tensor) else np.asarray(labels)
    if given.shape != x.shape[:-1]:
        raise ValueError(f"cross_entropy_labels: logits of shape {x.shape} need labels of "
                         f"shape {x.shape[:-1]}, got shape {given.shape}")
    checked = ops.losses.class_labels(given, x.shape[-1])
    if engine.watcher is not None:  # (a compiled step replays the check on its labels)
        engine.watcher.made(checked, ops.losses.class_labels, given, x.shape[-1])
    return apply(ops.cross_entropy_labels, x, labels=checked, reduction=reduction)


def _pieces(tensors, name):
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{name}: needs at least one tensor, got an empty sequence")
    return _tensors(tensors, name)


def concatenate(tensors, axis=0) -> Tensor:
    """Join tensors along an existing axis (axis=None flattens them first); gradients flow back
    to every piece that requires them."""
    tensors = _pieces(tensors, "concatenate")
    if axis is None:
        return concatenate([t.reshape(-1) for t in tensors])
    return apply(ops.concatenate, *tensors, axis=int(axis))


def stack(tensors, axis=0) -> Tensor:
    """Join same-shaped tensors along a new axis."""
    return apply(ops.stack, *_pieces(tensors, "stack"), axis=int(axis))


def split(tensor, indices_or_sections, axis=0) -> list:
    """Split like np.split: into equal sections (an int), or at the given indices. Each piece
    is a slice of `tensor`, so gradients flow back through all of them."""
    tensor = tensor if isinstance(tensor, Tensor) else Tensor(tensor)
    length = tensor.shape[axis]
    if isinstance(indices_or_sections, numbers.Integral):
        sections = int(indices_or_sections)
        if sections < 1 or length % sections:
            raise ValueError(f"split: an axis of length {length} does not split into "
                             f"{sections} equal sections")
        bounds = [length // sections * i for i in range(sections + 1)]
    else:
        bounds = [0, *(int(i) for i in indices_or_sections), length]
    # plain slices between the bounds, as np.split takes them: negative indices count from the
    # end, and a bound below the one before gives an empty piece
    return [tensor[(slice(None),) * (axis % tensor.ndim) + (slice(a, b),)]
            for a, b in zip(bounds[:-1], bounds[1:])]
