"""What the autograd.scipy modules share: Tensors in, and plain arrays out when no argument was
a Tensor (as scipy's own functions give)."""

import numpy as np

from ..functions import _tensors
from ..tensor import Tensor


def tensors(*values, where):
    """The arguments as Tensors (plain ones in the first Tensor's dtype), and whether any was."""
    given = any(isinstance(v, Tensor) for v in values)
    return _tensors(list(values), where), given


def finish(result, given):
    """`result` as it is when an argument was a Tensor, else its array (a scalar when 0-d)."""
    if given:
        return result
    data = result.data
    return data[()] if data.ndim == 0 else data


def plain(value):
    return value.data if isinstance(value, Tensor) else np.asarray(value)
