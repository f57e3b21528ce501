"""A bridge to optimizers that want one flat float64 vector: scipy.optimize.minimize and friends.

`value_and_grad(model, loss_fn, X, y)` is a function theta -> (loss, gradient) for
`minimize(f, parameters_to_vector(model), jac=True)`. Gradients come from `loss.backward()`:
nothing here knows a derivative. Gradient clipping (nn/clip_grad.py) is re-exported here, where
PyTorch users look for it: `nn.utils.clip_grad_norm_`, `nn.utils.clip_grad_value_`.
"""

from collections.abc import Callable, Iterable

import numpy as np

from autograd import Tensor

from .clip_grad import clip_grad_norm_, clip_grad_value_
from .module import Module

__all__ = ["parameters_to_vector", "vector_to_parameters", "value_and_grad",
           "clip_grad_norm_", "clip_grad_value_"]


def _parameters(params: Module | Iterable[Tensor]) -> list[Tensor]:
    """The parameters of a Module (named_parameters() order), or a list of Tensors as given."""
    return params.parameters() if isinstance(params, Module) else list(params)


def parameters_to_vector(params: Module | Iterable[Tensor]) -> np.ndarray:
    """A flat float64 copy of all parameters, in `named_parameters()` order."""
    arrays = [p.data.ravel() for p in _parameters(params)]
    return np.concatenate(arrays).astype(np.float64) if arrays else np.zeros(0)


def vector_to_parameters(vector, params: Module | Iterable[Tensor]) -> None:
    """Write a flat vector (as made by `parameters_to_vector`) back into the parameters in place.

    Each parameter keeps its shape and dtype. A vector of the wrong length raises a ValueError.
    """
    params = _parameters(params)
    vector = np.asarray(vector, dtype=np.float64)
    expected = sum(p.size for p in params)
    if vector.ndim != 1 or vector.size != expected:
        raise ValueError(f"vector_to_parameters: expected a 1-D vector of {expected} values (the "
                         f"parameters' total size), got shape {vector.shape}")
    start = 0
    for p in params:
        p.data[...] = vector[start:start + p.size].reshape(p.shape)
        p.mark_modified()
        start += p.size


def value_and_grad(model: Module, loss_fn: Callable, X, y) -> Callable:
    """A function theta -> (loss: float, gradient: float64 vector) of `loss_fn(model(X), y)`.

    Each call writes theta into the model's parameters (they keep the last theta evaluated, so
    after `res = minimize(...)` call `vector_to_parameters(res.x, model)`), runs one forward and
    one backward pass, and reads the gradients in `parameters_to_vector` order.
    """
    params = _parameters(model)
    X = Tensor(np.asarray(X, dtype=np.float64))

    def f(theta) -> tuple[float, np.ndarray]:
        vector_to_parameters(theta, params)
        for p in params:
            p.grad = None  # backward accumulates: start every evaluation afresh
        loss = loss_fn(model(X), y)
        loss.backward()
        grads = [np.zeros(p.size) if p.grad is None else p.grad.ravel() for p in params]
        return loss.item(), (np.concatenate(grads).astype(np.float64) if grads else np.zeros(0))

    return f
