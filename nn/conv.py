"""Convolution and pooling layers with PyTorch's names, arguments, shapes and initialisation:
Conv1d, Conv2d, MaxPool1d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d.

Inputs are (batch, channels, *spatial) (NCL, NCHW) or unbatched. Weights have PyTorch's shape
(out_channels, in_channels / groups, *kernel_size) and the bias (out_channels,); both start
U(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's default, drawn from npgrad's generator.
Only padding_mode="zeros" exists. Each forward is a call of `nn.functional`'s form.
"""

import math
import numbers

import numpy as np

from autograd import Tensor

from . import functional_conv as F
from .init import get_rng
from .layers import _float_dtype
from .module import Module


def _sizes(value, nd: int, what: str, where: str, minimum: int = 1) -> tuple[int, ...]:
    values = (value,) * nd if isinstance(value, numbers.Integral) else tuple(value)
    if len(values) != nd or not all(isinstance(v, numbers.Integral) and v >= minimum
                                    for v in values):
        raise ValueError(f"{where}: {what} must be an int >= {minimum} or {nd} of them, "
                         f"got {value!r}")
    return tuple(int(v) for v in values)


class _ConvNd(Module):
    nd = 0
    function = None

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 rng: np.random.Generator | None = None, dtype=np.float64):
        name = type(self).__name__
        where = f"{name}({in_channels}, {out_channels}, kernel_size={kernel_size})"
        for what, n in (("in_channels", in_channels), ("out_channels", out_channels),
                        ("groups", groups)):
            if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1:
                raise ValueError(f"{where}: {what} must be a positive int, got {n!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{where}: in_channels {in_channels} and out_channels "
                             f"{out_channels} must both divide into groups={groups}")
        if padding_mode != "zeros":
            raise NotImplementedError(f"{where}: only padding_mode='zeros' is supported, got "
                                      f"{padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _sizes(kernel_size, self.nd, "kernel_size", where)
        self.stride = _sizes(stride, self.nd, "stride", where)
        self.dilation = _sizes(dilation, self.nd, "dilation", where)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{where}: padding must be 'same', 'valid' or ints, got "
                                 f"{padding!r}")
            if padding == "same" and self.stride != (1,) * self.nd:
                raise ValueError(f"{where}: padding='same' needs stride 1, got {self.stride}")
            self.padding = padding
        else:
            self.padding = _sizes(padding, self.nd, "padding", where, minimum=0)
        self.padding_mode = padding_mode
        dtype = _float_dtype(dtype, where)
        shape = (out_channels, in_channels // groups) + self.kernel_size
        # PyTorch's default: kaiming_uniform(a=sqrt(5)) for the weight, which is
        # U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same bound for the bias.
        bound = 1 / math.sqrt(math.prod(shape[1:]))
        rng = get_rng(rng)
        self.weight = Tensor(rng.uniform(-bound, bound, shape).astype(dtype), requires_grad=True)
        self.bias = (Tensor(rng.uniform(-bound, bound, out_channels).astype(dtype),
                            requires_grad=True) if bias else None)

    def forward(self, x: Tensor) -> Tensor:
        return type(self).function(x, self.weight, self.bias, self.stride, self.padding,
                                   self.dilation, self.groups,
                                   where=f"{type(self).__name__}({self.extra_repr()})")

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
        text += f", stride={self.stride}" if self.stride != (1,) * self.nd else ""
        text += f", padding={self.padding!r}" if self.padding not in ((0,) * self.nd,
                                                                     "valid") else ""
        text += f", dilation={self.dilation}" if self.dilation != (1,) * self.nd else ""
        text += f", groups={self.groups}" if self.groups != 1 else ""
        return text + (", bias=False" if self.bias is None else "")


class Conv1d(_ConvNd):
    """1-D cross-correlation: x (N, C_in, L) -> (N, C_out, L_out), weight (C_out, C_in/groups,
    k). padding: int, "same" (stride 1) or "valid"."""

    nd = 1
    function = staticmethod(F.conv1d)


class Conv2d(_ConvNd):
    """2-D cross-correlation: x (N, C_in, H, W) -> (N, C_out, H_out, W_out), weight
    (C_out, C_in/groups, kh, kw). padding: int, pair, "same" (stride 1) or "valid"."""

    nd = 2
    function = staticmethod(F.conv2d)


class _MaxPoolNd(Module):
    nd = 0
    function = None

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False):
        where = f"{type(self).__name__}(kernel_size={kernel_size})"
        if ceil_mode or return_indices:
            raise NotImplementedError(f"{where}: ceil_mode=True and return_indices=True are "
                                      "not supported")
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        _sizes(kernel_size, self.nd, "kernel_size", where)
        _sizes(self.stride, self.nd, "stride", where)
        _sizes(dilation, self.nd, "dilation", where)
        _sizes(padding, self.nd, "padding", where, minimum=0)

    def forward(self, x: Tensor) -> Tensor:
        return type(self).function(x, self.kernel_size, self.stride, self.padding,
                                   self.dilation,
                                   where=f"{type(self).__name__}({self.extra_repr()})")

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}")


class MaxPool1d(_MaxPoolNd):
    """The maximum of each window: x (N, C, L) -> (N, C, L_out); padding counts as -inf."""

    nd = 1
    function = staticmethod(F.max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """The maximum of each window: x (N, C, H, W) -> (N, C, H_out, W_out); the gradient goes
    to each window's first maximum, as in PyTorch."""

    nd = 2
    function = staticmethod(F.max_pool2d)


class AvgPool2d(Module):
    """The mean of each window: x (N, C, H, W) -> (N, C, H_out, W_out); zero padding counts in
    the mean (count_include_pad=True, PyTorch's default) unless told otherwise."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None):
        where = f"AvgPool2d(kernel_size={kernel_size})"
        if ceil_mode:
            raise NotImplementedError(f"{where}: ceil_mode=True is not supported")
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override
        _sizes(kernel_size, 2, "kernel_size", where)
        _sizes(self.stride, 2, "stride", where)
        _sizes(padding, 2, "padding", where, minimum=0)

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding,
                            count_include_pad=self.count_include_pad,
                            divisor_override=self.divisor_override,
                            where=f"AvgPool2d({self.extra_repr()})")

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Means over PyTorch's adaptive windows: x (N, C, H, W) -> (N, C, *output_size); (1, 1)
    is the global average pool. None keeps an axis's size."""

    def __init__(self, output_size):
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(x, self.output_size,
                                     where=f"AdaptiveAvgPool2d({self.extra_repr()})")

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
