"""Contractions: einsum of one operand or of two, in explicit subscripts with letters only.

Every product-and-sum (dot, tensordot, traces, diagonals, outer and Kronecker products) is built
on these two rows by `autograd.contractions`, and an einsum of three or more operands is a chain
of two-operand ones. The gradient of an einsum is an einsum: g contracted with the other operand
into the input's own subscripts.
"""

import string

import numpy as np

from .core import Op, reads


def terms(subscripts):
    """'ij,jk->ik' -> (['ij', 'jk'], 'ik')."""
    inputs, output = subscripts.split("->")
    return inputs.split(","), output


def _einsum_grad(g, x, sub, out_sub, others, optimize):
    """The gradient of input `x` (subscripts `sub`) of an einsum whose output has `out_sub`,
    from g and the other operands `others` [(subscripts, array)].

    A letter repeated in `sub` (a diagonal) gets a fresh letter tied to the first by an
    identity matrix, so the gradient lands on the diagonal only; a letter only `x` has (summed
    over in the forward) gets a vector of ones, so the gradient is spread over that axis.
    """
    used = set(sub + out_sub + "".join(s for s, _ in others))
    fresh = (c for c in string.ascii_letters if c not in used)
    operands = [(out_sub, g), *others]
    target, seen = [], set()
    for letter, n in zip(sub, x.shape):
        if letter in seen:
            new = next(fresh)
            operands.append((letter + new, np.eye(n, dtype=g.dtype)))
            target.append(new)
        else:
            seen.add(letter)
            target.append(letter)
    present = set("".join(s for s, _ in operands))
    for letter, n in zip(sub, x.shape):
        if letter not in present:
            operands.append((letter, np.ones(n, dtype=g.dtype)))
            present.add(letter)
    spec = ",".join(s for s, _ in operands) + "->" + "".join(target)
    return np.einsum(spec, *(a for _, a in operands), optimize=optimize)


def _binary_grad(g, out, x, y, subscripts="", optimize=False, index=0):
    (sx, sy), so = terms(subscripts)
    if index == 0:
        return _einsum_grad(g, x, sx, so, [(sy, y)], optimize)
    return _einsum_grad(g, y, sy, so, [(sx, x)], optimize)


einsum = Op("einsum", lambda x, y, subscripts="", optimize=False:
            np.einsum(subscripts, x, y, optimize=optimize),
            lambda g, out, x, y, subscripts="", optimize=False:
                _binary_grad(g, out, x, y, subscripts, optimize, 0),
            "dx = einsum(g, y) into x's subscripts", reads("y"),
            lambda g, out, x, y, subscripts="", optimize=False:
                _binary_grad(g, out, x, y, subscripts, optimize, 1),
            "dy = einsum(g, x) into y's subscripts", reads("x"))

# One operand: traces, diagonals, sums over axes and permutations.
einsum_unary = Op("einsum_unary", lambda x, subscripts="", optimize=False:
                  np.einsum(subscripts, x, optimize=optimize),
                  lambda g, out, x, subscripts="", optimize=False:
                      _einsum_grad(g, x, terms(subscripts)[0][0], terms(subscripts)[1], [],
                                   optimize),
                  "dx = g placed into x's subscripts (diagonals, summed axes)", reads())
