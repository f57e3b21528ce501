"""Embedding: a lookup table of learnt vectors, one row per index (PyTorch's nn.Embedding).

The lookup is integer indexing of the weight Tensor, whose gradient the engine accumulates
per row (a repeated index gets the sum). Indices are data, checked against the table's range:
numpy would wrap a negative index silently and report a too-large one without the layer's name.
"""

import numbers

import numpy as np

from autograd import Tensor, where

from .init import get_rng
from .module import Module

_FLOAT32_EXACT = 2 ** 24  # float32 holds every integer up to this exactly


def _indices(indices, num_embeddings: int, where_: str) -> np.ndarray:
    """Indices as an integer array, checked to lie in [0, num_embeddings).

    A Tensor is accepted when it holds whole numbers, as containers pass data on to their first
    layer as a float Tensor; it must not require a gradient (an index has none).
    """
    if isinstance(indices, Tensor):
        if indices.requires_grad:
            raise TypeError(f"{where_}: indices must be data, got a Tensor that requires grad")
        if indices.dtype == np.float32 and num_embeddings > _FLOAT32_EXACT:
            raise TypeError(f"{where_}: a float32 Tensor cannot hold every index below "
                            f"{num_embeddings} exactly; pass an integer array")
        values = indices.data
        if values.size and not np.array_equal(values, np.round(values)):
            raise TypeError(f"{where_}: indices must be whole numbers, got a Tensor holding "
                            "fractions; pass an integer array")
        return _in_range(values.astype(np.int64), num_embeddings, where_)
    array = np.asarray(indices)
    if array.size == 0 and array.dtype.kind == "f":  # [] reads as a float array
        array = array.astype(np.int64)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{where_}: indices must be integers, got dtype {array.dtype}")
    return _in_range(array, num_embeddings, where_)


def _in_range(array: np.ndarray, num_embeddings: int, where_: str) -> np.ndarray:
    if array.size and (array.min() < 0 or array.max() >= num_embeddings):
        raise IndexError(f"{where_}: indices must lie in [0, {num_embeddings}), got values in "
                         f"[{array.min()}, {array.max()}] (indices of shape {array.shape})")
    return array


def embedding(indices, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of `weight` (num_embeddings, dim) at `indices` (...): -> (..., dim).

    Rows looked up at `padding_idx` pass on their values but take no gradient.
    """
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-d (num_embeddings, dim), got shape "
                         f"{weight.shape}")
    index = _indices(indices, weight.shape[0], "embedding")
    out = weight[index]
    if padding_idx is not None:
        is_pad = index == padding_idx % weight.shape[0]
        if is_pad.any():  # those positions read a constant copy of the row instead
            out = where(is_pad[..., None], weight.detach()[index], out)
    return out


class Embedding(Module):
    """A table of `num_embeddings` vectors of size `embedding_dim`; indices (...) -> (..., dim).

    `weight` (num_embeddings, embedding_dim) starts as N(0, 1) draws, as in PyTorch.
    `padding_idx`: that row starts at zero and never receives a gradient (negative values count
    from the end). Indices are integer arrays or lists; a Tensor of whole numbers is accepted
    too, since a container such as Sequential hands its input on as a float Tensor.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 rng: np.random.Generator | None = None, dtype=np.float64):
        for name, n in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1:
                raise ValueError(f"Embedding: {name} must be a positive integer, got {n!r}")
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        if padding_idx is not None:
            if (not isinstance(padding_idx, numbers.Integral) or isinstance(padding_idx, bool)
                    or not -self.num_embeddings <= padding_idx < self.num_embeddings):
                raise ValueError(f"Embedding({self.num_embeddings}, {self.embedding_dim}): "
                                 f"padding_idx must lie in [-{self.num_embeddings}, "
                                 f"{self.num_embeddings}), got {padding_idx!r}")
            padding_idx = int(padding_idx) % self.num_embeddings
        self.padding_idx = padding_idx
        dt = np.dtype(dtype)
        if dt not in (np.float32, np.float64):
            raise ValueError(f"Embedding: dtype must be float32 or float64, got {dt}")
        weight = get_rng(rng).standard_normal((self.num_embeddings, self.embedding_dim))
        if padding_idx is not None:
            weight[padding_idx] = 0.0
        self.weight = Tensor(weight.astype(dt), requires_grad=True)

    def __call__(self, indices, *args, **kwargs):
        # Integer indices go to forward as they are: Module.__call__ would make them floats.
        return self.forward(indices, *args, **kwargs)

    def forward(self, indices) -> Tensor:
        where_ = f"Embedding({self.extra_repr()})"
        index = _indices(indices, self.num_embeddings, where_)
        return embedding(index, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"
