"""Convolution and max pooling on Tensors: PyTorch's arguments checked and normalised, then one
primitive each (`ops.conv`, `ops.max_pool`). Inputs are (batch, channels, *spatial).

Every error names the caller (`where`, e.g. the layer's repr) and the shapes involved, since a
kernel that does not fit or channels that do not divide are shape mistakes made far away.
"""

import numbers

from . import ops
from .ops.conv import out_size
from .tensor import Tensor, apply


def _tuple(value, nd, what, where, minimum=1):
    """An int or a sequence of nd ints, each >= minimum, as a tuple of nd ints."""
    values = (value,) * nd if isinstance(value, numbers.Integral) else tuple(value)
    if len(values) != nd or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
                                    and v >= minimum for v in values):
        raise ValueError(f"{where}: {what} must be an int >= {minimum} or {nd} of them, "
                         f"got {value!r}")
    return tuple(int(v) for v in values)


def conv_padding(padding, kernel, stride, dilation, where):
    """(before, after) per spatial axis from an int, a tuple, "valid" or "same".

    "same" keeps the length at stride 1; an odd total goes on the after side, as in PyTorch.
    """
    nd = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding != "same":
            raise ValueError(f"{where}: padding must be 'valid', 'same', an int or {nd} ints, "
                             f"got {padding!r}")
        if any(s != 1 for s in stride):
            raise ValueError(f"{where}: padding='same' needs stride 1, got stride {stride}")
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    return tuple((p, p) for p in _tuple(padding, nd, "padding", where, minimum=0))


def _check_input(x, nd, where):
    if x.ndim != nd + 2:
        raise ValueError(f"{where}: expected input of shape (batch, channels, {nd} spatial "
                         f"axes), {nd + 2} dims, got shape {x.shape}")


def _out_shape(x, kernel, stride, padding, dilation, where):
    out = tuple(out_size(n, k, s, p, d)
                for n, k, s, p, d in zip(x.shape[2:], kernel, stride, padding, dilation))
    if any(n < 1 for n in out):
        spans = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
        padded = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], padding))
        raise ValueError(f"{where}: kernel {kernel} (dilated: {spans}) is larger than the padded "
                         f"input {padded} (input shape {x.shape}, padding {padding})")
    return out


def conv(x: Tensor, weight: Tensor, stride=1, padding=0, dilation=1, groups: int = 1,
         where: str = "conv") -> Tensor:
    """Cross-correlation as PyTorch's convNd without bias: x (N, C, *S), weight (O, C/groups,
    *kernel) -> (N, O, *out). padding: an int, a tuple, "valid" or "same"."""
    nd = weight.ndim - 2
    if nd < 1:
        raise ValueError(f"{where}: weight must have shape (out, in/groups, *kernel), got "
                         f"{weight.shape}")
    _check_input(x, nd, where)
    kernel = weight.shape[2:]
    stride = _tuple(stride, nd, "stride", where)
    dilation = _tuple(dilation, nd, "dilation", where)
    padding = conv_padding(padding, kernel, stride, dilation, where)
    if not isinstance(groups, numbers.Integral) or groups < 1:
        raise ValueError(f"{where}: groups must be a positive int, got {groups!r}")
    c, o = x.shape[1], weight.shape[0]
    if c % groups or o % groups:
        raise ValueError(f"{where}: in channels {c} and out channels {o} must both divide into "
                         f"groups={groups} (input shape {x.shape}, weight shape {weight.shape})")
    if weight.shape[1] != c // groups:
        raise ValueError(f"{where}: input shape {x.shape} has {c} channels, but weight shape "
                         f"{weight.shape} expects {weight.shape[1] * groups} "
                         f"({weight.shape[1]} per group, groups={groups})")
    _out_shape(x, kernel, stride, padding, dilation, where)
    return apply(ops.conv, x, weight, stride=stride, padding=padding, dilation=dilation,
                 groups=int(groups))


def max_pool(x: Tensor, kernel_size, stride=None, padding=0, dilation=1,
             where: str = "max_pool") -> Tensor:
    """The maximum of each window, as PyTorch's max_poolNd (ceil_mode=False): x (N, C, *S).

    stride defaults to kernel_size; padding (at most half the kernel) counts as -inf.
    The gradient goes to the first maximum of each window, as in PyTorch.
    """
    nd = x.ndim - 2
    if nd < 1:
        raise ValueError(f"{where}: expected input of shape (batch, channels, *spatial), got "
                         f"shape {x.shape}")
    kernel = _tuple(kernel_size, nd, "kernel_size", where)
    stride = kernel if stride is None else _tuple(stride, nd, "stride", where)
    dilation = _tuple(dilation, nd, "dilation", where)
    pads = _tuple(padding, nd, "padding", where, minimum=0)
    if any(p > k // 2 for p, k in zip(pads, kernel)):  # PyTorch's rule (dilation aside)
        raise ValueError(f"{where}: padding {pads} must be at most half the kernel {kernel}")
    padding = tuple((p, p) for p in pads)
    _out_shape(x, kernel, stride, padding, dilation, where)
    return apply(ops.max_pool, x, kernel=kernel, stride=stride, padding=padding,
                 dilation=dilation)
