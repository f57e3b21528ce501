"""Ported from HIPS/autograd tests/test_linalg.py, MIT (Copyright (c) 2014 by the Harvard
Intelligent Probabilistic Systems Group); the triangular solves from its earlier version, which
called scipy.linalg.solve_triangular (here autograd.linalg.solve_triangular).

The functions are the same numpy calls, run on Tensors. `check_grads` (tests/hips_check.py)
keeps HIPS's check and its tolerances: a random projection of the reverse-mode gradient against
a central difference along a random direction (EPS = 1e-6), equal within TOL = 1e-6 absolute or
RTOL = 1e-6 relative, to second order (the gradient's own gradient, checked the same way).
Not ported: test_sqrtm (scipy.linalg.sqrtm has no rule in npgrad).
No case of this file needs complex numbers.
"""

import itertools

import numpy as np
import pytest
from hips_check import check_grads

from autograd import linalg as la

npr = np.random.RandomState(1)


@pytest.fixture(autouse=True)
def _seed():
    npr.seed(1)


def check_symmetric_matrix_grads(fun, *args):
    def symmetrize(a):
        lower = np.tril(a)
        return (lower + T(lower)) / 2.0
    return check_grads(lambda *a: fun(symmetrize(a[0]), *a[1:]), *args)


def T(a):
    return np.swapaxes(a, -1, -2)


def rand_psd(d):
    mat = npr.randn(d, d)
    return np.dot(mat, mat.T)


def test_inv():
    def fun(x):
        return np.linalg.inv(x)
    d = 8
    mat = npr.randn(d, d)
    mat = np.dot(mat, mat) + 1.0 * np.eye(d)
    check_grads(fun, mat)


def test_inv_3d():
    fun = lambda x: np.linalg.inv(x)  # noqa: E731
    d = 4
    mat = npr.randn(d, d, d) + 5 * np.eye(d)
    check_grads(fun, mat)
    mat = npr.randn(d, d, d, d) + 5 * np.eye(d)
    check_grads(fun, mat)


def test_solve_arg1():
    d = 8
    a = npr.randn(d, d) + 10.0 * np.eye(d)
    b = npr.randn(d, d - 1)
    check_grads(lambda a: np.linalg.solve(a, b), a)


def test_solve_arg1_1d():
    d = 8
    a = npr.randn(d, d) + 10.0 * np.eye(d)
    b = npr.randn(d)
    check_grads(lambda a: np.linalg.solve(a, b), a)


def test_solve_arg2():
    d = 6
    a = npr.randn(d, d) + 1.0 * np.eye(d)
    b = npr.randn(d, d - 1)
    check_grads(lambda b: np.linalg.solve(a, b), b)


def test_solve_arg1_3d():
    d = 4
    a = npr.randn(d + 1, d, d) + 5 * np.eye(d)
    # HIPS's B of shape (D+1, D) was a stack of vectors under numpy 1; numpy 2 takes a 2-D b
    # as one matrix, so the stack of vectors is written (D+1, D, 1)
    b = npr.randn(d + 1, d)[..., None]
    check_grads(lambda a: np.linalg.solve(a, b), a)


def test_solve_arg1_3d_3d():
    d = 4
    a = npr.randn(d + 1, d, d) + 5 * np.eye(d)
    b = npr.randn(d + 1, d, d + 2)
    check_grads(lambda a: np.linalg.solve(a, b), a)


def test_det():
    d = 6
    mat = npr.randn(d, d)
    check_grads(lambda x: np.linalg.det(x), mat)


def test_det_3d():
    d = 3
    mat = npr.randn(d, d, d)
    check_grads(lambda x: np.linalg.det(x), mat)


def test_slogdet():
    def fun(x):
        sign, logdet = np.linalg.slogdet(x)
        return logdet
    d = 6
    mat = npr.randn(d, d)
    check_grads(fun, mat)
    check_grads(fun, -mat)


def test_slogdet_3d():
    fun = lambda x: np.sum(np.linalg.slogdet(x)[1])  # noqa: E731
    mat = np.concatenate([(rand_psd(5) + 5 * np.eye(5))[None, ...] for _ in range(3)])
    check_grads(fun, mat)


def test_vector_2norm():
    check_grads(lambda x: np.linalg.norm(x), npr.randn(6))


def test_frobenius_norm():
    check_grads(lambda x: np.linalg.norm(x), npr.randn(6, 5))


def test_frobenius_norm_axis():
    check_grads(lambda x: np.linalg.norm(x, axis=(0, 1)), npr.randn(6, 5, 4))


@pytest.mark.parametrize("order", range(2, 5))
def test_vector_norm_ord(order):
    check_grads(lambda x: np.linalg.norm(x, ord=order), npr.randn(6))


@pytest.mark.parametrize("axis", range(3))
def test_norm_axis(axis):
    check_grads(lambda x: np.linalg.norm(x, axis=axis), npr.randn(6, 5, 4))


def test_norm_nuclear():
    check_grads(lambda x: np.linalg.norm(x, ord="nuc"), npr.randn(6, 5))


def test_norm_nuclear_axis():
    check_grads(lambda x: np.linalg.norm(x, ord="nuc", axis=(0, 1)), npr.randn(6, 5, 4))


def test_eigvalh_lower():
    def fun(x):
        w, v = np.linalg.eigh(x)
        return (w, v)
    mat = npr.randn(6, 6)
    check_symmetric_matrix_grads(fun, np.dot(mat.T, mat))


def test_eigvalh_upper():
    def fun(x):
        w, v = np.linalg.eigh(x, "U")
        return (w, v)
    mat = npr.randn(6, 6)
    check_symmetric_matrix_grads(fun, np.dot(mat.T, mat))


def broadcast_dot_transpose(a, b):
    return np.einsum("...ij,...kj->...ik", a, b)


def test_eigvalh_lower_broadcasting():
    def fun(x):
        w, v = np.linalg.eigh(x)
        return (w, v)
    d = 6
    mat = npr.randn(2, 3, d, d) + 10 * np.eye(d)[None, None, ...]
    check_symmetric_matrix_grads(fun, broadcast_dot_transpose(mat, mat))


def test_eigvalh_upper_broadcasting():
    def fun(x):
        w, v = np.linalg.eigh(x, "U")
        return (w, v)
    d = 6
    mat = npr.randn(2, 3, d, d) + 10 * np.eye(d)[None, None, ...]
    check_symmetric_matrix_grads(fun, broadcast_dot_transpose(mat, mat))


def test_cholesky():
    check_symmetric_matrix_grads(lambda a: np.linalg.cholesky(a), rand_psd(6))


def test_cholesky_broadcast():
    a = np.concatenate([rand_psd(6)[None, :, :] for i in range(3)], axis=0)
    check_symmetric_matrix_grads(lambda a: np.linalg.cholesky(a), a)


def test_cholesky_reparameterization_trick():
    def fun(a):
        rng = np.random.RandomState(0)
        z = np.dot(np.linalg.cholesky(a), rng.randn(a.shape[0]))
        return np.linalg.norm(z)
    check_symmetric_matrix_grads(fun, rand_psd(6))


TRIANGULAR = list(itertools.product(["T", "N", "C", 0, 1, 2], [True, False]))


@pytest.mark.parametrize("trans, lower", TRIANGULAR)
def test_solve_triangular_arg1(trans, lower):
    d = 6
    b = npr.randn(d)
    check_grads(lambda a: la.solve_triangular(a, b, trans=trans, lower=lower),
                npr.randn(d, d) + 10 * np.eye(d))


@pytest.mark.parametrize("trans, lower", TRIANGULAR)
def test_solve_triangular_arg2_1d(trans, lower):
    d = 6
    a = npr.randn(d, d) + 10 * np.eye(d)
    check_grads(lambda b: la.solve_triangular(a, b, trans=trans, lower=lower), npr.randn(d))


@pytest.mark.parametrize("trans, lower", TRIANGULAR)
def test_solve_triangular_arg2_2d(trans, lower):
    d = 6
    a = npr.randn(d, d) + 10 * np.eye(d)
    check_grads(lambda b: la.solve_triangular(a, b, trans=trans, lower=lower),
                npr.randn(d, d - 1))


def _svd(x):
    u, s, v = np.linalg.svd(x, full_matrices=False)
    return (u, s, v)


@pytest.mark.parametrize("shape", [(3, 5), (4, 3, 5), (4, 4), (3, 4, 4), (5, 3), (4, 5, 3)],
                         ids=["wide_2d", "wide_3d", "square_2d", "square_3d", "tall_2d",
                              "tall_3d"])
def test_svd(shape):
    check_grads(_svd, npr.randn(*shape))


@pytest.mark.parametrize("shape", [(5, 3), (4, 5, 3)], ids=["only_s_2d", "only_s_3d"])
def test_svd_only_s(shape):
    check_grads(lambda x: np.linalg.svd(x, full_matrices=False, compute_uv=False),
                npr.randn(*shape))
