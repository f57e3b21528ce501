"""Building and rearranging against PyTorch: values, gradients and second derivatives of
autograd.arrange's functions, cumsum and cumprod (zeros included), and item assignment, where
PyTorch has the function (np.linspace against torch.lerp, as torch.linspace records no
gradient; np.partition's kth values against torch.kthvalue). Needs the `torch` extra; skipped
without it.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from autograd import Tensor

torch = pytest.importorskip("torch")
F = torch.nn.functional

NORMAL = np.random.default_rng(0).normal(size=(3, 4))
WITH_ZEROS = np.array([[0.0, 2.0, 3.0, -1.0], [0.0, 0.0, 1.5, 2.0], [1.0, -2.0, 0.0, 3.0]])
DISTINCT = np.random.default_rng(1).permutation(12).reshape(3, 4) * 0.5 - 3.0
CUBE = np.random.default_rng(2).normal(size=(2, 3, 4))


@dataclass(frozen=True)
class Row:
    name: str
    ours: Callable  # Tensors -> Tensor
    theirs: Callable  # torch tensors -> torch tensor
    inputs: tuple


def _joined(pieces, axis, cat):
    """A split's pieces joined again, piece i times i + 1 (each piece's gradient counts)."""
    return cat([p * (i + 1) for i, p in enumerate(pieces)], axis)


def _lerp_samples(x, y, num):
    """np.linspace(x, y, num, axis=-1) in PyTorch, whose own linspace is not differentiable."""
    weights = torch.linspace(0, 1, num, dtype=torch.float64)
    return torch.lerp(x[..., None], y[..., None], weights)


def _assign(h, v):
    h = h * 1.0
    h[[0, 2], 1:3] = v
    return h


ROWS = [
    Row("hstack", lambda x, y: np.hstack([x, y]), lambda x, y: torch.hstack([x, y]),
        (NORMAL, NORMAL[:, :2])),
    Row("vstack", lambda x, y: np.vstack([x, y]), lambda x, y: torch.vstack([x, y]),
        (NORMAL, NORMAL[0])),
    Row("dstack", lambda x, y: np.dstack([x, y]), lambda x, y: torch.dstack([x, y]),
        (NORMAL, NORMAL)),
    Row("column_stack", lambda x, y: np.column_stack([x, y]),
        lambda x, y: torch.column_stack([x, y]), (NORMAL[0], NORMAL.T)),
    Row("atleast_3d", np.atleast_3d, torch.atleast_3d, (NORMAL,)),
    Row("repeat", lambda x: np.repeat(x, 3, axis=1),
        lambda x: torch.repeat_interleave(x, 3, dim=1), (NORMAL,)),
    Row("repeat counts", lambda x: np.repeat(x, [1, 0, 3], axis=0),
        lambda x: torch.repeat_interleave(x, torch.tensor([1, 0, 3]), dim=0), (NORMAL,)),
    Row("tile", lambda x: np.tile(x, (2, 1, 3)), lambda x: torch.tile(x, (2, 1, 3)), (NORMAL,)),
    Row("pad constant", lambda x: np.pad(x, ((1, 2), (0, 3)), constant_values=1.5),
        lambda x: F.pad(x, (0, 3, 1, 2), value=1.5), (NORMAL,)),
    Row("pad edge", lambda x: np.pad(x, ((0, 0), (2, 3)), mode="edge"),
        lambda x: F.pad(x, (2, 3), mode="replicate"), (NORMAL,)),
    Row("pad reflect", lambda x: np.pad(x, ((0, 0), (3, 2)), mode="reflect"),
        lambda x: F.pad(x, (3, 2), mode="reflect"), (NORMAL,)),
    Row("pad wrap", lambda x: np.pad(x, ((0, 0), (0, 0), (2, 3)), mode="wrap"),
        lambda x: F.pad(x, (2, 3), mode="circular"), (CUBE,)),
    Row("roll", lambda x: np.roll(x, (1, -3), axis=(0, 1)),
        lambda x: torch.roll(x, (1, -3), dims=(0, 1)), (NORMAL,)),
    Row("roll flat", lambda x: np.roll(x, 5), lambda x: torch.roll(x, 5), (NORMAL,)),
    Row("flip", lambda x: np.flip(x, (0, 2)), lambda x: torch.flip(x, (0, 2)), (CUBE,)),
    Row("fliplr", np.fliplr, torch.fliplr, (NORMAL,)),
    Row("flipud", np.flipud, torch.flipud, (NORMAL,)),
    Row("rot90", lambda x: np.rot90(x, 1, axes=(1, 2)), lambda x: torch.rot90(x, 1, (1, 2)),
        (CUBE,)),
    Row("rot90 -1", lambda x: np.rot90(x, -1), lambda x: torch.rot90(x, -1), (NORMAL,)),
    Row("moveaxis", lambda x: np.moveaxis(x, (0, 1), (2, 0)),
        lambda x: torch.moveaxis(x, (0, 1), (2, 0)), (CUBE,)),
    Row("diff", lambda x, p: np.diff(x, n=2, axis=0, prepend=p),
        lambda x, p: torch.diff(x, n=2, dim=0, prepend=p), (NORMAL, NORMAL[:1])),
    Row("cumsum", lambda x: np.cumsum(x, axis=0), lambda x: torch.cumsum(x, 0), (NORMAL,)),
    Row("cumprod", lambda x: np.cumprod(x, axis=1), lambda x: torch.cumprod(x, 1), (NORMAL,)),
    Row("cumprod zeros", lambda x: np.cumprod(x, axis=1), lambda x: torch.cumprod(x, 1),
        (WITH_ZEROS,)),
    Row("cumprod zeros axis 0", lambda x: np.cumprod(x, axis=0), lambda x: torch.cumprod(x, 0),
        (WITH_ZEROS,)),
    Row("sort", lambda x: np.sort(x, axis=0), lambda x: torch.sort(x, dim=0, stable=True).values,
        (DISTINCT,)),
    Row("take_along_axis", lambda x: np.take_along_axis(x, np.array([[2, 0, 2, 1]]), 0),
        lambda x: torch.take_along_dim(x, torch.tensor([[2, 0, 2, 1]]), 0), (NORMAL,)),
    Row("take", lambda x: np.take(x, [[0, 11], [5, 5]]),
        lambda x: torch.take(x, torch.tensor([[0, 11], [5, 5]])), (NORMAL,)),
    Row("copy", lambda x: x.clone(), lambda x: x.clone(), (NORMAL,)),
    Row("setitem", _assign, _assign, (NORMAL, NORMAL[:2, :2])),
    Row("linspace", lambda x, y: np.linspace(x, y, 5, axis=-1),
        lambda x, y: _lerp_samples(x, y, 5), (NORMAL[0], NORMAL[1])),
    Row("array_split", lambda x: _joined(np.array_split(x, 3, axis=1), 1, np.concatenate),
        lambda x: _joined(torch.tensor_split(x, 3, dim=1), 1, torch.cat), (NORMAL,)),
    Row("array_split indices", lambda x: _joined(np.array_split(x, [1, 3]), 0, np.concatenate),
        lambda x: _joined(torch.tensor_split(x, [1, 3]), 0, torch.cat), (NORMAL,)),
    Row("vsplit", lambda x: _joined(np.vsplit(x, 3), 0, np.concatenate),
        lambda x: _joined(torch.vsplit(x, 3), 0, torch.cat), (NORMAL,)),
    Row("hsplit", lambda x: _joined(np.hsplit(x, [1, 3]), 1, np.concatenate),
        lambda x: _joined(torch.hsplit(x, [1, 3]), 1, torch.cat), (NORMAL,)),
    Row("dsplit", lambda x: _joined(np.dsplit(x, 2), 2, np.concatenate),
        lambda x: _joined(torch.dsplit(x, 2), 2, torch.cat), (CUBE,)),
    Row("partition kth", lambda x: np.partition(x, 2, axis=1)[:, 2],
        lambda x: torch.kthvalue(x, 3, dim=1).values, (DISTINCT,)),
]


def _run_ours(row, weights):
    x = [Tensor(a, requires_grad=True) for a in row.inputs]
    out = row.ours(*x)
    (out * weights).sum().backward(create_graph=True)
    grads = [t.grad for t in x]
    # a second derivative: the gradient of sum(grad * direction) for the first input
    direction = np.random.default_rng(4).normal(size=row.inputs[0].shape)
    for t in x:
        t.grad = None
    if grads[0].requires_grad:  # else the gradient is a constant: a linear function
        (grads[0] * direction).sum().backward()
    return out.data, [g.data for g in grads], x[0].grad


def _run_theirs(row, weights):
    x = [torch.tensor(a, requires_grad=True) for a in row.inputs]
    out = row.theirs(*x)
    grads = torch.autograd.grad((out * torch.tensor(weights)).sum(), x, create_graph=True)
    direction = torch.tensor(np.random.default_rng(4).normal(size=row.inputs[0].shape))
    second = torch.zeros_like(x[0])
    if grads[0].requires_grad:  # else a constant: a linear function
        found = torch.autograd.grad((grads[0] * direction).sum(), x[0], allow_unused=True)[0]
        second = second if found is None else found
    return (out.detach().numpy(), [g.detach().numpy() for g in grads],
            second.detach().numpy())


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_values_gradients_and_second_derivatives_match_pytorch(row):
    shape = row.ours(*(Tensor(a) for a in row.inputs)).shape
    weights = np.random.default_rng(3).normal(size=shape)
    ours, theirs = _run_ours(row, weights), _run_theirs(row, weights)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12, atol=1e-12)
    for got, want in zip(ours[1], theirs[1], strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    second = np.zeros_like(row.inputs[0]) if ours[2] is None else ours[2]
    np.testing.assert_allclose(second, theirs[2], rtol=1e-10, atol=1e-12)
