"""Linear algebra and contractions against PyTorch: values, gradients and second derivatives
(a Hessian-vector product) in float64. Needs the `torch` extra (`pip install -e ".[torch]"`);
skipped without it.

Factors whose signs are a convention (eigenvectors, singular vectors) enter through functions
that do not depend on those signs; cholesky and eigh take a symmetrised input, where npgrad's
lower-triangle gradient and PyTorch's symmetric one agree by the chain rule.
"""

import numpy as np
import pytest

import autograd
from autograd import Tensor
from autograd import linalg as la

torch = pytest.importorskip("torch")


def sym(x):
    return (x + x.swapaxes(-1, -2)) / 2 if isinstance(x, Tensor) else (x + x.mT) / 2


def spd(shape):
    return lambda rng: (lambda x: x @ x.swapaxes(-1, -2) + shape[-1] * np.eye(shape[-1]))(
        rng.normal(size=shape))


def normal(shape):
    return lambda rng: rng.normal(size=shape)


def shifted(shape):
    return lambda rng: rng.normal(size=shape) + 3 * np.eye(shape[-1])


def _sign_free_svd(u, s, vh, lib):
    # u diag(s^2) vh and s: unchanged by flipping a pair of singular vectors
    return (u * (s * s)[..., None, :]) @ vh


# (id, npgrad function of Tensors, torch function, samplers)
CASES = [
    ("solve", lambda a, b: np.linalg.solve(a, b), torch.linalg.solve,
     (shifted((2, 3, 3)), normal((2, 3, 2)))),
    ("solve-vector", lambda a, b: np.linalg.solve(a, b), torch.linalg.solve,
     (shifted((3, 3)), normal((3,)))),
    ("solve_triangular-lower", lambda a, b: la.solve_triangular(a, b, lower=True),
     lambda a, b: torch.linalg.solve_triangular(a, b, upper=False),
     (shifted((2, 3, 3)), normal((2, 3, 2)))),
    ("solve_triangular-upper", lambda a, b: la.solve_triangular(a, b, lower=False),
     lambda a, b: torch.linalg.solve_triangular(a, b, upper=True),
     (shifted((3, 3)), normal((3, 4)))),
    ("inv", lambda a: np.linalg.inv(a), torch.linalg.inv, (shifted((2, 3, 3)),)),
    ("det", lambda a: np.linalg.det(a), torch.linalg.det, (normal((2, 3, 3)),)),
    ("slogdet", lambda a: np.linalg.slogdet(a)[1], lambda a: torch.linalg.slogdet(a)[1],
     (normal((2, 3, 3)),)),
    ("cholesky", lambda a: np.linalg.cholesky(sym(a)), lambda a: torch.linalg.cholesky(sym(a)),
     (spd((2, 3, 3)),)),
    ("eigh-values", lambda a: np.linalg.eigh(sym(a))[0],
     lambda a: torch.linalg.eigh(sym(a))[0], (normal((2, 4, 4)),)),
    ("eigh-projector", lambda a: (lambda w, v: v * v * w[..., None, :])(*np.linalg.eigh(sym(a))),
     lambda a: (lambda w, v: v * v * w[..., None, :])(*torch.linalg.eigh(sym(a))),
     (normal((3, 3)),)),
    ("svd-values", lambda a: np.linalg.svd(a, compute_uv=False),
     lambda a: torch.linalg.svdvals(a), (normal((2, 3, 4)),)),
    ("svd-tall", lambda a: _sign_free_svd(*np.linalg.svd(a, full_matrices=False), np),
     lambda a: _sign_free_svd(*torch.linalg.svd(a, full_matrices=False), torch),
     (normal((4, 3)),)),
    ("svd-wide", lambda a: _sign_free_svd(*np.linalg.svd(a, full_matrices=False), np),
     lambda a: _sign_free_svd(*torch.linalg.svd(a, full_matrices=False), torch),
     (normal((2, 3, 5)),)),
    ("qr-tall", lambda a: (lambda q, r: q * 2 + r.sum())(*np.linalg.qr(a)),
     lambda a: (lambda q, r: q * 2 + r.sum())(*torch.linalg.qr(a)), (normal((4, 3)),)),
    ("qr-wide", lambda a: (lambda q, r: q.sum() + r * 3)(*np.linalg.qr(a)),
     lambda a: (lambda q, r: q.sum() + r * 3)(*torch.linalg.qr(a)), (normal((2, 3, 5)),)),
    ("pinv", lambda a: np.linalg.pinv(a), torch.linalg.pinv, (normal((2, 4, 3)),)),
    ("matrix_power", lambda a: np.linalg.matrix_power(a, 3),
     lambda a: torch.linalg.matrix_power(a, 3), (normal((2, 3, 3)),)),
    ("matrix_power-negative", lambda a: np.linalg.matrix_power(a, -2),
     lambda a: torch.linalg.matrix_power(a, -2), (shifted((3, 3)),)),
    ("einsum", lambda x, y: np.einsum("bii,bjk->bkj", x, y),
     lambda x, y: torch.einsum("bii,bjk->bkj", x, y), (normal((2, 3, 3)), normal((2, 3, 4)))),
    ("einsum-3", lambda x, y, z: np.einsum("...ij,jk,k", x, y, z),
     lambda x, y, z: torch.einsum("...ij,jk,k", x, y, z),
     (normal((2, 2, 3)), normal((3, 4)), normal((4,)))),
    ("tensordot", lambda x, y: np.tensordot(x, y, axes=([0, 2], [1, 0])),
     lambda x, y: torch.tensordot(x, y, dims=([0, 2], [1, 0])),
     (normal((2, 3, 4)), normal((4, 2, 5)))),
    ("inner", lambda x, y: np.inner(x, y), torch.inner, (normal((2, 3)), normal((4, 3)))),
    ("outer", lambda x, y: np.outer(x, y), torch.outer, (normal((3,)), normal((2,)))),
    ("vdot", lambda x, y: np.vdot(x, y), torch.vdot, (normal((3,)), normal((3,)))),
    ("kron", lambda x, y: np.kron(x, y), torch.kron, (normal((2, 3)), normal((3, 2)))),
    ("trace", lambda x: np.trace(x), torch.trace, (normal((3, 4)),)),
    ("diagonal", lambda x: np.diagonal(x, 1, 0, 2),
     lambda x: torch.diagonal(x, 1, 0, 2), (normal((3, 2, 4)),)),
    ("diag-vector", lambda x: np.diag(x, -1), lambda x: torch.diag(x, -1), (normal((3,)),)),
    ("diag-matrix", lambda x: np.diag(x, 1), lambda x: torch.diag(x, 1), (normal((3, 4)),)),
    ("tril", lambda x: np.tril(x, -1), lambda x: torch.tril(x, -1), (normal((2, 3, 4)),)),
    ("triu", lambda x: np.triu(x, 1), lambda x: torch.triu(x, 1), (normal((4, 3)),)),
    ("cross", lambda x, y: np.cross(x, y), lambda x, y: torch.linalg.cross(x, y),
     (normal((1, 4, 3)), normal((2, 1, 3)))),
    ("cross-axis", lambda x, y: np.cross(x, y, axis=0),
     lambda x, y: torch.linalg.cross(x, y, dim=0), (normal((3, 2)), normal((3, 2)))),
]


@pytest.mark.parametrize("name, ours, theirs, samplers", CASES, ids=[c[0] for c in CASES])
def test_values_gradients_and_second_derivatives_match_pytorch(name, ours, theirs, samplers):
    rng = np.random.default_rng(0)
    arrays = [s(rng) for s in samplers]
    x = [Tensor(a, requires_grad=True) for a in arrays]
    xt = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out, out_t = ours(*x), theirs(*xt)
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), rtol=1e-10, atol=1e-10)

    w = rng.normal(size=out.shape)
    grads = autograd.grad((out * w).sum(), x, create_graph=True)
    grads_t = torch.autograd.grad((out_t * torch.tensor(w)).sum(), xt, create_graph=True)
    for g, gt in zip(grads, grads_t):
        np.testing.assert_allclose(g.data, gt.detach().numpy(), rtol=1e-8, atol=1e-10)

    # second order: the gradient of <grad, v> (a Hessian-vector product)
    v = [rng.normal(size=a.shape) for a in arrays]
    second = sum((g * vi).sum() for g, vi in zip(grads, v))
    second_t = sum((g * torch.tensor(vi)).sum() for g, vi in zip(grads_t, v))
    # (a function linear in each input has constant gradients: no graph, and zeros here)
    hv = autograd.grad(second, x, allow_unused=True) if second.requires_grad else [None] * len(x)
    hv_t = (torch.autograd.grad(second_t, xt, allow_unused=True) if second_t.requires_grad
            else [None] * len(x))
    for h, ht, a in zip(hv, hv_t, arrays):
        want = np.zeros(a.shape) if ht is None else ht.numpy()
        got = np.zeros(a.shape) if h is None else h.data
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9)
