"""Activations, linear and dropout as functions, with PyTorch's names and signatures.

`nn.functional.relu(x)`, `softmax(x, dim=1)`, `linear(x, weight, bias)`, `dropout(x, p)`: the
layers of nn/layers.py call these or the Tensor methods they wrap. Each is a Tensor method or
two; none knows a derivative. `inplace=True` raises: npgrad has no in-place activations.
"""

import numbers

import numpy as np

from autograd import Tensor

from .init import get_rng


def _as_tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _no_inplace(name: str, inplace: bool) -> None:
    if inplace:
        raise ValueError(f"{name}: inplace=True is not available (npgrad's activations make a "
                         f"new Tensor); write x = F.{name}(x)")


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0), elementwise."""
    _no_inplace("relu", inplace)
    return _as_tensor(input).relu()


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + exp(-x)), elementwise."""
    return _as_tensor(input).sigmoid()


def tanh(input: Tensor) -> Tensor:
    """tanh(x), elementwise."""
    return _as_tensor(input).tanh()


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x where x > 0, else negative_slope * x, elementwise."""
    _no_inplace("leaky_relu", inplace)
    return _as_tensor(input).leaky_relu(negative_slope)


def gelu(input: Tensor, approximate: str | None = None) -> Tensor:
    """The Gaussian error linear unit, elementwise, as `nn.GELU(approximate)` computes it
    (its default when `approximate` is not given)."""
    from .layers import GELU  # the layer holds the one definition (and layers imports this)

    layer = GELU() if approximate is None else GELU(approximate)
    return layer.forward(_as_tensor(input))


def _dim(name: str, dim, axis):
    """PyTorch's `dim=` or numpy's `axis=` (one of them, not both)."""
    if dim is not None and axis is not None:
        raise TypeError(f"{name}: got both dim={dim} and axis={axis}; pass one")
    dim = dim if dim is not None else axis
    if dim is None:
        # PyTorch guesses an axis from the number of dimensions (with a warning): ask instead.
        raise TypeError(f"{name}: pass the axis to normalise over, e.g. {name}(x, dim=-1)")
    return dim


def softmax(input: Tensor, dim: int | None = None, dtype=None, *, axis: int | None = None):
    """exp(x) / sum(exp(x)) along `dim` (or numpy's `axis`), computed without overflow.

    `dtype` casts the input first, as in PyTorch."""
    x = _as_tensor(input)
    x = x if dtype is None else x.astype(dtype)
    return x.softmax(axis=_dim("softmax", dim, axis))


def log_softmax(input: Tensor, dim: int | None = None, dtype=None, *, axis: int | None = None):
    """x - log(sum(exp(x))) along `dim` (or numpy's `axis`), finite for logits of 1e4."""
    x = _as_tensor(input)
    x = x if dtype is None else x.astype(dtype)
    return x.log_softmax(axis=_dim("log_softmax", dim, axis))


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight.T + bias, with PyTorch's weight layout (out_features, in_features).

    npgrad's `nn.Linear` stores the transpose, (in_features, out_features): for one of its
    layers write `F.linear(x, layer.weight.T, layer.bias)`, or `x.linear(weight, bias)`.
    x: (..., in_features) -> (..., out_features).
    """
    x, w = _as_tensor(input), _as_tensor(weight)
    if w.ndim != 2 or x.ndim == 0 or w.shape[1] != x.shape[-1]:
        hint = (" (it looks like npgrad's (in, out) layout: pass weight.T)"
                if w.ndim == 2 and x.ndim and w.shape[0] == x.shape[-1] else "")
        raise ValueError(f"linear: weight must be (out_features, in_features) = (?, "
                         f"{x.shape[-1] if x.ndim else '?'}) for input of shape {x.shape}, got "
                         f"{w.shape}{hint}")
    return x.linear(w.T, bias)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False, *,
            rng: np.random.Generator | None = None) -> Tensor:
    """Inverted dropout: when `training`, zero each element with probability `p` and scale the
    others by 1 / (1 - p); the input itself otherwise. The mask comes from `rng`, or from the
    default generator (`nn.manual_seed`)."""
    _no_inplace("dropout", inplace)
    if not isinstance(p, numbers.Real) or isinstance(p, bool) or not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p!r}")
    x = _as_tensor(input)
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0.0  # every element dropped; the gradient is zero too
    keep = get_rng(rng).random(x.shape) >= p
    mask = keep.astype(x.dtype)
    mask *= 1 / (1 - p)
    return x * mask
