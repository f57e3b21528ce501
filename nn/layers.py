"""Layers as compositions of Tensor methods: Linear, activations, Dropout, Flatten, Sequential, MLP.

No layer knows a derivative: each `forward` is the math of the layer written with Tensor
operators, and the engine differentiates it.
"""

import math
import numbers
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from autograd import Tensor

from .functional_activations import dropout
from .init import get_initializer, get_rng
from .module import Module


def _float_dtype(dtype, where: str) -> np.dtype:
    """`dtype` as a numpy dtype, which must be float32 or float64."""
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise ValueError(f"{where}: dtype must be float32 or float64, got {dt}")
    return dt


class Linear(Module):
    """An affine map `x @ weight + bias`; x: (..., in_features) -> (..., out_features).

    `weight` has shape (in_features, out_features), the way the math is written (PyTorch
    stores the transpose, (out_features, in_features), and computes x @ W.T + b).
    `init` is "xavier_uniform" (default), "xavier_normal", "he_uniform", "he_normal", or a
    callable `init((in_features, out_features), rng) -> array`. The bias starts at zero.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 init: str | Callable = "xavier_uniform", rng: np.random.Generator | None = None,
                 dtype=np.float64):
        for name, n in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
                raise ValueError(f"Linear: {name} must be a positive integer, got {n!r}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        dtype = _float_dtype(dtype, f"Linear({in_features}, {out_features})")
        shape = (self.in_features, self.out_features)
        weight = np.asarray(get_initializer(init)(shape, get_rng(rng)))
        if weight.shape != shape:
            raise ValueError(f"Linear{shape}: init returned shape {weight.shape}, expected {shape}")
        self.weight = Tensor(weight.astype(dtype), requires_grad=True)
        self.bias = Tensor(np.zeros(out_features, dtype), requires_grad=True) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"Linear({self.extra_repr()}): expected input with {self.in_features} features "
                f"(last dim), got shape {x.shape}"
            )
        return x.linear(self.weight, self.bias)  # x @ weight + bias, as one engine node

    def extra_repr(self) -> str:
        bias = "" if self.bias is not None else ", bias=False"
        return f"{self.in_features}, {self.out_features}{bias}"


class Sigmoid(Module):
    """1 / (1 + exp(-x)), elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return x.sigmoid()


class ReLU(Module):
    """max(x, 0), elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return x.relu()


class Tanh(Module):
    """tanh(x), elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return x.tanh()


class LeakyReLU(Module):
    """x where x > 0, else negative_slope * x, elementwise (PyTorch's default slope 0.01)."""

    def __init__(self, negative_slope: float = 0.01):
        if (not isinstance(negative_slope, numbers.Real) or isinstance(negative_slope, bool)
                or not math.isfinite(negative_slope)):
            raise ValueError(f"LeakyReLU: negative_slope must be a finite number, got "
                             f"{negative_slope!r}")
        self.negative_slope = negative_slope

    def forward(self, x: Tensor) -> Tensor:
        return x.leaky_relu(self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Softplus(Module):
    """log(1 + exp(beta x)) / beta, elementwise: a smooth relu, finite for any input.

    PyTorch switches to x above beta x > threshold (20); the exact form here differs from
    that by less than exp(-20) relative, so there is no threshold argument.
    """

    def __init__(self, beta: float = 1.0):
        if not isinstance(beta, numbers.Real) or not 0 < beta < math.inf:
            raise ValueError(f"Softplus: beta must be a finite number > 0, got {beta!r}")
        self.beta = beta

    def forward(self, x: Tensor) -> Tensor:
        return x.softplus() if self.beta == 1 else (x * self.beta).softplus() / self.beta

    def extra_repr(self) -> str:
        return f"beta={self.beta}"


class GELU(Module):
    """x * Phi(x), the Gaussian error linear unit (Phi the standard normal CDF), elementwise.

    Exact by default, 0.5 x (1 + erf(x / sqrt 2)), as PyTorch's GELU(); approximate="tanh" is
    0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))), PyTorch's GELU(approximate="tanh"),
    within 5e-4 of it.
    """

    def __init__(self, approximate: str = "none"):
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' (exact) or 'tanh', got "
                             f"{approximate!r}")
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return x.gelu(self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Identity(Module):
    """Returns its input unchanged."""

    def forward(self, x: Tensor) -> Tensor:
        return x


def _either(layer, name, value, other_name, other, default):
    """One of numpy's word and PyTorch's for the same argument, or the default."""
    if value is not None and other is not None:
        raise TypeError(f"{layer}: got both {name}={value} and {other_name}={other}; pass one")
    return default if value is None and other is None else value if value is not None else other


class Softmax(Module):
    """exp(x) / sum(exp(x)) along `axis` (or PyTorch's `dim`), computed without overflow."""

    def __init__(self, axis: int | None = None, *, dim: int | None = None):
        self.axis = _either("Softmax", "axis", axis, "dim", dim, -1)

    def forward(self, x: Tensor) -> Tensor:
        return x.softmax(axis=self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class LogSoftmax(Module):
    """x - log(sum(exp(x))) along `dim` (PyTorch's word) or `axis` (numpy's), -1 by default;
    finite for logits of 1e4. Feeds `NLLLoss`."""

    def __init__(self, dim: int | None = None, *, axis: int | None = None):
        self.axis = _either("LogSoftmax", "dim", dim, "axis", axis, -1)

    def forward(self, x: Tensor) -> Tensor:
        return x.log_softmax(axis=self.axis)

    def extra_repr(self) -> str:
        return f"dim={self.axis}"


class Dropout(Module):
    """Inverted dropout: in training, zero each element with probability `p` and scale the
    others by 1 / (1 - p), so the expected output is the input; the identity in `eval()`.

    The mask is drawn from `rng`, or from the default generator at each call (`nn.manual_seed`).
    """

    def __init__(self, p: float = 0.5, rng: np.random.Generator | None = None):
        if not isinstance(p, numbers.Real) or isinstance(p, bool) or not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p!r}")
        self.p = float(p)
        self.rng = None if rng is None else get_rng(rng)  # None: the default, looked up per call

    def forward(self, x: Tensor) -> Tensor:
        return dropout(x, self.p, self.training, rng=self.rng)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Flatten(Module):
    """Merge axes `start_axis`..`end_axis` into one: (n, 2, 3) -> (n, 6) by default.

    PyTorch's nn.Flatten(start_dim=1, end_dim=-1): its keywords are accepted too.
    """

    def __init__(self, start_axis: int | None = None, end_axis: int | None = None, *,
                 start_dim: int | None = None, end_dim: int | None = None):
        self.start_axis = _either("Flatten", "start_axis", start_axis, "start_dim", start_dim, 1)
        self.end_axis = _either("Flatten", "end_axis", end_axis, "end_dim", end_dim, -1)

    def forward(self, x: Tensor) -> Tensor:
        shape = x.shape
        start, end = self.start_axis, self.end_axis
        if not (-len(shape) <= start < len(shape) and -len(shape) <= end < len(shape)):
            raise ValueError(f"Flatten({self.extra_repr()}): axes out of range for an input of "
                             f"shape {shape}")
        start, end = start % len(shape), end % len(shape)
        if start > end:
            raise ValueError(f"Flatten({self.extra_repr()}): start_axis comes after end_axis "
                             f"for an input of shape {shape}")
        return x.reshape(shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:])

    def extra_repr(self) -> str:
        return f"start_axis={self.start_axis}, end_axis={self.end_axis}"


class Sequential(Module):
    """Modules applied in order; indexable (a slice gives a Sequential), sized and iterable."""

    def __init__(self, *modules: Module):
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential: item {i} is a {type(m).__name__}, not a Module")
        self.layers = list(modules)

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers:
            x = layer(x)
        return x

    def append(self, module: Module) -> "Sequential":
        """Add `module` at the end; returns self (as PyTorch's Sequential.append)."""
        if not isinstance(module, Module):
            raise TypeError(f"Sequential.append: got a {type(module).__name__}, not a Module")
        self.layers.append(module)
        return self

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(*self.layers[index])
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)


ACTIVATIONS = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid, "leaky_relu": LeakyReLU,
               "gelu": GELU, "softplus": Softplus}
HE_INIT = ("relu", "leaky_relu")  # activations that zero (or nearly) half their inputs
OUTPUT_ACTIVATIONS = {None: None, **ACTIVATIONS, "softmax": Softmax}


def _check_name(value, valid: dict, what: str) -> None:
    if value not in valid:
        names = ", ".join(repr(v) for v in valid)
        raise ValueError(f"MLP: unknown {what} {value!r}; valid: {names}")


class MLP(Sequential):
    """A multilayer perceptron: Linear layers of widths `sizes`, `activation` between them.

    `MLP([64, 100, 10], activation="tanh")` is Linear(64, 100), Tanh, Linear(100, 10).
    `activation`: "relu", "tanh", "sigmoid", "leaky_relu", "gelu" or "softplus" (each with its
    layer's defaults). `output_activation` (None, one of those, or "softmax") follows the last
    layer. Each Linear is initialised for the activation after it (He for relu and leaky_relu,
    Xavier otherwise) unless `init` is given.
    """

    def __init__(self, sizes: Sequence[int], activation: str = "relu",
                 output_activation: str | None = None, init: str | Callable | None = None,
                 bias: bool = True, rng: np.random.Generator | None = None, dtype=np.float64):
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(f"MLP: sizes must list at least two widths (in, out), got {sizes}")
        _check_name(activation, ACTIVATIONS, "activation")
        _check_name(output_activation, OUTPUT_ACTIVATIONS, "output_activation")
        self.sizes = sizes
        self.activation = activation
        self.output_activation = output_activation
        rng = get_rng(rng)
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            act = activation if i < len(sizes) - 2 else output_activation
            layer_init = init or ("he_uniform" if act in HE_INIT else "xavier_uniform")
            layers.append(Linear(n_in, n_out, bias, layer_init, rng, dtype))
            if act is not None:
                layers.append(OUTPUT_ACTIVATIONS[act]())
        super().__init__(*layers)

    def extra_repr(self) -> str:
        out = f", output_activation={self.output_activation!r}" if self.output_activation else ""
        return f"sizes={self.sizes}, activation={self.activation!r}{out}"
