"""What comparisons of Tensors and argmax/argmin give: numpy arrays with PyTorch's conversions.

`a > 0` is a numpy bool array (a mask, an index, an `if` for one element), and
`t.argmax(1)` a numpy integer array, as before; these subclasses add only what a PyTorch user
types next, `.float()`, `.double()` (a Tensor of 0s and 1s, or of the indices, without a
gradient), so that `(t.argmax(1) == y).float().mean()` works. Anything numpy computes from
them is a plain ndarray again (`__array_wrap__`), except that comparing indices gives a Mask.
"""

import numpy as np

_tensor_class = None  # Tensor, handed in by autograd/__init__.py: tensor.py imports this module


def install(tensor_class) -> None:
    """Hand this module the Tensor class that .float() and .double() make."""
    global _tensor_class
    _tensor_class = tensor_class


def _as_tensor(array, dtype):
    return _tensor_class(np.asarray(array), dtype=dtype)


class _Converts(np.ndarray):
    def __repr__(self):  # printed as the numpy array it is
        return repr(self.view(np.ndarray))

    def float(self):
        """A float32 Tensor of these values (PyTorch's .float()), without a gradient."""
        return _as_tensor(self, np.float32)

    def double(self):
        """A float64 Tensor of these values (PyTorch's .double()), without a gradient."""
        return _as_tensor(self, np.float64)


class Mask(_Converts):
    """A comparison's result: a numpy bool array, with `.float()` and `.double()`."""

    def __array_wrap__(self, array, context=None, return_scalar=False):
        array = array.view(np.ndarray)  # results of numpy code are plain arrays
        return array[()] if return_scalar else array


class Indices(_Converts):
    """argmax/argmin's result: a numpy integer array, with `.float()`; compared (`== y`), a Mask."""

    def __array_wrap__(self, array, context=None, return_scalar=False):
        if return_scalar:
            return array[()]
        return array.view(Mask if array.dtype == bool else np.ndarray)
