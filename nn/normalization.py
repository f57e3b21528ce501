"""Normalisation layers: BatchNorm1d, BatchNorm2d and LayerNorm, as PyTorch defines them.

Each normalises with biased statistics, (x - mean) / sqrt(var + eps), then scales and shifts by
learnt per-feature parameters. Batch norm also keeps running statistics (buffers, saved with the
parameters), updated in place without a graph while training and used in `eval()`.
"""

import numbers

import numpy as np

from autograd import Tensor, no_grad

from .module import Module


def _normalize(x: Tensor, axes: tuple, eps: float) -> tuple[Tensor, Tensor, Tensor]:
    """(x - mean) / sqrt(var + eps) over `axes`, with the biased mean and variance it used."""
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    var = (centered * centered).mean(axis=axes, keepdims=True)
    return centered * (var + eps) ** -0.5, mean, var


def _per_channel(t: Tensor | np.ndarray, ndim: int):
    """A (C,) vector shaped to broadcast along axis 1 of an ndim input: (C, 1, ..., 1)."""
    return t.reshape((-1,) + (1,) * (ndim - 2))


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float | None = 0.1, eps: float = 1e-5,
               num_batches_tracked: Tensor | None = None) -> Tensor:
    """Batch normalisation over every axis but 1 (channels); input: (N, C, ...) -> same shape.

    `training=True` normalises with the batch's statistics and, when the running Tensors are
    given, updates them in place: new = (1 - momentum) * old + momentum * batch statistic, with
    the unbiased variance (momentum=None: the cumulative average over `num_batches_tracked`).
    `training=False` normalises with `running_mean` and `running_var`.
    """
    x = input
    if x.ndim < 2:
        raise ValueError(f"batch_norm: input must have a channel axis (N, C, ...), got shape "
                         f"{x.shape}")
    if training and momentum is None and running_mean is not None and num_batches_tracked is None:
        raise ValueError("batch_norm: momentum=None (a cumulative average) needs "
                         "num_batches_tracked")
    axes = (0,) + tuple(range(2, x.ndim))
    if training:
        count = x.size // x.shape[1] if x.shape[1] else 0
        if count <= 1:
            raise ValueError(f"batch_norm: training needs more than 1 value per channel, got "
                             f"input shape {x.shape}")
        y, mean, var = _normalize(x, axes, eps)
        if running_mean is not None:
            _update_running(running_mean, running_var, num_batches_tracked, mean.data,
                            var.data * (count / (count - 1)), momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: training=False needs running_mean and running_var")
        # Tensor operations on the buffers (which need no gradient, so nothing is recorded for
        # backward): an exported graph then reads the buffers rather than copies of them.
        mean = _per_channel(running_mean, x.ndim)
        scale = _per_channel((running_var + eps) ** -0.5, x.ndim)
        if mean.dtype != x.dtype:
            mean, scale = mean.astype(x.dtype), scale.astype(x.dtype)
        y = (x - mean) * scale
    if weight is not None:
        y = y * _per_channel(weight, x.ndim)
    if bias is not None:
        y = y + _per_channel(bias, x.ndim)
    return y


def _update_running(running_mean: Tensor, running_var: Tensor, num_batches_tracked, mean,
                    unbiased_var, momentum) -> None:
    """Move the running statistics towards this batch's, in place and unrecorded."""
    with no_grad():
        if num_batches_tracked is not None:
            num_batches_tracked += 1.0
        if momentum is None:  # the cumulative average: 1/n of the way to the n-th batch
            momentum = 1.0 / float(num_batches_tracked.data)
        for running, batch in ((running_mean, mean), (running_var, unbiased_var)):
            running *= 1.0 - momentum
            running += batch.reshape(-1) * momentum


def layer_norm(input: Tensor, normalized_shape: tuple, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the last len(normalized_shape) axes of each sample, then scale and shift."""
    shape = tuple(normalized_shape)
    if not shape or len(shape) > input.ndim or input.shape[input.ndim - len(shape):] != shape:
        raise ValueError(f"layer_norm: input shape {input.shape} does not end with "
                         f"normalized_shape {shape}")
    axes = tuple(range(input.ndim - len(shape), input.ndim))
    y = _normalize(input, axes, eps)[0]
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def _check_positive(value, what: str, layer: str, allow_zero: bool = False) -> None:
    if (not isinstance(value, numbers.Real) or isinstance(value, bool) or not np.isfinite(value)
            or value < 0 or (value == 0 and not allow_zero)):
        raise ValueError(f"{layer}: {what} must be a positive number, got {value!r}")


class _BatchNorm(Module):
    """Batch normalisation over every axis but the channels (axis 1); see `batch_norm`."""

    _input_ndims: tuple = ()  # the input ranks a subclass takes

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, dtype=np.float64):
        name = type(self).__name__
        if (not isinstance(num_features, (int, np.integer)) or isinstance(num_features, bool)
                or num_features < 1):
            raise ValueError(f"{name}: num_features must be a positive integer, got "
                             f"{num_features!r}")
        _check_positive(eps, "eps", name)
        if momentum is not None:
            _check_positive(momentum, "momentum", name, allow_zero=True)
            if momentum > 1:
                raise ValueError(f"{name}: momentum must lie in [0, 1] (or be None), got "
                                 f"{momentum!r}")
        dt = np.dtype(dtype)
        if dt not in (np.float32, np.float64):
            raise ValueError(f"{name}: dtype must be float32 or float64, got {dt}")
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        n = self.num_features
        self.weight = Tensor(np.ones(n, dt), requires_grad=True) if affine else None
        self.bias = Tensor(np.zeros(n, dt), requires_grad=True) if affine else None
        tracked = self.track_running_stats
        self.register_buffer("running_mean", Tensor(np.zeros(n, dt)) if tracked else None)
        self.register_buffer("running_var", Tensor(np.ones(n, dt)) if tracked else None)
        # A count, kept as a float Tensor (Tensors hold floats); exact below 2**24 in float32.
        self.register_buffer("num_batches_tracked", Tensor(np.zeros((), dt)) if tracked else None)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim not in self._input_ndims or x.shape[1] != self.num_features:
            ranks = " or ".join(f"{n}-d" for n in self._input_ndims)
            raise ValueError(f"{type(self).__name__}({self.num_features}): expected a {ranks} "
                             f"input with {self.num_features} channels on axis 1, got shape "
                             f"{x.shape}")
        use_batch = self.training or not self.track_running_stats
        if use_batch and x.size // x.shape[1] <= 1:
            raise ValueError(f"{type(self).__name__}({self.num_features}): training needs more "
                             f"than 1 value per channel, got input shape {x.shape}")
        update = self.training and self.track_running_stats
        return batch_norm(x, self.running_mean if update or not use_batch else None,
                          self.running_var, self.weight, self.bias, use_batch, self.momentum,
                          self.eps, self.num_batches_tracked)

    def extra_repr(self) -> str:
        extra = "" if self.affine else ", affine=False"
        extra += "" if self.track_running_stats else ", track_running_stats=False"
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}{extra}"


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs per channel C (PyTorch's BatchNorm1d).

    `running_mean`, `running_var` and `num_batches_tracked` are buffers (in `state_dict`);
    `num_batches_tracked` is a float Tensor here, an int64 one in PyTorch.
    """

    _input_ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs per channel C (PyTorch's BatchNorm2d)."""

    _input_ndims = (4,)


class LayerNorm(Module):
    """Normalise each sample over its last axes, `normalized_shape` (PyTorch's LayerNorm).

    x: (..., *normalized_shape) -> same shape. `weight` (ones) and `bias` (zeros) have shape
    `normalized_shape` when `elementwise_affine`; `bias=False` leaves the shift out.
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, dtype=np.float64):
        shape = ((normalized_shape,) if isinstance(normalized_shape, numbers.Integral)
                 else tuple(normalized_shape))
        if not shape or not all(isinstance(n, numbers.Integral) and not isinstance(n, bool)
                                and n >= 1 for n in shape):
            raise ValueError(f"LayerNorm: normalized_shape must be positive integers, got "
                             f"{normalized_shape!r}")
        _check_positive(eps, "eps", "LayerNorm")
        dt = np.dtype(dtype)
        if dt not in (np.float32, np.float64):
            raise ValueError(f"LayerNorm: dtype must be float32 or float64, got {dt}")
        self.normalized_shape = tuple(int(n) for n in shape)
        self.eps, self.elementwise_affine = float(eps), bool(elementwise_affine)
        affine = self.elementwise_affine
        self.weight = Tensor(np.ones(self.normalized_shape, dt), requires_grad=True) \
            if affine else None
        self.bias = Tensor(np.zeros(self.normalized_shape, dt), requires_grad=True) \
            if affine and bias else None

    def forward(self, x: Tensor) -> Tensor:
        shape = self.normalized_shape
        if x.ndim < len(shape) or x.shape[x.ndim - len(shape):] != shape:
            raise ValueError(f"LayerNorm({shape}): input shape {x.shape} does not end with "
                             f"normalized_shape {shape}")
        return layer_norm(x, shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        affine = "" if self.elementwise_affine else ", elementwise_affine=False"
        return f"{self.normalized_shape}, eps={self.eps}{affine}"
