"""autograd.linalg through numpy (np.linalg.solve(t, b), ...): values against numpy, gradients
against float64 central differences (first and second order), batched and edge shapes, float32,
the undefined gradients (repeated eigenvalues and singular values) and shape errors.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
from autograd import Tensor, gradcheck, gradgradcheck
from autograd import linalg as la


def normal(*shape):
    return lambda rng: rng.normal(size=shape)


def spd(*shape):
    """Symmetric positive definite matrices (a stack of them), well conditioned."""
    n = shape[-1]
    return lambda rng: (lambda x: x @ x.swapaxes(-1, -2) + n * np.eye(n))(rng.normal(size=shape))


def shifted(*shape):
    """Random matrices moved away from singular by a multiple of the identity."""
    return lambda rng: rng.normal(size=shape) + 3 * np.eye(shape[-1])


def symmetric(a):
    """a read as numpy's cholesky and eigh read it: its lower triangle, mirrored."""
    lower = np.tril(a)
    return (lower + lower.swapaxes(-1, -2)) / 2


# (id, call, samplers): call runs the same on arrays (numpy's value) and on Tensors
CASES = [
    ("solve-vector", lambda a, b: np.linalg.solve(a, b), (shifted(3, 3), normal(3))),
    ("solve-matrix", lambda a, b: np.linalg.solve(a, b), (shifted(3, 3), normal(3, 2))),
    ("solve-batched-a-vector-b", lambda a, b: np.linalg.solve(a, b),
     (shifted(2, 3, 3), normal(3))),
    ("solve-broadcast-a", lambda a, b: np.linalg.solve(a, b), (shifted(3, 3), normal(2, 3, 2))),
    ("solve-batched-both", lambda a, b: np.linalg.solve(a, b),
     (shifted(2, 1, 3, 3), normal(4, 3, 1))),
    ("inv", lambda a: np.linalg.inv(a), (shifted(3, 3),)),
    ("inv-batched", lambda a: np.linalg.inv(a), (shifted(2, 2, 3, 3),)),
    ("det", lambda a: np.linalg.det(a), (normal(3, 3),)),
    ("det-batched", lambda a: np.linalg.det(a), (normal(4, 2, 2),)),
    ("slogdet", lambda a: np.linalg.slogdet(a)[1], (normal(2, 4, 4),)),
    ("slogdet-negative-det", lambda a: np.linalg.slogdet(-a)[1], (spd(3, 3),)),
    ("cholesky", lambda a: np.linalg.cholesky(a), (spd(4, 4),)),
    ("cholesky-batched", lambda a: np.linalg.cholesky(a), (spd(2, 3, 3),)),
    ("cholesky-upper", lambda a: np.linalg.cholesky(a, upper=True), (spd(3, 3),)),
    ("cholesky-symmetric-input", lambda a: np.linalg.cholesky(symmetric(a)), (spd(3, 3),)),
    ("eigh-values", lambda a: np.linalg.eigh(a).eigenvalues, (normal(2, 4, 4),)),
    ("eigh-vectors", lambda a: np.linalg.eigh(a).eigenvectors, (spd(2, 3, 3),)),
    ("eigh-upper", lambda a: np.linalg.eigh(a, "U")[1] * np.linalg.eigh(a, "U")[0],
     (normal(3, 3),)),
    ("eigvalsh", lambda a: np.linalg.eigvalsh(a), (normal(3, 3),)),
    ("svd-tall", lambda a: np.linalg.svd(a, full_matrices=False)[0], (normal(4, 3),)),
    ("svd-wide", lambda a: np.linalg.svd(a, full_matrices=False)[2], (normal(2, 3, 5),)),
    ("svd-square-all", lambda a: sum(np.sum(x) * (k + 1) for k, x in
                                     enumerate(np.linalg.svd(a, full_matrices=False))),
     (normal(3, 3),)),
    ("svd-values", lambda a: np.linalg.svd(a, compute_uv=False), (normal(2, 3, 4),)),
    ("svd-square-full", lambda a: np.linalg.svd(a)[0], (normal(3, 3),)),
    ("qr-tall", lambda a: np.linalg.qr(a).Q, (normal(4, 3),)),
    ("qr-tall-r", lambda a: np.linalg.qr(a).R, (normal(2, 4, 3),)),
    ("qr-square", lambda a: np.linalg.qr(a)[0] * 2 + np.linalg.qr(a)[1], (normal(3, 3),)),
    ("qr-wide", lambda a: np.linalg.qr(a)[0].sum() + np.linalg.qr(a)[1] * 2, (normal(3, 5),)),
    ("qr-r-mode", lambda a: np.linalg.qr(a, mode="r"), (normal(2, 3, 5),)),
    ("pinv-tall", lambda a: np.linalg.pinv(a), (normal(4, 2),)),
    ("pinv-wide-batched", lambda a: np.linalg.pinv(a), (normal(2, 2, 4),)),
    ("pinv-square", lambda a: np.linalg.pinv(a), (shifted(3, 3),)),
    ("matrix_power-3", lambda a: np.linalg.matrix_power(a, 3), (normal(3, 3),)),
    ("matrix_power-1", lambda a: np.linalg.matrix_power(a, 1), (normal(2, 3, 3),)),
    ("matrix_power-minus-2", lambda a: np.linalg.matrix_power(a, -2), (shifted(3, 3),)),
    ("matrix_power-5-batched", lambda a: np.linalg.matrix_power(a, 5) / 10,
     (normal(2, 2, 2),)),
    # size-1 matrices
    ("solve-1x1", lambda a, b: np.linalg.solve(a, b), (shifted(1, 1), normal(1, 3))),
    ("inv-1x1", lambda a: np.linalg.inv(a), (shifted(1, 1),)),
    ("det-1x1", lambda a: np.linalg.det(a), (normal(1, 1),)),
    ("cholesky-1x1", lambda a: np.linalg.cholesky(a), (spd(1, 1),)),
    ("eigh-1x1", lambda a: np.linalg.eigh(a)[0] + np.linalg.eigh(a)[1][..., 0], (normal(1, 1),)),
    ("svd-1xn", lambda a: np.linalg.svd(a, full_matrices=False)[1], (normal(1, 4),)),
    ("qr-nx1", lambda a: np.linalg.qr(a)[0], (normal(3, 1),)),
    ("pinv-1xn", lambda a: np.linalg.pinv(a), (normal(1, 3),)),
    # near-singular, where the rules still hold: large but finite gradients
    ("solve-ill-conditioned", lambda a, b: np.linalg.solve(a, b),
     (lambda rng: np.diag([1.0, 1e-3]) + 1e-4 * rng.normal(size=(2, 2)), normal(2))),
    ("det-near-singular", lambda a: np.linalg.det(a),
     (lambda rng: np.array([[1.0, 2.0], [1.0, 2.0 + 1e-6]]) + 0 * rng.normal(),)),
]
IDS = [case[0] for case in CASES]


def make(samplers, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return [Tensor(s(rng).astype(dtype), requires_grad=True) for s in samplers]


def weighted(call, shape):
    weights = np.random.default_rng(1).normal(size=shape)
    return lambda *x: call(*x) * weights


@pytest.mark.parametrize("name, call, samplers", CASES, ids=IDS)
def test_values_match_numpy(name, call, samplers):
    x = make(samplers)
    out = call(*x)
    assert isinstance(out, Tensor) and out.requires_grad
    np.testing.assert_allclose(out.data, call(*[t.data for t in x]), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name, call, samplers", CASES, ids=IDS)
def test_gradients_match_central_differences(name, call, samplers):
    x = make(samplers)
    fn = weighted(call, call(*x).shape)
    assert gradcheck(fn, *x, rtol=1e-3 if "near" not in name else 1e-2)


# (not near-singular matrices: their second differences lose all digits)
WELL_CONDITIONED = [c for c, i in zip(CASES, IDS) if "ill" not in i and "near" not in i]


@pytest.mark.parametrize("name, call, samplers", WELL_CONDITIONED,
                         ids=[i for i in IDS if "ill" not in i and "near" not in i])
def test_second_derivatives_match_central_differences(name, call, samplers):
    x = make(samplers)
    assert gradgradcheck(weighted(call, call(*x).shape), *x)


@pytest.mark.parametrize("name, call, samplers", CASES, ids=IDS)
def test_float32_in_float32_out(name, call, samplers):
    x = make(samplers, np.float32)
    out = call(*x)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, np.float32))
    assert all(t.grad.dtype == np.float32 and np.isfinite(t.grad).all() for t in x)


# ---------------------------------------------------------------- empty stacks
@pytest.mark.parametrize("call, shapes", [
    (lambda a, b: np.linalg.solve(a, b), [(0, 3, 3), (0, 3, 2)]),
    (lambda a: np.linalg.inv(a), [(0, 2, 2)]),
    (lambda a: np.linalg.det(a), [(2, 0, 3, 3)]),
    (lambda a: np.linalg.cholesky(a), [(0, 2, 2)]),
    (lambda a: np.linalg.eigh(a)[1], [(0, 2, 2)]),
    (lambda a: np.linalg.svd(a, full_matrices=False)[0], [(0, 3, 2)]),
    (lambda a: np.linalg.qr(a)[1], [(0, 3, 2)]),
])
def test_an_empty_stack_gives_empty_results_and_gradients(call, shapes):
    x = [Tensor(np.zeros(s), requires_grad=True) for s in shapes]
    out = call(*x)
    assert out.shape == call(*[t.data for t in x]).shape
    out.sum().backward()
    assert all(t.grad.shape == t.shape for t in x)


# ---------------------------------------------------------------- closed forms
def test_the_gradient_of_log_det_is_the_inverse_transpose():
    a = Tensor(np.random.default_rng(0).normal(size=(3, 3)), requires_grad=True)
    np.linalg.slogdet(a).logabsdet.backward()
    np.testing.assert_allclose(a.grad, np.linalg.inv(a.data).T, rtol=1e-12)


def test_cholesky_and_eigh_read_the_lower_triangle_only():
    a = Tensor(spd(3, 3)(np.random.default_rng(0)), requires_grad=True)
    (np.linalg.cholesky(a).sum() + np.linalg.eigh(a)[1].sum()).backward()
    assert not np.triu(a.grad, 1).any()


def test_a_symmetric_parametrisation_gets_pytorchs_symmetric_gradient():
    # through a = (b + b.T) / 2 the gradient reaching a's upper triangle is mirrored
    b = Tensor(spd(3, 3)(np.random.default_rng(0)), requires_grad=True)
    np.linalg.eigvalsh((b + b.transpose()) / 2)[-1].backward()
    v = np.linalg.eigh(b.data)[1][:, -1]
    np.testing.assert_allclose(b.grad, np.outer(v, v), atol=1e-12)


def test_matrix_power_0_is_the_identity_with_numpys_shape():
    a = Tensor(np.ones((2, 3, 3)), requires_grad=True)
    np.testing.assert_array_equal(np.linalg.matrix_power(a, 0).data,
                                  np.linalg.matrix_power(a.data, 0))


def test_results_carry_numpys_field_names():
    a = Tensor(spd(3, 3)(np.random.default_rng(0)))
    assert np.linalg.eigh(a).eigenvalues.shape == (3,)
    assert np.linalg.svd(a, full_matrices=False).Vh.shape == (3, 3)
    assert np.linalg.qr(a).R.shape == (3, 3)
    assert np.linalg.slogdet(a).sign.item() == 1.0


# ---------------------------------------------------------------- undefined gradients
def test_eigenvalue_gradients_are_defined_at_repeated_eigenvalues():
    a = Tensor(np.eye(3), requires_grad=True)
    np.linalg.eigvalsh(a).sum().backward()  # the trace: gradient I (its lower triangle)
    np.testing.assert_allclose(a.grad, np.eye(3), atol=1e-12)


def test_eigenvector_gradients_at_repeated_eigenvalues_raise_naming_them():
    a = Tensor(np.diag([2.0, 2.0, 5.0]), requires_grad=True)
    v = np.linalg.eigh(a)[1]
    with pytest.raises(ValueError, match=r"eigh: .*eigenvectors is undefined where values "
                                         r"repeat \(\[2\.\]\)"):
        (v * np.arange(9.0).reshape(3, 3)).sum().backward()


def test_eigenvectors_of_a_distinct_eigenvalue_still_differentiate_beside_a_tie():
    a = Tensor(np.diag([2.0, 2.0, 5.0]), requires_grad=True)
    np.linalg.eigh(a)[1][:, 2].sum().backward()
    assert np.isfinite(a.grad).all()


def test_singular_vectors_at_repeated_singular_values_raise():
    a = Tensor(np.diag([3.0, 3.0, 1.0]), requires_grad=True)
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    np.testing.assert_allclose(autograd.grad(s.sum(), a)[0].data, np.eye(3), atol=1e-12)
    with pytest.raises(ValueError, match=r"svd: the gradient through the singular vectors is "
                                         r"undefined where values repeat \(\[3\.\]\)"):
        (u * np.arange(9.0).reshape(3, 3)).sum().backward()


def test_singular_vectors_of_a_rank_deficient_wide_matrix_raise():
    a = Tensor(np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]), requires_grad=True)
    with pytest.raises(ValueError, match="singular value is 0"):
        np.linalg.svd(a, full_matrices=False).Vh[1, 2].backward()  # any unit vector of a plane


def test_full_matrices_of_a_non_square_matrix_raise_naming_the_fix():
    a = Tensor(np.ones((3, 4)), requires_grad=True)
    with pytest.raises(ValueError, match=r"3x4 matrix has no gradient.*full_matrices=False"):
        np.linalg.svd(a)
    with autograd.no_grad():  # nothing to differentiate: numpy's full factors
        u, s, vh = np.linalg.svd(a)
    assert u.shape == (3, 3) and vh.shape == (4, 4)


def test_qr_complete_of_a_tall_matrix_raises():
    with pytest.raises(ValueError, match=r"mode='complete' on a 4x2 matrix has no gradient"):
        np.linalg.qr(Tensor(np.ones((4, 2)), requires_grad=True), mode="complete")


def test_det_gradient_at_a_singular_matrix_raises():
    a = Tensor(np.ones((2, 2)), requires_grad=True)
    d = np.linalg.det(a)
    assert d.item() == 0.0
    with pytest.raises(np.linalg.LinAlgError):
        d.backward()


# ---------------------------------------------------------------- triangular solves
@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("trans", [0, 1, "T"])
@pytest.mark.parametrize("unit_diagonal", [False, True])
def test_solve_triangular_matches_a_dense_solve_and_differentiates(lower, trans, unit_diagonal):
    rng = np.random.default_rng(0)
    a = Tensor(rng.normal(size=(2, 3, 3)) + 3 * np.eye(3), requires_grad=True)
    b = Tensor(rng.normal(size=(3,)), requires_grad=True)
    tri = np.tril(a.data) if lower else np.triu(a.data)
    if unit_diagonal:
        tri = tri * (1 - np.eye(3)) + np.eye(3)
    if trans in (1, "T"):
        tri = tri.swapaxes(-1, -2)

    def call(a, b):
        return la.solve_triangular(a, b, lower=lower, trans=trans, unit_diagonal=unit_diagonal)

    np.testing.assert_allclose(call(a, b).data, np.linalg.solve(tri, b.data), rtol=1e-12)
    assert gradcheck(weighted(call, (2, 3)), a, b)
    assert gradgradcheck(weighted(call, (2, 3)), a, b)


def test_solve_triangular_reads_one_triangle():
    a = Tensor(np.triu(np.full((3, 3), np.nan), 1) + np.tril(np.ones((3, 3))), requires_grad=True)
    x = la.solve_triangular(a, np.ones(3), lower=True)
    np.testing.assert_allclose(x.data, np.linalg.solve(np.tril(np.ones((3, 3))), np.ones(3)))
    x.sum().backward()
    assert not np.triu(a.grad, 1).any() and np.isfinite(a.grad).all()


# ---------------------------------------------------------------- errors that name the shapes
@pytest.mark.parametrize("call, message", [
    (lambda: np.linalg.solve(Tensor(np.eye(3)), np.ones(4)),
     r"solve: a of shape \(3, 3\) and b of shape \(4,\) do not align"),
    (lambda: np.linalg.solve(Tensor(np.eye(3)), np.ones((2, 4, 2))),
     r"solve: a of shape \(3, 3\) and b of shape \(2, 4, 2\)"),
    (lambda: np.linalg.inv(Tensor(np.ones((2, 3)))), r"inv: a of shape \(2, 3\) is not a square"),
    (lambda: np.linalg.det(Tensor(np.ones(3))), r"det: a of shape \(3,\) is not a square"),
    (lambda: np.linalg.cholesky(Tensor(np.ones((3, 2)))), r"cholesky: a of shape \(3, 2\)"),
    (lambda: np.linalg.svd(Tensor(np.ones(3))), r"svd: a of shape \(3,\) is not a matrix"),
    (lambda: la.solve_triangular(Tensor(np.eye(2)), np.ones(3)), r"solve_triangular: a of"),
    (lambda: np.linalg.eigh(Tensor(np.eye(2)), "X"), r"eigh: UPLO must be 'L' or 'U'"),
])
def test_bad_shapes_raise_naming_the_op_and_shapes(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_a_non_positive_definite_matrix_raises_numpys_error_with_the_op():
    with pytest.raises(np.linalg.LinAlgError, match=r"cholesky.*\(input shape \(2, 2\)\)"):
        np.linalg.cholesky(Tensor(-np.eye(2), requires_grad=True))


# ---------------------------------------------------------------- properties
@settings(max_examples=20, deadline=None)
@given(batch=st.lists(st.integers(1, 3), max_size=2), n=st.integers(1, 4),
       seed=st.integers(0, 1000))
def test_solve_inverts_matmul_and_its_gradient_is_the_closed_form(batch, n, seed):
    rng = np.random.default_rng(seed)
    a = Tensor(rng.normal(size=(*batch, n, n)) + 3 * n * np.eye(n), requires_grad=True)
    x_true = rng.normal(size=(*batch, n, 2))
    x = np.linalg.solve(a, a.data @ x_true)
    np.testing.assert_allclose(x.data, x_true, atol=1e-10)
    g = rng.normal(size=x.shape)
    (x * g).sum().backward()
    gb = np.linalg.solve(a.data.swapaxes(-1, -2), g)
    np.testing.assert_allclose(a.grad, -gb @ x.data.swapaxes(-1, -2), atol=1e-10)
