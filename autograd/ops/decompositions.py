"""Linear algebra on the last two axes, batched over the leading ones as numpy's: solves,
inverses, log-determinants, and the factorisations (cholesky, eigh, svd, qr, pinv).

A factorisation with several results (eigh's w and v, svd's u, s and vh, qr's q and r) is one
op whose output packs them into one array (see `pack`): the VJP needs all of them at once, and
`autograd.linalg` hands them out as views (getitem), whose gradients come back packed.
numpy's cholesky and eigh read only the lower triangle of `a`: their gradients are the exact
derivatives of that, zero above the diagonal (for a symmetric parametrisation the chain rule
through the symmetric input gives the symmetric gradient PyTorch reports).
"""

import numpy as np

from .core import Op, reads


def _t(x):
    """The transpose of the last two axes, on arrays and Tensors alike."""
    return x.swapaxes(-1, -2)


def _data(x):
    return x.data if hasattr(x, "requires_grad") else x


def _lower(x):
    """tril(x) with its diagonal halved: what an input read only below the diagonal receives
    of a symmetric gradient x + x^T (Murray's Phi)."""
    n = x.shape[-1]
    return x * (np.tri(n, dtype=_data(x).dtype) - np.eye(n, dtype=_data(x).dtype) / 2)


def _inverse_gaps(values, skew, name, what, shown=None):
    """F[..., i, j] = 1 / (values[j] - values[i]) off the diagonal, 0 on it.

    Where two values are equal the gradient is undefined unless the skew-symmetric part it
    multiplies is zero (then it is 0): an error naming the repeated values (`shown`, when the
    values are a function of them), never inf or nan.
    """
    gaps = values[..., None, :] - values[..., :, None]
    n = gaps.shape[-1]
    tie = (_data(gaps) == 0) & ~np.eye(n, dtype=bool)
    if np.any(tie & (_data(skew) != 0)):
        shown = _data(values if shown is None else shown)
        tied = np.unique(np.broadcast_to(shown[..., None, :], tie.shape)[tie])
        raise ValueError(f"{name}: the gradient through the {what} is undefined where values "
                         f"repeat ({tied[:5]}): use only the values, or break the tie (add a "
                         "small distinct perturbation)")
    safe = np.where(tie | np.eye(n, dtype=bool), 1, gaps)
    return np.where(tie | np.eye(n, dtype=bool), 0, 1 / safe)


def pack(parts):
    """Arrays with the same batch axes, each flattened after them, joined along the last axis."""
    return np.concatenate(parts, axis=-1)


def _flat(x):
    """A stack of matrices as a stack of flat rows."""
    return x.reshape(x.shape[:-2] + (x.shape[-2] * x.shape[-1],))


def unpack(packed, shapes):
    """Split the last axis of `packed` back into arrays of the given trailing shapes."""
    parts, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        part = packed[..., start:start + size]
        parts.append(part.reshape(packed.shape[:-1] + tuple(shape)))
        start += size
    return parts


# ---------------------------------------------------------------- solves and inverses
def _vector_b(b):
    """numpy 2's solve treats b as one vector only when it is 1-D."""
    return b.ndim == 1


def _solve_vjp_a(g, out, a, b):
    if _vector_b(b):
        g, out = g[..., None], out[..., None]
    return -(solve(_t(a), g) @ _t(out))


def _solve_vjp_b(g, out, a, b):
    if _vector_b(b):
        return solve(_t(a), g[..., None])[..., 0]
    return solve(_t(a), g)


solve = Op("solve", np.linalg.solve,
           _solve_vjp_a, "da = -(a^-T g) x^T", reads("a", "out"),
           _solve_vjp_b, "db = a^-T g", reads("a"))


def _triangle(a, lower):
    return np.tril(a) if lower else np.triu(a)


def _solve_triangular(a, b, lower=False):
    return np.linalg.solve(_triangle(a, lower), b)


def _triangular_vjp_a(g, out, a, b, lower=False):
    if _vector_b(b):
        g, out = g[..., None], out[..., None]
    return _triangle(-(solve_triangular(_t(a), g, lower=not lower) @ _t(out)), lower)


def _triangular_vjp_b(g, out, a, b, lower=False):
    if _vector_b(b):
        return solve_triangular(_t(a), g[..., None], lower=not lower)[..., 0]
    return solve_triangular(_t(a), g, lower=not lower)


# a x = b with only one triangle of `a` read (the other taken as zeros)
solve_triangular = Op("solve_triangular", _solve_triangular,
                      _triangular_vjp_a, "da = triangle of -(a^-T g) x^T", reads("a", "out"),
                      _triangular_vjp_b, "db = a^-T g", reads("a"))

inv = Op("inv", np.linalg.inv,
         lambda g, out, a: -(_t(out) @ g @ _t(out)), "da = -x^T g x^T", reads("out"))

# log |det a|; its sign is piecewise constant and comes as data (autograd.linalg.slogdet)
slogdet = Op("slogdet", lambda a: np.linalg.slogdet(a)[1],
             lambda g, out, a: g[..., None, None] * _t(inv(a)), "da = g a^-T", reads("a"))


# ---------------------------------------------------------------- factorisations
def _cholesky_vjp(g, out, a):
    # Murray (2016), arXiv:1602.07527: S = L^-T Phi(L^T g) L^-1 is the gradient for a
    # symmetric change of a; a is read below the diagonal only, which collects S + S^T there.
    lt = _t(out)
    x = solve_triangular(lt, _lower(lt @ g), lower=False)  # L^-T P
    s = _t(solve_triangular(lt, _t(x), lower=False))  # L^-T P L^-1
    return _lower(s + _t(s))


cholesky = Op("cholesky", np.linalg.cholesky,
              _cholesky_vjp, "da = Phi(S + S^T), S = L^-T Phi(L^T g) L^-1", reads("out"))


def _eigh(a, UPLO="L"):  # noqa: N803  (numpy's name)
    w, v = np.linalg.eigh(a, UPLO)
    return np.concatenate([w[..., None, :], v], axis=-2)  # packed: row 0 is w, then v


def _eigh_vjp(g, out, a, UPLO="L"):  # noqa: N803
    w, v = out[..., 0, :], out[..., 1:, :]
    gw, gv = g[..., 0, :], g[..., 1:, :]
    m = _t(v) @ gv
    f = _inverse_gaps(w, m - _t(m), "eigh", "eigenvectors")
    s = v @ (gw[..., None, :] * np.eye(w.shape[-1], dtype=_data(w).dtype) + f * m) @ _t(v)
    lower = _lower(s + _t(s))
    return lower if UPLO == "L" else _t(lower)


eigh = Op("eigh", _eigh,
          _eigh_vjp, "da = V (diag(gw) + F * V^T gV) V^T, on the triangle read", reads("out"))


def svd_shapes(shape):
    m, n = shape[-2:]
    k = min(m, n)
    return (m, k), (k,), (k, n)


def _svd(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return pack([_flat(u), s, _flat(vh)])


def _svd_vjp(g, out, a):
    m, n = a.shape[-2:]
    k = min(m, n)
    u, s, vh = unpack(out, svd_shapes(a.shape))
    gu, gs, gvh = unpack(g, svd_shapes(a.shape))
    ut_gu = _t(u) @ gu
    vt_gv = vh @ _t(gvh)
    su, sv = ut_gu - _t(ut_gu), vt_gv - _t(vt_gv)
    f = _inverse_gaps(s * s, su + sv, "svd", "singular vectors", shown=s)
    inner = (f * su) * s[..., None, :] + s[..., :, None] * (f * sv)
    inner = inner + gs[..., None, :] * np.eye(k, dtype=_data(s).dtype)
    ga = u @ inner @ vh
    # the parts of gu and gvh outside the spans of u and v, for non-square a
    if m > k:
        gu_out = gu - u @ ut_gu
        if _needs_inverse(gu_out, s, m, n):
            ga = ga + (gu_out / s[..., None, :]) @ vh
    if n > k:
        gvh_out = gvh - _t(vt_gv) @ vh
        if _needs_inverse(gvh_out, s, m, n):
            ga = ga + u @ (gvh_out / s[..., :, None])
    return ga


def _needs_inverse(part, s, m, n):
    """Whether `part` is nonzero, so that it is divided by s: an error if an s is 0."""
    if not np.any(_data(part)):
        return False
    if np.any(_data(s) == 0):
        raise ValueError(f"svd: the gradient through the singular vectors of a {m}x{n} matrix "
                         "is undefined where a singular value is 0")
    return True


svd = Op("svd", _svd, _svd_vjp,
         "da = U (F*skew(U^T gU) S + S F*skew(V^T gV) + diag(gs)) V^T + off-span parts",
         reads("out"))


def qr_shapes(shape):
    m, n = shape[-2:]
    k = min(m, n)
    return (m, k), (k, n)


def _qr(a):
    q, r = np.linalg.qr(a)
    return pack([_flat(q), _flat(r)])


def _qr_square_vjp(q, r, gq, gr):
    """For a = q r with r square (m >= n): (gq + q copyltu(M)) r^-T, M = r gr^T - gq^T q."""
    mm = r @ _t(gr) - _t(gq) @ q
    lower = mm * np.tri(mm.shape[-1], dtype=_data(mm).dtype)
    copyltu = lower + _t(lower) - mm * np.eye(mm.shape[-1], dtype=_data(mm).dtype)
    return _t(solve_triangular(r, _t(gq + q @ copyltu), lower=False))


def _qr_vjp(g, out, a):
    # Roberts et al. (2020), arXiv:2009.10071; a wide a = q [r1 r2] splits into x = q r1 (square)
    # and y = q r2, whose gradient q gr2 also reaches q.
    m, n = a.shape[-2:]
    q, r = unpack(out, qr_shapes(a.shape))
    gq, gr = unpack(g, qr_shapes(a.shape))
    if m >= n:
        return _qr_square_vjp(q, r, gq, gr)
    gr1, gr2 = gr[..., :, :m], gr[..., :, m:]
    y = q @ r[..., :, m:]
    gx = _qr_square_vjp(q, r[..., :, :m], gq + y @ _t(gr2), gr1)
    return np.concatenate([gx, q @ gr2], axis=-1)


qr = Op("qr", _qr, _qr_vjp, "da = (gq + q copyltu(r gr^T - gq^T q)) r^-T", reads("out"))


def _pinv_vjp(g, out, a, rcond=None):
    # Golub and Pereyra (1973): dP = -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P, for
    # a change of a that keeps its rank.
    p, pt = out, _t(out)
    m, n = a.shape[-2:]
    dtype = _data(out).dtype
    left = np.eye(m, dtype=dtype) - a @ p
    right = np.eye(n, dtype=dtype) - p @ a
    return -(pt @ g @ pt) + left @ _t(g) @ p @ pt + pt @ p @ _t(g) @ right


pinv = Op("pinv", lambda a, rcond=None: np.linalg.pinv(a) if rcond is None
          else np.linalg.pinv(a, rcond=rcond),
          _pinv_vjp, "da = -P^T g P^T + (I - A P) g^T P P^T + P^T P g^T (I - P A)",
          reads("a", "out"))
