"""Vector and matrix norms of Tensors, numpy's orders, composed from primitives.

`norm(x, ord, axis, keepdims)` takes the axes explicitly: one axis (or all the elements) is a
vector norm, two are a matrix norm (`np.linalg.norm`'s meanings). `Tensor.norm` (through
`arguments`, which merges PyTorch's spellings and refuses the calls the two libraries read
differently) and the `np.linalg.norm` dispatch decide the axes; no gradient code here. Where a
norm has a kink (0, ties), the gradient is the subgradient PyTorch gives: 0 at 0, ties sharing.
Matrix orders 2, -2 and 'nuc' are the largest, smallest and summed singular values (svd's
rule: ties between singular values share the gradient as max and min do).
"""

import math
import numbers

from . import linalg, ops
from .tensor import Tensor, apply

VECTOR_ORDERS = "any real p, inf, -inf, 0 (the count of nonzeros), None (2)"
MATRIX_ORDERS = "None and 'fro' (Frobenius), 'nuc', 1, -1, 2, -2, inf, -inf"


def norm(x: Tensor, ord=None, axis=None, keepdims=False) -> Tensor:
    """The `ord` norm of x over `axis`: None (every element, as one vector), an int or one
    axis (a vector norm), two axes (a matrix norm), or any axes for ord=None (the 2-norm)."""
    count = None if axis is None else 1 if isinstance(axis, numbers.Integral) else len(axis)
    if count is None or count == 1 or (ord is None and count != 2):
        return _vector(x, ord, axis, keepdims)
    if count == 2:
        return _matrix(x, ord, axis, keepdims)
    raise ValueError(f"norm(ord={ord!r}) over {count} axes {axis}: a vector norm takes one axis "
                     "and a matrix norm two (only ord=None, the 2-norm, takes any number)")


class NormMethod:
    """Tensor.norm, defined here and installed on Tensor by autograd/__init__.py (this module
    is built on tensor.py, so Tensor cannot inherit it)."""

    def norm(self, ord=None, axis=None, keepdims=False, *, p=None, dim=None, keepdim=None):
        """The `ord` norm (the first argument, as in np.linalg.norm and torch.norm) over `axis`.

        One axis (or a 1-D tensor): a vector norm, any real p, inf, -inf, 0 (nonzeros counted,
        no gradient); None (the default) is the 2-norm of all the elements, or over any axes.
        Two axes: a matrix norm, numpy's orders 'fro', 1, -1, inf, -inf, and 2, -2, 'nuc'
        (singular values: no gradient rule, so these raise where a gradient is wanted).
        A number without an axis on a tensor of 2 or more axes raises: numpy reads it as a
        matrix norm, PyTorch as a vector norm of all the elements. PyTorch's p=, dim=, keepdim=
        are accepted. At kinks the gradient is PyTorch's subgradient (0 at 0, ties share).
        """
        return norm(self, *arguments(self.ndim, ord, axis, keepdims, p, dim, keepdim))


def arguments(ndim, ord, axis, keepdims, p, dim, keepdim):
    """Tensor.norm's arguments, PyTorch's spellings merged in: (ord, axis, keepdims)."""
    for ours, theirs, name in ((ord, p, "ord/p"), (axis, dim, "axis/dim")):
        if ours is not None and theirs is not None:
            raise TypeError(f"norm: {name} given twice; pass one of them")
    if keepdim is not None:
        keepdims = keepdim
    axis = axis if dim is None else dim
    if axis is not None:
        axis = int(axis) if isinstance(axis, numbers.Integral) else tuple(int(a) for a in axis)
    count = None if axis is None else 1 if isinstance(axis, int) else len(axis)
    # torch.norm's p=2 and p="fro" are the 2-norm of the elements over the axes given
    order = ord if p is None else None if p == 2 or p == "fro" else p
    if axis is None and order == "fro":
        order = None  # the Frobenius norm is the 2-norm of all the elements
    if axis is None and order == "nuc" and ndim == 2:
        axis = (0, 1)
    numeric = order is not None and not isinstance(order, str)
    if axis is None and ndim >= 2 and numeric:
        raise ValueError(f"norm({order!r}) of a {ndim}-D tensor without an axis: numpy reads an "
                         "order as a matrix norm, PyTorch's norm as the vector norm of all the "
                         f"elements: write axis=(-2, -1) for the matrix norm, or "
                         f"t.reshape(-1).norm({order!r}) for the vector norm")
    if p is not None and numeric and count == 2:
        raise ValueError(f"norm(p={order!r}) over two axes: torch.norm's p= is a vector norm of "
                         "the elements there, numpy's (and torch.linalg.norm's) order a matrix "
                         f"norm: write ord={order!r} for the matrix norm, or "
                         "(t.abs() ** p).sum(axis) ** (1 / p) for the vector norm")
    return order, axis, keepdims


def _vector(x, ord, axes, keepdims):
    if ord is None or (_real(ord) and ord == 2):
        return apply(ops.norm, x, axis=axes, keepdims=keepdims)
    if not _real(ord):
        raise ValueError(f"norm: invalid order {ord!r} for a vector norm; the vector orders are "
                         f"{VECTOR_ORDERS}")
    if ord == math.inf:
        return x.abs().max(axis=axes, keepdims=keepdims)  # ties share the gradient
    if ord == -math.inf:
        return x.abs().min(axis=axes, keepdims=keepdims)
    if ord == 0:  # piecewise constant: its gradient is 0 wherever it exists
        return Tensor((x.data != 0).sum(axis=axes, keepdims=keepdims).astype(x.dtype))
    if ord == 1:
        return x.abs().sum(axis=axes, keepdims=keepdims)
    return apply(ops.norm, x, axis=axes, keepdims=keepdims, ord=float(ord))


def _matrix(x, ord, axes, keepdims):
    rows, cols = (a % x.ndim if x.ndim else a for a in axes)
    if rows == cols:
        raise ValueError(f"norm: the two axes of a matrix norm must differ, got {axes}")
    if ord is None or ord == "fro":
        out = apply(ops.norm, x, axis=(rows, cols), keepdims=True)
    elif ord in (2, -2, "nuc"):
        return _singular_value_norm(x, ord, (rows, cols), keepdims)
    elif _real(ord) and abs(ord) in (1, math.inf):
        # 1: the largest column sum of |x|; inf: the largest row sum (min for -1 and -inf)
        summed, other = (rows, cols) if abs(ord) == 1 else (cols, rows)
        sums = x.abs().sum(axis=summed, keepdims=True)
        out = sums.max(axis=other, keepdims=True) if ord > 0 else sums.min(axis=other,
                                                                         keepdims=True)
    else:
        raise ValueError(f"norm: invalid order {ord!r} for a matrix norm; the matrix orders are "
                         f"{MATRIX_ORDERS}")
    if keepdims:
        return out
    return out.reshape([n for i, n in enumerate(x.shape) if i not in (rows, cols)])


def _singular_value_norm(x, ord, axes, keepdims):
    """ord 2, -2 or 'nuc': the largest, smallest or summed singular values (svd's rule)."""
    rows, cols = (a % x.ndim for a in axes)
    rest = [i for i in range(x.ndim) if i not in (rows, cols)]
    s = linalg.svd(x.transpose((*rest, rows, cols)), compute_uv=False)
    out = s.sum(axis=-1) if ord == "nuc" else s.max(axis=-1) if ord == 2 else s.min(axis=-1)
    if keepdims:
        shape = list(x.shape)
        shape[rows] = shape[cols] = 1
        return out.reshape(shape)
    return out


def _real(ord) -> bool:
    return isinstance(ord, numbers.Real) and not isinstance(ord, bool) and not math.isnan(ord)
