"""Layers as compositions of Tensor methods: Linear, the activations, Sequential and MLP.

No layer knows a derivative: each `forward` is the math of the layer written with Tensor
operators, and the engine differentiates it.
"""

from collections.abc import Callable, Iterator, Sequence

import numpy as np

from autograd import Tensor

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


class Identity(Module):
    """Returns its input unchanged."""

    def forward(self, x: Tensor) -> Tensor:
        return x


class Softmax(Module):
    """exp(x) / sum(exp(x)) along `axis` (computed without overflow)."""

    def __init__(self, axis: int = -1):
        self.axis = axis

    def forward(self, x: Tensor) -> Tensor:
        return x.softmax(axis=self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


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

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(*self.layers[index])
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)


ACTIVATIONS = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid}
OUTPUT_ACTIVATIONS = {None: None, **ACTIVATIONS, "softmax": Softmax}


def _check_name(value, valid: dict, what: str) -> None:
    if value not in valid:
        names = ", ".join(repr(v) for v in valid)
        raise ValueError(f"MLP: unknown {what} {value!r}; valid: {names}")


class MLP(Sequential):
    """A multilayer perceptron: Linear layers of widths `sizes`, `activation` between them.

    `MLP([64, 100, 10], activation="tanh")` is Linear(64, 100), Tanh, Linear(100, 10).
    `output_activation` (None, "sigmoid", "tanh", "relu" or "softmax") follows the last layer.
    Each Linear is initialised for the activation after it (He for relu, Xavier otherwise)
    unless `init` is given.
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
            layer_init = init or ("he_uniform" if act == "relu" else "xavier_uniform")
            layers.append(Linear(n_in, n_out, bias, layer_init, rng, dtype))
            if act is not None:
                layers.append(OUTPUT_ACTIVATIONS[act]())
        super().__init__(*layers)

    def extra_repr(self) -> str:
        out = f", output_activation={self.output_activation!r}" if self.output_activation else ""
        return f"sizes={self.sizes}, activation={self.activation!r}{out}"
