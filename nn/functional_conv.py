"""Convolution and pooling as functions, with PyTorch's names and arguments (exported by
nn.functional): conv1d, conv2d, max_pool1d, max_pool2d, avg_pool2d, adaptive_avg_pool2d.

Inputs are (batch, channels, *spatial), or unbatched (channels, *spatial) as PyTorch allows.
Convolution and max pooling are one engine op each (`autograd.convolution`); average pooling is
a convolution with a constant kernel and adaptive average pooling two matrix products, so
neither needs a rule of its own. `where` names the caller (a layer's repr) in errors.
"""

import math

import numpy as np

from autograd import Tensor, no_grad
from autograd.convolution import conv, max_pool


def _batched(x, nd: int, where: str) -> tuple[Tensor, bool]:
    """x with a batch axis (added when it has none), and whether one was added."""
    x = x if isinstance(x, Tensor) else Tensor(x)
    if x.ndim == nd + 1:
        return x.expand_dims(0), True
    if x.ndim != nd + 2:
        raise ValueError(f"{where}: expected input of shape (batch, channels, {nd} spatial "
                         f"axes) or (channels, {nd} spatial axes), got shape {x.shape}")
    return x, False


def _unbatched(y: Tensor, added: bool) -> Tensor:
    return y[0] if added else y


def _conv_nd(nd, x, weight, bias, stride, padding, dilation, groups, where):
    x, added = _batched(x, nd, where)
    if weight.ndim != nd + 2:
        raise ValueError(f"{where}: weight must have shape (out, in/groups, {nd} kernel sizes), "
                         f"got {weight.shape}")
    y = conv(x, weight, stride=stride, padding=padding, dilation=dilation, groups=groups,
             where=where)
    if bias is not None:
        if bias.shape != weight.shape[:1]:
            raise ValueError(f"{where}: bias must have shape ({weight.shape[0]},), one per out "
                             f"channel, got {bias.shape}")
        y = y + bias.reshape((-1,) + (1,) * nd)
    return _unbatched(y, added)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1, where: str = "conv1d") -> Tensor:
    """x (N, C, L), weight (O, C/groups, k) -> (N, O, L_out); padding int, "same" or "valid"."""
    return _conv_nd(1, input, weight, bias, stride, padding, dilation, groups, where)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1, where: str = "conv2d") -> Tensor:
    """x (N, C, H, W), weight (O, C/groups, kh, kw) -> (N, O, H_out, W_out)."""
    return _conv_nd(2, input, weight, bias, stride, padding, dilation, groups, where)


def _plain_mode(ceil_mode, where, return_indices=False):
    if ceil_mode:
        raise NotImplementedError(f"{where}: ceil_mode=True is not supported (only PyTorch's "
                                  "default, ceil_mode=False)")
    if return_indices:
        raise NotImplementedError(f"{where}: return_indices=True is not supported")


def _max_pool_nd(nd, x, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                 where):
    _plain_mode(ceil_mode, where, return_indices)
    x, added = _batched(x, nd, where)
    stride = stride or None  # PyTorch's functional form takes stride=[] for "the kernel size"
    return _unbatched(max_pool(x, kernel_size, stride, padding, dilation, where=where), added)


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False,
               where: str = "max_pool1d") -> Tensor:
    """The maximum of each window of x (N, C, L); padding counts as -inf."""
    return _max_pool_nd(1, input, kernel_size, stride, padding, dilation, ceil_mode,
                        return_indices, where)


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False,
               where: str = "max_pool2d") -> Tensor:
    """The maximum of each window of x (N, C, H, W); the gradient goes to the first maximum."""
    return _max_pool_nd(2, input, kernel_size, stride, padding, dilation, ceil_mode,
                        return_indices, where)


def _pair(value, what, where):
    single = value is None or isinstance(value, (int, np.integer))
    values = (value, value) if single else tuple(value)
    if len(values) != 2:
        raise ValueError(f"{where}: {what} must be an int or 2 ints, got {value!r}")
    return values


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None,
               where: str = "avg_pool2d") -> Tensor:
    """The mean of each window of x (N, C, H, W); zero padding counts in the mean unless
    count_include_pad=False; divisor_override replaces the window size."""
    _plain_mode(ceil_mode, where)
    x, added = _batched(input, 2, where)
    kernel = _pair(kernel_size, "kernel_size", where)
    pads = _pair(padding, "padding", where)
    if any(2 * p > k for p, k in zip(pads, kernel)):
        raise ValueError(f"{where}: padding {pads} must be at most half the kernel {kernel}")
    stride = kernel if stride is None or stride == [] else stride
    n, c, h, w = x.shape
    # Each channel is its own image, convolved with one all-ones kernel: the window sums.
    ones = Tensor(np.ones((1, 1) + kernel, x.dtype))
    sums = conv(x.reshape(n * c, 1, h, w), ones, stride=stride, padding=pads, where=where)
    sums = sums.reshape((n, c) + sums.shape[2:])
    if divisor_override is not None:
        if not isinstance(divisor_override, (int, np.integer)) or divisor_override < 1:
            raise ValueError(f"{where}: divisor_override must be a positive int, got "
                             f"{divisor_override!r}")
        return _unbatched(sums * (1.0 / divisor_override), added)
    if count_include_pad:
        return _unbatched(sums * (1.0 / math.prod(kernel)), added)
    with no_grad():  # how many real cells each window covers: data, not part of the graph
        counts = conv(Tensor(np.ones((1, 1, h, w), x.dtype)), ones, stride=stride, padding=pads)
    return _unbatched(sums * (1 / counts.data[0, 0]), added)


def _averaging(n_in: int, n_out: int, dtype) -> np.ndarray:
    """The (n_out, n_in) matrix of PyTorch's adaptive windows: row i averages cells
    floor(i n_in / n_out) up to ceil((i + 1) n_in / n_out)."""
    rows = np.zeros((n_out, n_in), dtype)
    for i in range(n_out):  # a loop over output sizes to build a constant, not over data
        lo, hi = (i * n_in) // n_out, -((-(i + 1) * n_in) // n_out)
        rows[i, lo:hi] = 1.0 / (hi - lo)
    return rows


def adaptive_avg_pool2d(input: Tensor, output_size, where: str = "adaptive_avg_pool2d"
                        ) -> Tensor:
    """Means over PyTorch's adaptive windows: x (N, C, H, W) -> (N, C, *output_size); None in
    output_size keeps that axis's size."""
    x, added = _batched(input, 2, where)
    h, w = x.shape[-2:]
    size = _pair(output_size, "output_size", where)
    oh, ow = (h if size[0] is None else size[0]), (w if size[1] is None else size[1])
    if not all(isinstance(s, (int, np.integer)) and s >= 1 for s in (oh, ow)):
        raise ValueError(f"{where}: output_size must hold positive ints (or None), got "
                         f"{output_size!r}")
    if (oh, ow) == (1, 1):  # the usual global average pool
        return _unbatched(x.mean(axis=(2, 3), keepdims=True), added)
    y = x @ _averaging(w, ow, x.dtype).T  # (N, C, H, ow)
    y = Tensor(_averaging(h, oh, x.dtype)) @ y  # (N, C, oh, ow)
    return _unbatched(y, added)
