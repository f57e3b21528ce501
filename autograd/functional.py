"""Derivatives as returned values, as in torch.autograd.functional: jacobian, hessian and hvp
(a Hessian-vector product that never forms the Hessian). Each evaluates `fn` at fresh copies of
its inputs and differentiates with `grad`, so no `.grad` changes. Shapes and nesting follow
PyTorch's; several inputs are separate arguments here (or one tuple, as PyTorch writes them).
"""

import numpy as np

from .engine import enable_grad, grad
from .functions import stack
from .tensor import Tensor


def jacobian(fn, *inputs, create_graph=False):
    """The Jacobian of `fn(*inputs)`: d output / d input, of shape output.shape + input.shape.

    Inputs are Tensors, arrays, lists or numbers (only a tuple means several inputs).
    One input and one output give a Tensor; several inputs (or a tuple of them) give a tuple
    with one Jacobian per input, several outputs (fn returns a tuple) one per output, and both
    a tuple of tuples J[i][j] = d output_i / d input_j. An output that does not depend on an
    input gives zeros (PyTorch's strict=False). `create_graph=True` returns Jacobians that can
    be differentiated again, also with respect to inputs that require grad.
    Cost: one reverse pass per output element.
    """
    xs, inputs_tuple = _prepare(inputs, create_graph, "jacobian")
    with enable_grad():
        outputs = fn(*xs)
        outputs_tuple = isinstance(outputs, (tuple, list))
        outputs = tuple(outputs) if outputs_tuple else (outputs,)
        for out in outputs:
            if not isinstance(out, Tensor):
                raise TypeError(f"jacobian: fn must return a Tensor or a tuple of Tensors, got "
                                f"{type(out).__name__}")
        rows = [_jacobian_of(out, xs, create_graph) for out in outputs]
    if not inputs_tuple:
        rows = [row[0] for row in rows]
    else:
        rows = [tuple(row) for row in rows]
    return tuple(rows) if outputs_tuple else rows[0]


def hessian(fn, *inputs, create_graph=False):
    """The Hessian of `fn(*inputs)`, which must return one element: shape input.shape * 2.

    Several inputs (or a tuple of them) give a tuple of tuples, H[i][j] = d2 f / dx_i dx_j of
    shape x_i.shape + x_j.shape, as PyTorch's. It is the Jacobian of the gradient: one reverse
    pass through the recorded backward pass per input element.
    """
    as_tuple = len(inputs) != 1 or isinstance(inputs[0], tuple)

    def gradient(*xs):
        out = _scalar_output(fn(*xs), "hessian")
        if not out.requires_grad:  # fn does not depend on its inputs: a zero Hessian
            grads = [None] * len(xs)
        else:
            grads = grad(out, xs, create_graph=True, allow_unused=True)
        grads = tuple(_zeros(x.shape, x.dtype) if g is None else g for g, x in zip(grads, xs))
        return grads if as_tuple else grads[0]

    return jacobian(gradient, *inputs, create_graph=create_graph)


def hvp(fn, inputs, v=None, create_graph=False):
    """(fn(inputs), H v): the Hessian of the one-element `fn(*inputs)` times `v`, as PyTorch's.

    `inputs` is one input (a Tensor or array-like) or a tuple of them, and `v` has the same
    structure and shapes (it may be left out when the one input has one element: v = 1).
    The product is the gradient of <grad f, v>: two reverse passes whatever the size of the
    inputs, and the Hessian is never formed. The value is returned without a graph unless
    `create_graph=True`, which also makes H v differentiable.
    """
    as_tuple = isinstance(inputs, tuple)
    xs, _ = _prepare((tuple(inputs),) if as_tuple else (inputs,), create_graph, "hvp")
    vs = _vectors(v, xs, as_tuple)
    with enable_grad():
        out = _scalar_output(fn(*xs), "hvp")
        products = [None] * len(xs)
        if out.requires_grad:
            grads = grad(out, xs, create_graph=True, allow_unused=True)
            terms = [(g * u).sum() for g, u in zip(grads, vs) if g is not None]
            dot = sum(terms[1:], terms[0])
            if dot.requires_grad:  # otherwise the gradient is constant: a zero Hessian
                products = grad(dot, xs, create_graph=create_graph, allow_unused=True)
    products = tuple(_zeros(x.shape, x.dtype) if p is None else p for p, x in zip(products, xs))
    value = out if create_graph else Tensor(out.data)
    return value, (products if as_tuple else products[0])


# ---------------------------------------------------------------- helpers
def _prepare(inputs, create_graph, where):
    """Fresh tensors to differentiate with respect to, and whether the inputs form a tuple."""
    as_tuple = len(inputs) != 1 or isinstance(inputs[0], tuple)
    if len(inputs) == 1 and isinstance(inputs[0], tuple):
        inputs = tuple(inputs[0])
    if not inputs:
        raise ValueError(f"{where}: needs at least one input")
    fresh = []
    with enable_grad():
        for x in inputs:
            if create_graph and isinstance(x, Tensor) and x.requires_grad:
                # A new node equal to x: the results keep a graph back to x itself.
                fresh.append(x.reshape(x.shape))
            else:  # a leaf of its own, so that nothing reaches x's (or anyone's) .grad
                fresh.append(Tensor(x.data if isinstance(x, Tensor) else x, requires_grad=True))
    return fresh, as_tuple


def _jacobian_of(out, xs, create_graph):
    """[d out / d x for x in xs], each of shape out.shape + x.shape: one reverse pass per
    element of out, seeded with the one-hot vector of that element."""
    rows = [[] for _ in xs]
    if out.requires_grad:
        for k in range(out.size):
            seed = np.zeros(out.shape, out.dtype)
            seed.flat[k] = 1
            grads = grad(out, xs, grad_outputs=seed, create_graph=create_graph,
                         allow_unused=True)
            for row, g, x in zip(rows, grads, xs):
                row.append(_zeros(x.shape, x.dtype) if g is None else g)
    return [stack(row).reshape(out.shape + x.shape) if row else
            _zeros(out.shape + x.shape, x.dtype) for row, x in zip(rows, xs)]


def _scalar_output(out, where):
    if not isinstance(out, Tensor):
        raise TypeError(f"{where}: fn must return a Tensor with one element, got "
                        f"{type(out).__name__}")
    if out.size != 1:
        raise ValueError(f"{where}: fn must return a Tensor with one element, got shape "
                         f"{out.shape} (reduce it first, e.g. .sum())")
    return out


def _vectors(v, xs, as_tuple):
    """hvp's v as one Tensor per input, each checked against its input's shape."""
    if v is None:
        if len(xs) != 1 or xs[0].size != 1:
            raise ValueError("hvp: v is required unless the input is one Tensor with one "
                             f"element (got shapes {[x.shape for x in xs]})")
        return [_zeros(xs[0].shape, xs[0].dtype) + 1]
    if as_tuple != isinstance(v, tuple):
        raise TypeError("hvp: v must have the structure of inputs: a tuple of the same length "
                        "for a tuple of inputs, one Tensor or array (or list) for one input")
    vs = list(v) if as_tuple else [v]
    if len(vs) != len(xs):
        raise ValueError(f"hvp: {len(xs)} inputs but {len(vs)} vectors in v")
    vs = [u if isinstance(u, Tensor) else Tensor(np.asarray(u, dtype=x.dtype))
          for u, x in zip(vs, xs)]
    for i, (u, x) in enumerate(zip(vs, xs)):
        if u.shape != x.shape:
            raise ValueError(f"hvp: v has shape {u.shape} but input {i} has shape {x.shape}")
    return vs


def _zeros(shape, dtype):
    return Tensor(np.zeros(shape, dtype))
