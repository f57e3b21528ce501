"""autograd.scipy.linalg against scipy.linalg: solve_triangular (lower and upper, trans,
unit_diagonal, vector and matrix right sides, batches) and cho_solve (both factor layouts):
values, gradients by central differences and gradgradcheck, plain arrays in and out."""

import numpy as np
import pytest

import autograd.scipy.linalg as al
from autograd import Tensor, gradcheck, gradgradcheck

scipy_linalg = pytest.importorskip("scipy.linalg")

RNG = np.random.default_rng(0)
L = np.tril(RNG.normal(size=(4, 4))) + 3 * np.eye(4)
B = RNG.normal(size=(4, 2))
SPD = L @ L.T


@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("trans", [0, 1, "T"])
@pytest.mark.parametrize("unit_diagonal", [False, True])
@pytest.mark.parametrize("b", [B, B[:, 0]], ids=["matrix", "vector"])
def test_solve_triangular_matches_scipy(lower, trans, unit_diagonal, b):
    a = L if lower else L.T
    kwargs = dict(lower=lower, trans=trans, unit_diagonal=unit_diagonal)
    np.testing.assert_allclose(al.solve_triangular(a, b, **kwargs),
                               scipy_linalg.solve_triangular(a, b, **kwargs), rtol=1e-12)


def test_solve_triangular_reads_only_its_triangle_and_differentiates():
    noisy = L + np.triu(RNG.normal(size=(4, 4)), 1)  # garbage above the diagonal
    np.testing.assert_allclose(al.solve_triangular(noisy, B, lower=True),
                               scipy_linalg.solve_triangular(L, B, lower=True), rtol=1e-12)
    a, b = Tensor(L, requires_grad=True), Tensor(B, requires_grad=True)
    fn = lambda x, y: al.solve_triangular(x, y, lower=True, trans=1)  # noqa: E731
    assert gradcheck(fn, a, b) and gradgradcheck(fn, a, b)
    assert isinstance(fn(a, b), Tensor) and type(al.solve_triangular(L, B, lower=True)) is \
        np.ndarray


@pytest.mark.parametrize("lower", [True, False])
def test_cho_solve_matches_scipy_and_solves_the_system(lower):
    factor = scipy_linalg.cho_factor(SPD, lower=lower)
    x = al.cho_solve(factor, B)
    np.testing.assert_allclose(x, scipy_linalg.cho_solve(factor, B), rtol=1e-12)
    np.testing.assert_allclose(SPD @ x, B, atol=1e-12)
    c = Tensor(np.tril(factor[0]) if lower else np.triu(factor[0]), requires_grad=True)
    b = Tensor(B, requires_grad=True)
    assert gradcheck(lambda u, v: al.cho_solve((u, lower), v), c, b)
    assert gradgradcheck(lambda u, v: al.cho_solve((u, lower), v), c, b)
