"""numpy.linalg on Tensors: solve, inv, det, slogdet, cholesky, eigh, eigvalsh, svd, qr, pinv,
matrix_power, and a triangular solve, batched over leading axes as numpy's functions are.

np.linalg.solve(t, b) and the others dispatch here; results are Tensors (tuples of them where
numpy returns several arrays, with numpy's field names). Where a gradient is undefined the
backward pass raises an error naming it:
- eigh: eigenvector gradients at exactly repeated eigenvalues (the eigenvectors of a repeated
  eigenvalue are any basis of its eigenspace); eigenvalue gradients are always defined.
- svd: singular vector gradients at repeated singular values, and for a non-square matrix at a
  zero singular value; singular value gradients are always defined. full_matrices=True has a
  gradient only for square matrices (the extra columns are arbitrary): pass full_matrices=False.
- det and slogdet at a singular matrix (the gradient uses the inverse); pinv where the rank
  changes under a small perturbation (pinv is differentiable only where the rank is constant).
cholesky and eigh read only the lower triangle of a, as numpy's do; so do their gradients.
"""

from collections import namedtuple

import numpy as np

from . import engine, ops
from .functions import _tensors
from .ops.decompositions import qr_shapes, svd_shapes, unpack
from .tensor import Tensor, apply

SlogdetResult = namedtuple("SlogdetResult", "sign logabsdet")
EighResult = namedtuple("EighResult", "eigenvalues eigenvectors")
SVDResult = namedtuple("SVDResult", "U S Vh")
QRResult = namedtuple("QRResult", "Q R")


def _square(a, name):
    (a,) = _tensors([a], name)
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"{name}: a of shape {a.shape} is not a square matrix (or a stack of "
                         "them: shape (..., n, n))")
    return a


def _matrix(a, name):
    (a,) = _tensors([a], name)
    if a.ndim < 2:
        raise ValueError(f"{name}: a of shape {a.shape} is not a matrix (or a stack of them)")
    return a


def _right_side(a, b, name):
    a, b = _tensors([a, b], name)
    a = _square(a, name)
    n = a.shape[-1]
    rows = b.shape[0] if b.ndim == 1 else b.shape[-2] if b.ndim >= 2 else None
    if rows != n:
        raise ValueError(f"{name}: a of shape {a.shape} and b of shape {b.shape} do not align: "
                         f"b needs {n} rows (shape ({n},) or (..., {n}, k))")
    return a, b


def solve(a, b) -> Tensor:
    """x with a @ x = b; b is one vector when 1-D, else a stack of matrices (numpy 2's rule)."""
    a, b = _right_side(a, b, "solve")
    return apply(ops.solve, a, b)


def solve_triangular(a, b, lower=False, trans=0, unit_diagonal=False) -> Tensor:
    """x with a @ x = b, reading only a's lower (lower=True) or upper triangle, as
    scipy.linalg.solve_triangular (trans=1 or "T" solves a.T @ x = b; unit_diagonal=True takes
    the diagonal as ones), batched over leading axes like np.linalg.solve."""
    a, b = _right_side(a, b, "solve_triangular")
    if trans in (1, 2, "T", "C"):  # 2 and "C" (conjugate) are the transpose for real a
        a, lower = a.swapaxes(-1, -2), not lower
    elif trans not in (0, "N"):
        raise ValueError(f"solve_triangular: trans must be 0, 1, 2, 'N', 'T' or 'C', got {trans!r}")
    if unit_diagonal:
        eye = np.eye(a.shape[-1], dtype=a.dtype)
        a = a * (1 - eye) + eye
    return apply(ops.solve_triangular, a, b, lower=bool(lower))


def inv(a) -> Tensor:
    """The inverse of a square matrix (or of each in a stack)."""
    return apply(ops.inv, _square(a, "inv"))


def slogdet(a) -> SlogdetResult:
    """(sign, log|det a|): the sign is a constant Tensor (piecewise constant, no gradient)."""
    a = _square(a, "slogdet")
    sign = Tensor(np.linalg.slogdet(a.data)[0])
    return SlogdetResult(sign, apply(ops.slogdet, a))


def det(a) -> Tensor:
    """The determinant, as sign * exp(log|det|)."""
    sign, logabsdet = slogdet(_square(a, "det"))
    return sign * logabsdet.exp()


def cholesky(a, upper=False) -> Tensor:
    """L with a = L @ L.T (lower), reading a's lower triangle; upper=True gives L.T."""
    lower = apply(ops.cholesky, _square(a, "cholesky"))
    return lower.swapaxes(-1, -2) if upper else lower


def eigh(a, UPLO="L") -> EighResult:  # noqa: N803  (numpy's name)
    """Eigenvalues (ascending) and eigenvectors (columns) of a symmetric matrix, read from its
    lower triangle (UPLO="U": the upper one)."""
    a = _square(a, "eigh")
    if UPLO not in ("L", "U"):
        raise ValueError(f"eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    packed = apply(ops.eigh, a, UPLO=UPLO)
    return EighResult(packed[..., 0, :], packed[..., 1:, :])


def eigvalsh(a, UPLO="L") -> Tensor:  # noqa: N803
    """The eigenvalues of a symmetric matrix (always differentiable)."""
    return eigh(a, UPLO).eigenvalues


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """U, S, Vh with a = U @ diag(S) @ Vh (reduced: full_matrices=False), or S alone."""
    a = _matrix(a, "svd")
    m, n = a.shape[-2:]
    if hermitian:
        raise TypeError("svd(..., hermitian=True) on a Tensor: npgrad's svd takes "
                        "hermitian=False only (use eigh for symmetric matrices)")
    if full_matrices and compute_uv and m != n and _recording(a):
        raise ValueError(f"svd: full_matrices=True on a {m}x{n} matrix has no gradient (its "
                         f"extra singular vectors are arbitrary): pass full_matrices=False")
    packed = apply(ops.svd, a)
    u, s, vh = unpack(packed, svd_shapes(a.shape))
    if not compute_uv:
        return s
    if full_matrices and m != n:  # not recorded: the full factors, as constants
        return SVDResult(*(Tensor(x) for x in np.linalg.svd(a.data)))
    return SVDResult(u, s, vh)


def qr(a, mode="reduced") -> QRResult:
    """Q, R with a = Q @ R (mode="reduced"), or R alone (mode="r")."""
    a = _matrix(a, "qr")
    if mode not in ("reduced", "r", "complete"):
        raise ValueError(f"qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
    m, n = a.shape[-2:]
    if mode == "complete" and m > n:
        raise ValueError(f"qr: mode='complete' on a {m}x{n} matrix has no gradient (its extra "
                         "columns of Q are arbitrary): use mode='reduced'")
    q, r = unpack(apply(ops.qr, a), qr_shapes(a.shape))
    return r if mode == "r" else QRResult(q, r)


def pinv(a, rcond=None, hermitian=False, *, rtol=None) -> Tensor:
    """The Moore-Penrose pseudo-inverse (singular values below rcond * the largest are cut)."""
    a = _matrix(a, "pinv")
    if hermitian:
        raise TypeError("pinv(..., hermitian=True) on a Tensor: npgrad's pinv takes "
                        "hermitian=False only")
    cut = rcond if rcond is not None else rtol
    return apply(ops.pinv, a, rcond=None if cut is None else float(cut))


def matrix_power(a, n) -> Tensor:
    """a @ a @ ... (n times) by repeated squaring; n < 0 powers the inverse, n = 0 is I."""
    a = _square(a, "matrix_power")
    if not isinstance(n, (int, np.integer)):
        raise TypeError(f"matrix_power: the exponent must be an integer, got {n!r}")
    if n < 0:
        a, n = inv(a), -n
    result = None
    while n:
        if n & 1:
            result = a if result is None else result @ a
        n >>= 1
        if n:
            a = a @ a
    if result is None:  # n = 0: the identity, with a's batch shape, as numpy returns
        return Tensor(np.broadcast_to(np.eye(a.shape[-1], dtype=a.dtype), a.shape).copy())
    return result


def _recording(a):
    return a.requires_grad and engine.is_grad_enabled()
