"""Norms against PyTorch: values and gradients, at the kinks too (zero vectors, zero elements,
ties), for every vector order and numpy's matrix orders with a gradient. Needs the `torch`
extra; skipped without it.
"""

import math

import numpy as np
import pytest

from autograd import Tensor

torch = pytest.importorskip("torch")

# rows: a zero row, zeros among nonzeros, ties of |x|, plain values
X = np.array([[0.0, 0.0, 0.0, 0.0], [3.0, -4.0, 0.0, 12.0], [2.0, -2.0, 1.0, 2.0],
              [0.3, -1.7, 0.9, 2.2]])
WEIGHTS = np.random.default_rng(0).normal(size=4)


def compare(ours, theirs, x, weights):
    t = Tensor(x, requires_grad=True)
    out = ours(t)
    (out * weights).sum().backward()
    u = torch.tensor(x, requires_grad=True)
    their = theirs(u)
    (their * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(out.data, their.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(t.grad, u.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("ord", [2, 1, 3, 0.5, 1.5, -1, -2.5, math.inf, -math.inf])
def test_vector_norms_and_their_subgradients_match_pytorch(ord):
    compare(lambda t: t.norm(ord, axis=1),
            lambda u: torch.linalg.vector_norm(u, ord, dim=1), X, WEIGHTS)
    compare(lambda t: t.norm(p=ord, dim=1, keepdim=True),
            lambda u: torch.norm(u, p=ord, dim=1, keepdim=True), X, WEIGHTS[:, None])


def test_the_zero_order_value_matches_pytorch():
    np.testing.assert_array_equal(Tensor(X).norm(0, axis=1).data,
                                  torch.linalg.vector_norm(torch.tensor(X), 0, dim=1).numpy())


@pytest.mark.parametrize("ord", ["fro", 1, -1, math.inf, -math.inf])
def test_matrix_norms_and_their_subgradients_match_pytorch(ord):
    batch = np.stack([X, X.T, np.zeros((4, 4)), X[::-1]])  # ties and a zero matrix
    compare(lambda t: t.norm(ord, axis=(1, 2)),
            lambda u: torch.linalg.matrix_norm(u, ord, dim=(1, 2)), batch, WEIGHTS)
    compare(lambda t: np.linalg.norm(t, ord, axis=(2, 1)),
            lambda u: torch.linalg.matrix_norm(u, ord, dim=(2, 1)), batch, WEIGHTS)


@pytest.mark.parametrize("ord", [2, -2, "nuc"])
def test_singular_value_norms_match_pytorchs_values(ord):
    np.testing.assert_allclose(Tensor(X).norm(ord, axis=(0, 1)).data,
                               torch.linalg.matrix_norm(torch.tensor(X), ord).numpy(), rtol=1e-12,
                               atol=1e-14)  # (X is singular: its -2 norm is 0 plus rounding)


def test_torch_norm_spellings_mean_the_same():
    compare(lambda t: t.norm(p=2, dim=(0, 1)), lambda u: torch.norm(u, p=2, dim=(0, 1)), X, 1.0)
    compare(lambda t: t.norm(p="fro"), lambda u: torch.norm(u, p="fro"), X, 1.0)
    compare(lambda t: t.norm(), lambda u: u.norm(), X, 1.0)
    compare(lambda t: t.norm(dim=0), lambda u: u.norm(dim=0), X, WEIGHTS)
