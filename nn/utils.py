"""A bridge to optimizers that want one flat float64 vector: scipy.optimize.minimize and friends.

`value_and_grad(model, loss_fn, X, y)` is a function theta -> (loss, gradient) for
`minimize(f, parameters_to_vector(model), jac=True)`, and `hessian_vector_product` gives the
`hessp=` of Newton-CG and trust-ncg. Gradients come from `loss.backward()` and `autograd.grad`:
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


# ---------------------------------------------------------------- second order (issue 11)
def hessian_vector_product(model: Module, loss_fn: Callable, X, y) -> Callable:
    """A function (theta, p) -> H(theta) @ p, the Hessian of `loss_fn(model(X), y)` in the flat
    parameters times a vector: scipy's `hessp`, next to `value_and_grad`'s `jac=True`:

        minimize(value_and_grad(model, loss_fn, X, y), theta0, jac=True, method="trust-ncg",
                 hessp=hessian_vector_product(model, loss_fn, X, y))

    Each call writes theta into the parameters, runs one forward pass, takes the gradient with
    `autograd.grad(..., create_graph=True)` and differentiates <gradient, p> through that
    recorded backward pass: the Hessian is never formed, and no `.grad` changes. Returns a
    float64 vector in `parameters_to_vector` order; parameters the loss does not use get zeros.
    """
    from autograd import grad  # imported here to keep this addition in one block

    params = _parameters(model)
    size = sum(q.size for q in params)
    X = Tensor(np.asarray(X, dtype=np.float64))

    def hessp(theta, p) -> np.ndarray:
        p = np.asarray(p, dtype=np.float64)
        if p.shape != (size,):
            raise ValueError(f"hessian_vector_product: p must be a 1-D vector of {size} values "
                             f"(the parameters' total size), got shape {p.shape}")
        vector_to_parameters(theta, params)
        loss = loss_fn(model(X), y)
        products = [None] * len(params)
        if loss.requires_grad:
            grads = grad(loss, params, create_graph=True, allow_unused=True)
            pieces, start = [], 0
            for q, g in zip(params, grads):
                if g is not None:
                    pieces.append((g * p[start:start + q.size].reshape(q.shape)).sum())
                start += q.size
            dot = sum(pieces[1:], pieces[0]) if pieces else None
            if dot is not None and dot.requires_grad:  # else the gradient is constant: H = 0
                products = grad(dot, params, allow_unused=True)
        flat = [np.zeros(q.size) if h is None else h.data.ravel()
                for q, h in zip(params, products)]
        return np.concatenate(flat).astype(np.float64) if flat else np.zeros(0)

    return hessp
