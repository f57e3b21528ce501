"""scipy.linalg's triangular solves on Tensors: solve_triangular and cho_solve, with scipy's
signatures, on npgrad's triangular-solve op (batched over leading axes)."""

from .. import linalg as _linalg
from ._common import finish, tensors


def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
                     check_finite=True):
    """x with a @ x = b (a.T @ x = b for trans=1 or "T"), reading only a's lower (lower=True)
    or upper triangle; unit_diagonal=True takes the diagonal as ones. overwrite_b and
    check_finite are accepted and ignored: b is never written, and nan propagates."""
    (a, b), given = tensors(a, b, where="solve_triangular")
    return finish(_linalg.solve_triangular(a, b, lower=lower, trans=trans,
                                           unit_diagonal=unit_diagonal), given)


def cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    """x with A @ x = b, from A's Cholesky factor: `c_and_lower` is (c, lower) as
    scipy.linalg.cho_factor gives it (c triangular, A = c @ c.T for lower, c.T @ c else)."""
    c, lower = c_and_lower
    (c, b), given = tensors(c, b, where="cho_solve")
    # lower: A = L L^T, so x = L^-T (L^-1 b); upper: A = U^T U, so x = U^-1 (U^-T b)
    first = _linalg.solve_triangular(c, b, lower=lower, trans=0 if lower else 1)
    return finish(_linalg.solve_triangular(c, first, lower=lower, trans=1 if lower else 0), given)
