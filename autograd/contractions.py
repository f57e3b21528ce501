"""Products and sums over axes, as numpy spells them: einsum (explicit or implicit output,
ellipsis, repeated letters for traces and diagonals), tensordot, dot, vdot, inner, outer, kron,
trace, diag, diagonal, tril, triu, and the cross product. All of them are einsums (two rows of
the op table), masks, or products of slices.

An einsum of three or more operands runs as a chain of two-operand einsums in the order
`np.einsum_path` gives (with `optimize=`, or numpy's greedy order without it): each link is one
node of the graph, and `optimize=` is passed on to each.
"""

import string
import warnings

import numpy as np

from . import ops
from .arrange import _axis_in, moveaxis, pad
from .functions import _tensors, stack, where
from .tensor import Tensor, apply


# ---------------------------------------------------------------- einsum
def _spec_from_sublists(operands):
    """einsum(a, [0, 1], b, [1, 2], [0, 2]) -> ('ab,bc->ac', [a, b])."""
    def letters(sublist):
        return "".join("..." if s is Ellipsis else string.ascii_letters[s] for s in sublist)
    arrays, subs = list(operands[0:-1:2]), [letters(s) for s in operands[1::2]]
    spec = ",".join(subs[: len(arrays)])
    if len(operands) % 2:  # an output sublist at the end
        spec += "->" + letters(operands[-1])
    return spec, arrays


def _explicit(spec, shapes):
    """Subscripts with the output written out and each ellipsis replaced by letters."""
    spec = spec.replace(" ", "")
    inputs, arrow, output = spec.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: {spec!r} names {len(terms)} operands, got {len(shapes)}")
    spare = [c for c in string.ascii_letters if c not in spec]
    widths = [len(shape) - len(t.replace("...", "")) for t, shape in zip(terms, shapes)]
    if any(w < 0 or (w and "..." not in t) for w, t in zip(widths, terms)):
        raise ValueError(f"einsum: {spec!r} does not fit operands of shapes "
                         f"{', '.join(map(str, shapes))}")
    width = max([w for w, t in zip(widths, terms) if "..." in t], default=0)
    dots = "".join(spare[:width])
    terms = [t.replace("...", dots[width - w:]) for t, w in zip(terms, widths)]
    sizes = {}
    for term, shape in zip(terms, shapes):
        for letter, n in zip(term, shape):
            if sizes.get(letter, 1) not in (1, n) and n != 1:
                raise ValueError(f"einsum: {spec!r}: letter {letter!r} has size {sizes[letter]} "
                                 f"and {n} (operands of shapes {', '.join(map(str, shapes))})")
            sizes[letter] = n if sizes.get(letter, 1) == 1 else sizes[letter]
    if arrow:
        output = output.replace("...", dots)
    else:  # implicit: the broadcast axes, then the letters used once, alphabetically
        letters = "".join(terms)
        once = sorted(c for c in set(letters) if letters.count(c) == 1 and c not in dots)
        output = dots + "".join(once)
    return terms, output


def einsum(*operands, optimize=False, **kwargs) -> Tensor:
    """np.einsum on Tensors (and arrays): subscripts as a string or as sublists."""
    if kwargs:
        raise TypeError(f"einsum(..., {', '.join(kwargs)}=...) on a Tensor: npgrad's version "
                        "takes only optimize=")
    if isinstance(operands[0], str):
        spec, arrays = operands[0], list(operands[1:])
    else:
        spec, arrays = _spec_from_sublists(operands)
    tensors = _tensors(arrays, "einsum")
    terms, output = _explicit(spec, [t.shape for t in tensors])
    if len(tensors) == 1:
        return apply(ops.einsum_unary, tensors[0], subscripts=f"{terms[0]}->{output}",
                     optimize=optimize)
    try:
        path = np.einsum_path(",".join(terms) + "->" + output, *(t.data for t in tensors),
                              optimize=optimize or "greedy")[0][1:]
    except ValueError as err:
        raise ValueError(f"einsum: {spec!r}: {err}") from None
    if not isinstance(optimize, (bool, str)):  # a path: it was for all the operands at once
        optimize = True
    pending = list(zip(terms, tensors))
    for step in path:
        picked = [pending[i] for i in step]
        pending = [p for i, p in enumerate(pending) if i not in step]
        while len(picked) > 1:
            (sa, a), (sb, b), *picked = picked
            needed = set(output + "".join(s for s, _ in pending + picked))
            last = not pending and not picked
            kept = output if last else "".join(dict.fromkeys(c for c in sa + sb if c in needed))
            picked.insert(0, (kept, apply(ops.einsum, a, b, subscripts=f"{sa},{sb}->{kept}",
                                          optimize=optimize)))
        pending.append(picked[0])
    (sub, result), = pending
    if sub != output:
        result = apply(ops.einsum_unary, result, subscripts=f"{sub}->{output}", optimize=False)
    return result


# ---------------------------------------------------------------- composites of einsum
def tensordot(a, b, axes=2) -> Tensor:
    """np.tensordot: sum over the last `axes` axes of a and the first of b, or over the given
    pairs of axes ([a's], [b's])."""
    a, b = _tensors([a, b], "tensordot")
    if isinstance(axes, (int, np.integer)):
        axes = (list(range(a.ndim - axes, a.ndim)), list(range(axes)))
    on_a, on_b = ([x] if isinstance(x, (int, np.integer)) else list(x) for x in axes)
    if len(on_a) != len(on_b) or any(a.shape[i] != b.shape[j] for i, j in zip(on_a, on_b)):
        raise ValueError(f"tensordot: axes {on_a} of a {a.shape} and {on_b} of b {b.shape} "
                         "do not pair up")
    letters = iter(string.ascii_letters)
    sa = [next(letters) for _ in range(a.ndim)]
    sb = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(on_a, on_b):
        sb[j] = sa[i]
    summed = {sa[i] for i in on_a}
    out = [c for c in sa if c not in summed] + [c for c in sb if c not in summed]
    return einsum(f"{''.join(sa)},{''.join(sb)}->{''.join(out)}", a, b)


def dot(a, b) -> Tensor:
    """np.dot for any dimensions: a product with a 0-d operand, else a sum over a's last axis
    and b's last (1-D b) or second-to-last."""
    a, b = _tensors([a, b], "dot")
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return tensordot(a, b, axes=([a.ndim - 1], [max(b.ndim - 2, 0)]))


def vdot(a, b) -> Tensor:
    """np.vdot: the dot product of the flattened operands (real Tensors: no conjugate)."""
    a, b = _tensors([a, b], "vdot")
    if a.size != b.size:
        raise ValueError(f"vdot: operands of shapes {a.shape} and {b.shape} differ in size")
    return einsum("i,i->", a.reshape(-1), b.reshape(-1))


def inner(a, b) -> Tensor:
    """np.inner: a sum over the last axes of both (a product for a 0-d operand)."""
    a, b = _tensors([a, b], "inner")
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return tensordot(a, b, axes=([a.ndim - 1], [b.ndim - 1]))


def outer(a, b) -> Tensor:
    """np.outer: every element of a (flattened) times every element of b."""
    a, b = _tensors([a, b], "outer")
    return einsum("i,j->ij", a.reshape(-1), b.reshape(-1))


def kron(a, b) -> Tensor:
    """np.kron: the Kronecker product, block (i, j) being a[i, j] * b."""
    a, b = _tensors([a, b], "kron")
    n = max(a.ndim, b.ndim)
    a = a.reshape((1,) * (n - a.ndim) + a.shape)
    b = b.reshape((1,) * (n - b.ndim) + b.shape)
    sa, sb = string.ascii_lowercase[:n], string.ascii_uppercase[:n]
    product = einsum(f"{sa},{sb}->{''.join(x + y for x, y in zip(sa, sb))}", a, b)
    return product.reshape(tuple(x * y for x, y in zip(a.shape, b.shape)))


def diagonal(a, offset=0, axis1=0, axis2=1) -> Tensor:
    """np.diagonal: the diagonal of axes axis1, axis2 (shifted by offset) as the last axis."""
    (a,) = _tensors([a], "diagonal")
    if a.ndim < 2:
        raise ValueError(f"diagonal: needs at least 2 dimensions, got shape {a.shape}")
    axis1, axis2 = axis1 % a.ndim, axis2 % a.ndim
    if axis1 == axis2:
        raise ValueError(f"diagonal: axis1 and axis2 are both {axis1}")
    rest = [i for i in range(a.ndim) if i not in (axis1, axis2)]
    a = a.transpose((*rest, axis1, axis2))  # a tuple: numpy's meaning, any ndim
    a = a[..., :, offset:] if offset >= 0 else a[..., -offset:, :]
    k = min(a.shape[-2:])
    lead = string.ascii_letters[: a.ndim - 2]
    return einsum(f"{lead}zz->{lead}z", a[..., :k, :k])


def trace(a, offset=0, axis1=0, axis2=1) -> Tensor:
    """np.trace: the sum of diagonal(a, offset, axis1, axis2)."""
    return diagonal(a, offset, axis1, axis2).sum(axis=-1)


def diag(v, k=0) -> Tensor:
    """np.diag: the k-th diagonal of a matrix, or a matrix with vector v on its k-th diagonal."""
    (v,) = _tensors([v], "diag")
    if v.ndim == 2:
        return diagonal(v, k)
    if v.ndim != 1:
        raise ValueError(f"diag: input must be 1-D or 2-D, got shape {v.shape}")
    n = v.shape[0]
    size = n + abs(k)
    rows, cols = np.zeros((n, size), v.dtype), np.zeros((n, size), v.dtype)
    rows[np.arange(n), np.arange(n) + max(-k, 0)] = 1  # v[i] goes to (i + max(-k, 0),
    cols[np.arange(n), np.arange(n) + max(k, 0)] = 1  # i + max(k, 0))
    return einsum("i,ia,ib->ab", v, rows, cols)


def tril(m, k=0) -> Tensor:
    """np.tril: zeros above the k-th diagonal of the last two axes."""
    (m,) = _tensors([m], "tril")
    return where(np.tri(*m.shape[-2:], k=k, dtype=bool), m, 0)


def triu(m, k=0) -> Tensor:
    """np.triu: zeros below the k-th diagonal of the last two axes."""
    (m,) = _tensors([m], "triu")
    return where(~np.tri(*m.shape[-2:], k=k - 1, dtype=bool), m, 0)


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None) -> Tensor:
    """np.cross: cross products of the 3-vectors along axisa of a and axisb of b (broadcast over
    the other axes), the result's vectors along axisc; `axis` sets all three. A 2-vector has a
    zero third component, and two 2-vectors give the scalar z component, as in numpy."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = _tensors([a, b], "cross")
    if a.ndim < 1 or b.ndim < 1:
        raise ValueError(f"cross: needs vectors, got shapes {a.shape} and {b.shape}")
    a = moveaxis(a, _axis_in(axisa, a.ndim, "cross (axisa)"), -1)
    b = moveaxis(b, _axis_in(axisb, b.ndim, "cross (axisb)"), -1)
    if a.shape[-1] not in (2, 3) or b.shape[-1] not in (2, 3):
        raise ValueError(f"cross: vectors must have 2 or 3 components, got {a.shape[-1]} and "
                         f"{b.shape[-1]}")
    if a.shape[-1] == 2 or b.shape[-1] == 2:
        warnings.warn("cross: arrays of 2-dimensional vectors are deprecated in numpy 2.0; use "
                      "3-dimensional vectors", DeprecationWarning, stacklevel=4)
    z = a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    if a.shape[-1] == b.shape[-1] == 2:
        return z
    a, b = (pad(v, [(0, 0)] * (v.ndim - 1) + [(0, 1)]) if v.shape[-1] == 2 else v for v in (a, b))
    x = a[..., 1] * b[..., 2] - a[..., 2] * b[..., 1]
    y = a[..., 2] * b[..., 0] - a[..., 0] * b[..., 2]
    c = stack([x, y, z], axis=-1)
    return moveaxis(c, -1, _axis_in(axisc, c.ndim, "cross (axisc)"))
