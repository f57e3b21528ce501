"""A bridge to optimizers that want one flat float64 vector: scipy.optimize.minimize and friends.

`value_and_grad(model, loss_fn, X, y)` is a function theta -> (loss, gradient) for
`minimize(f, parameters_to_vector(model), jac=True)`, and `hessian_vector_product` gives the
`hessp=` of Newton-CG and trust-ncg. Gradients come from `loss.backward()` and `autograd.grad`:
nothing here knows a derivative. Both are compiled (autograd.compile.function): recorded at
the first call, replayed after, with the eager bits. Gradient clipping (nn/clip_grad.py) is
re-exported here, where PyTorch users look for it: `nn.utils.clip_grad_norm_`,
`nn.utils.clip_grad_value_`.
"""

from collections.abc import Callable, Iterable

import numpy as np

from autograd import Tensor, grad
from autograd.compile.function import GradientFunction, Setup, closure_getters

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
    expected = sum(p.data.size for p in params)
    if vector.ndim != 1 or vector.size != expected:
        raise ValueError(f"vector_to_parameters: expected a 1-D vector of {expected} values (the "
                         f"parameters' total size), got shape {vector.shape}")
    start = 0
    for p in params:  # p.data, not p's properties: scipy calls this thousands of times
        data = p.data
        data[...] = vector[start:start + data.size].reshape(data.shape)
        p.mark_modified()
        start += data.size


def value_and_grad(model: Module, loss_fn: Callable, X, y, compile: bool | None = None
                   ) -> Callable:  # noqa: A002 - the keyword the issue names
    """A function theta -> (loss: float, gradient: float64 vector) of `loss_fn(model(X), y)`.

    Each call writes theta into the model's parameters (they keep the last theta evaluated, so
    after `res = minimize(...)` call `vector_to_parameters(res.x, model)`), runs one forward and
    one backward pass, and reads the gradients in `parameters_to_vector` order.
    Compiled unless `compile=False` (autograd.compile.function): the first call is recorded and
    later ones replay it, with the same bits; what cannot be replayed (Dropout's random draws,
    a number read from a tensor) runs eagerly, quietly, or with a CompileWarning when
    `compile=True`. The function's `.compiled` and `.eager_reason` say what the last call did.
    """
    params = _parameters(model)
    X = Tensor(np.asarray(X, dtype=np.float64))

    def loss() -> Tensor:
        return loss_fn(model(X), y)

    def eager() -> tuple[float, list]:
        for p in params:
            p.grad = None  # backward accumulates: start every evaluation afresh
        value = loss()
        value.backward()
        return value.item(), [p.grad for p in params]

    run = _compiled(model, loss_fn, y, compile, lambda: Setup(loss, params))

    def f(theta) -> tuple[float, np.ndarray]:
        vector_to_parameters(theta, params)
        result = run(f) if run is not None else None
        value, grads = eager() if result is None else (float(result[0]), result[1])
        return value, _flat(grads, params)

    f.compiled, f.eager_reason = False, None if run is not None else "compile=False"
    return f


def _flat(arrays, params) -> np.ndarray:
    """Arrays per parameter (None: zeros) as one float64 vector in `parameters_to_vector` order."""
    flat = [np.zeros(q.size) if a is None else a.ravel() for q, a in zip(params, arrays)]
    return np.concatenate(flat).astype(np.float64) if flat else np.zeros(0)


def _compiled(model, loss_fn, y, compile, setup):  # noqa: A002
    """A call `run(f)` that replays `setup()`'s function for the function f (whose .compiled
    and .eager_reason it sets): (loss, gradients), or None when f must run eagerly."""
    if compile is False:
        return None
    calls = GradientFunction(warn=compile is True)
    getters = closure_getters(loss_fn)

    def run(f):
        signature = model.training if isinstance(model, Module) else None
        result = calls(signature, setup, _written, [y, *(get() for get in getters)])
        f.compiled, f.eager_reason = calls.compiled, calls.eager_reason
        return result
    return run


def _written(leaves) -> None:
    """The parameters already hold this call's theta (vector_to_parameters wrote it)."""


# ---------------------------------------------------------------- second order (issue 11)
def hessian_vector_product(model: Module, loss_fn: Callable, X, y,
                           compile: bool | None = None) -> Callable:  # noqa: A002
    """A function (theta, p) -> H(theta) @ p, the Hessian of `loss_fn(model(X), y)` in the flat
    parameters times a vector: scipy's `hessp`, next to `value_and_grad`'s `jac=True`:

        minimize(value_and_grad(model, loss_fn, X, y), theta0, jac=True, method="trust-ncg",
                 hessp=hessian_vector_product(model, loss_fn, X, y))

    Each call writes theta into the parameters, runs one forward pass, takes the gradient with
    `autograd.grad(..., create_graph=True)` and differentiates <gradient, p> through that
    recorded backward pass: the Hessian is never formed, and no `.grad` changes. Returns a
    float64 vector in `parameters_to_vector` order; parameters the loss does not use get zeros.
    `compile`: as for `value_and_grad` (p is read afresh at every call of a replay).
    """
    params = _parameters(model)
    size = sum(q.size for q in params)
    X = Tensor(np.asarray(X, dtype=np.float64))
    direction = np.zeros(size)  # a compiled call's p, copied here: its Tensors read it
    bounds = np.cumsum([0, *(q.size for q in params)])
    pieces = [Tensor(direction[a:b].reshape(q.shape)) for a, b, q in zip(bounds, bounds[1:],
                                                                          params)]

    def directional(directions):
        """<gradient of the loss, p>, whose gradient in the parameters is H p; None: H = 0."""
        loss = loss_fn(model(X), y)
        if not loss.requires_grad:
            return None
        grads = grad(loss, params, create_graph=True, allow_unused=True)
        terms = [(g * d).sum() for g, d in zip(grads, directions) if g is not None]
        dot = sum(terms[1:], terms[0]) if terms else None
        return dot if dot is not None and dot.requires_grad else None

    run = _compiled(model, loss_fn, y, compile,
                    lambda: Setup(lambda: directional(pieces), params, keep_grads=True,
                                  inputs=[direction]))

    def hessp(theta, p) -> np.ndarray:
        p = np.asarray(p, dtype=np.float64)
        if p.shape != (size,):
            raise ValueError(f"hessian_vector_product: p must be a 1-D vector of {size} values "
                             f"(the parameters' total size), got shape {p.shape}")
        vector_to_parameters(theta, params)
        direction[...] = p
        result = run(hessp) if run is not None else None
        if result is not None:
            return _flat(result[1], params)
        dot = directional([p[a:b].reshape(q.shape) for a, b, q in zip(bounds, bounds[1:],
                                                                       params)])
        products = [None] * len(params) if dot is None else grad(dot, params, allow_unused=True)
        return _flat([None if h is None else h.data for h in products], params)

    hessp.compiled, hessp.eager_reason = False, None if run is not None else "compile=False"
    return hessp
