"""Matrix products: matmul with numpy's rules for 1-D and batched operands, and the fused
linear layer x @ w + b."""

import numpy as np

from .core import Op, reads, sum_to


def _matmul_vjp_x(g, out, x, y):
    # 1-D operands are promoted the way np.matmul promotes them, then the axis is dropped again.
    if y.ndim == 1:
        g, y = g[..., None], y[:, None]
    if x.ndim == 1:
        return (g[..., None, :] @ y.mT)[..., 0, :]
    return g @ y.mT


def _matmul_vjp_y(g, out, x, y):
    if x.ndim == 1 and y.ndim == 1:  # a dot product: g is 0-d and has no axis to promote
        return g * x
    if x.ndim == 1:
        g, x = g[..., None, :], x[None, :]
    if y.ndim == 1:
        return (x.mT @ g[..., None])[..., 0]
    return x.mT @ g


matmul = Op("matmul", np.matmul,
            _matmul_vjp_x, "dx = g @ y.T", reads("y"),
            _matmul_vjp_y, "dy = x.T @ g", reads("x"))


def _linear(x, w, b):
    out = x @ w
    if b.dtype is out.dtype and b.shape == out.shape[-1:]:  # a layer's bias: the usual case
        out += b  # in place: `out` is a fresh array, and this saves an allocation per layer
        return out
    return np.add(out, b)  # numpy's x @ w + b: the bias may add dimensions or promote


def _product_grad(g, x, w):
    """The gradient reaching `x @ w` in `x @ w + b`, as the engine hands it to matmul there:
    summed back where the bias widened the result, in the product's dtype where it promoted it
    (a float64 bias on a float32 layer), so the gradients are x @ w + b's to the last bit."""
    batch = np.broadcast_shapes(x.shape[:-2], w.shape[:-2])  # numpy's matmul rules: a 1-D
    shape = batch + x.shape[-2:-1] + w.shape[-1:] * (w.ndim > 1)  # operand's axis is dropped
    g = g if g.shape == shape else sum_to(g, shape)
    dtype = np.result_type(x, w)
    return g if g.dtype == dtype else g.astype(dtype)


def _is_layer(g, x, w):
    """The usual case: (..., in) @ (in, out), whose bias neither widened nor promoted it."""
    # `is`: numpy's builtin dtypes are singletons, and == on dtypes costs a conversion; a dtype
    # that is equal but not the same object only takes the general path, with the same result.
    return (x.ndim >= 2 and w.ndim == 2 and g.shape == x.shape[:-1] + w.shape[1:]
            and g.dtype is x.dtype is w.dtype)


def _linear_vjp_x(g, out, x, w, b):
    if _is_layer(g, x, w):
        return g @ w.mT
    return _matmul_vjp_x(_product_grad(g, x, w), out, x, w)


def _linear_vjp_w(g, out, x, w, b):
    if _is_layer(g, x, w):
        return x.mT @ g  # batch axes of x, if any, are summed by the engine
    return _matmul_vjp_y(_product_grad(g, x, w), out, x, w)


def _linear_vjp_b(g, out, x, w, b):
    # summed over the batch here, with the engine's own sum_to: the engine would do the same
    # after a check and a call more, on every step
    return sum_to(g, b.shape)


# x @ w + b as one primitive: the layer of every MLP, one node instead of two.
linear = Op(
    "linear",
    _linear,
    _linear_vjp_x, "dx = g @ w.T", reads("w"),
    _linear_vjp_w, "dw = x.T @ g", reads("x"),
    _linear_vjp_b, "db = g summed over the batch", reads(),
)
