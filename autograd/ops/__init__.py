"""The table of primitives: every op's forward computation beside its gradient rules.

A primitive is one `Op(name, forward, vjp, "rule", reads(...), ...)` (see `core.Op`):
`forward(*arrays, **attrs)` computes the result, and the VJP of input i maps the gradient `g`
of the result to the gradient of that input (a vector-Jacobian product), with a one-line rule
string and a declaration of the arrays it reads beside it:

    multiply = Op("multiply", np.multiply,
                  lambda g, out, x, y: g * y, "dx = g * y", reads("y"),
                  lambda g, out, x, y: g * x, "dy = g * x", reads("x"))

VJPs run only for inputs that need a gradient, and backward refuses only if one it runs reads
an array changed in place since the node was recorded (`core.reads`). VJPs may return a
gradient with broadcast (extra or size-1) dimensions or another dtype: the engine reduces it to
the input's shape and dtype in one place (`core.reduce_to`). The families, one file each:

    arithmetic   add subtract multiply divide negative power maximum minimum where logaddexp
    elementwise  exp expm1 log log1p sqrt abs sin cos tanh sigmoid relu leaky_relu gelu
                 gelu_tanh clip clip_tensors astype
    special      erf erfc
    reductions   sum mean max min prod norm logsumexp
    shapes       reshape transpose broadcast_to getitem add_at concatenate stack
    linalg       matmul linear
    decompositions  solve solve_triangular inv slogdet cholesky eigh svd qr pinv
    contractions einsum einsum_unary
    losses       log_softmax softmax cross_entropy cross_entropy_labels bce_with_logits
    conv         conv conv_transpose conv_weight max_pool
    trig         tan sinh cosh arcsin arccos arctan arcsinh arccosh arctanh arctan2 hypot sinc
    bases        log2 log10 exp2 logaddexp2 cbrt
    piecewise    fmax fmin remainder nan_to_num
    arrange      cumsum cumprod copy setitem
"""

from . import (
    arithmetic,
    arrange,
    bases,
    contractions,
    decompositions,
    elementwise,
    linalg,
    losses,
    piecewise,
    reductions,
    shapes,
    special,
    trig,
)
from . import conv as convolution  # the family; `ops.conv` is its op, bound below
from .arithmetic import (
    add,
    divide,
    logaddexp,
    maximum,
    minimum,
    multiply,
    negative,
    power,
    subtract,
    where,
)
from .arrange import copy, cumprod, cumsum, setitem
from .bases import cbrt, exp2, log2, log10, logaddexp2
from .contractions import einsum, einsum_unary
from .conv import conv, conv_transpose, conv_weight, max_pool
from .core import Op, Variadic, reads
from .decompositions import cholesky, eigh, inv, pinv, qr, slogdet, solve, solve_triangular, svd
from .elementwise import (
    abs,
    astype,
    clip,
    clip_tensors,
    cos,
    exp,
    expm1,
    gelu,
    gelu_tanh,
    leaky_relu,
    log,
    log1p,
    relu,
    sigmoid,
    sin,
    sqrt,
    tanh,
)
from .linalg import linear, matmul
from .losses import bce_with_logits, cross_entropy, cross_entropy_labels, log_softmax, softmax
from .piecewise import fmax, fmin, nan_to_num, remainder
from .reductions import logsumexp, max, mean, min, norm, prod, sum
from .shapes import add_at, broadcast_to, concatenate, getitem, reshape, stack, transpose
from .special import erf, erfc
from .trig import (
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    cosh,
    hypot,
    sinc,
    sinh,
    tan,
)

FAMILIES = (arithmetic, elementwise, special, reductions, shapes, linalg, losses, decompositions,
            contractions, convolution, trig, bases, piecewise, arrange)
OPS = [v for family in FAMILIES for v in vars(family).values() if isinstance(v, Op)]

__all__ = ["Op", "Variadic", "reads", "OPS", *(op.name for op in OPS)]
