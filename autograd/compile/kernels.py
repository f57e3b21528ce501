"""Fast kernels: the numpy calls of an MLP's ops (forward and VJPs) written into buffers with
`out=`, call for call as the ops compute them, so a replay keeps the eager bits.
"""
import numpy as np

from .. import ops
from .codegen import _contiguous, _same_dtype, _typed

# Each kernel mirrors, call for call, the numpy code of one op's forward or VJP in ops.py,
# writing into buffers instead of fresh arrays, so the bits are the same. A kernel returns
# None where its case is not the common one; the op's own function runs there instead.
add_reduce = np.add.reduce
max_reduce = np.maximum.reduce


def _k_linear(b, ins, attrs, out):
    x, w, bias = ins
    if not (x.ref.ndim >= 1 and w.ref.ndim == 2 and bias.ref.shape == w.ref.shape[1:]
            and _same_dtype(x, w, bias) and _contiguous(x, w, bias) and out.size):
        return None
    o = b.buffer(out)
    b.call(None, np.matmul, x, w, o)
    b.call(None, np.add, o, bias, o)  # ops._linear: `out += b` on the fresh product
    return o


def _k_matmul(b, ins, attrs, out):
    x, y = ins
    if not (x.ref.ndim == 2 and y.ref.ndim == 2 and _same_dtype(x, y) and out.size):
        return None
    o = b.buffer(out)
    b.call(None, np.matmul, x, y, o)
    return o


def _k_unary(func, *extra):
    def kernel(b, ins, attrs, out):
        (x,) = ins
        if not (_contiguous(x) and out.dtype == x.ref.dtype):
            return None
        o = b.buffer(out)
        more = [_typed(e, x) for e in extra]
        b.call(None, func, x, *more, out=o)  # np.maximum takes its output only as out=
        return o
    return kernel


def _k_binary(func):
    def kernel(b, ins, attrs, out):
        x, y = ins
        if not (_same_dtype(x, y) and _contiguous(x, y) and out.dtype == x.ref.dtype):
            return None
        o = b.buffer(out)
        b.call(None, func, x, y, o)
        return o
    return kernel


def _k_reduce(mean):
    def kernel(b, ins, attrs, out):
        (x,) = ins
        if not (_contiguous(x) and x.ref.size and out.dtype == x.ref.dtype):
            return None
        o = b.buffer(out)
        b.call(None, add_reduce, x, attrs.get("axis"), None, o, attrs.get("keepdims", False))
        if mean:  # ops._mean: the sum divided by how many numbers went into each
            b.call(None, np.divide, o, _typed(x.ref.size // out.size, o), o)
        return o
    return kernel


def _reduce_losses(b, losses, reduction, out, negate=False):
    """ops.losses._reduce of `losses` summed (negated first if `negate`): the op's output."""
    o = b.buffer(out)
    b.call(None, add_reduce, losses, None, None, o)
    if negate:
        b.call(None, np.negative, o, o)
    if reduction == "mean":
        count = losses.ref.size if not negate else losses.ref.size // losses.ref.shape[-1]
        b.call(None, np.divide, o, _typed(count, o), o)
    return o


def _loss_case(x, t, out, reduction):
    return (x.ref.ndim >= 1 and x.ref.size and x.ref.shape == t.ref.shape and _same_dtype(x, t)
            and _contiguous(x, t) and reduction in ("mean", "sum", "none"))


def _k_cross_entropy(b, ins, attrs, out, saved):
    x, t = ins
    reduction = attrs["reduction"]
    if not (_loss_case(x, t, out, reduction) and x.ref.shape[-1]):
        return None
    rows = x.ref.shape[:-1] + (1,)
    dtype = x.ref.dtype
    m = b.buffer(np.empty(rows, dtype))
    shifted = b.buffer(x.ref)
    exps = b.buffer(x.ref)
    total = b.buffer(m.ref)
    log_probs, probs = b.buffer(saved["log_probs"]), b.buffer(saved["probs"])
    b.call(None, max_reduce, x, -1, None, m, True, _typed(-np.inf, x))  # shifted
    b.call(None, np.subtract, x, m, shifted)
    b.call(None, np.exp, shifted, exps)
    b.call(None, add_reduce, exps, -1, None, total, True)
    b.call(None, np.log, total, m)  # m is free again: it holds log(total) now
    b.call(None, np.subtract, shifted, m, log_probs)
    b.call(None, np.divide, exps, total, probs)
    b.call(None, np.multiply, t, log_probs, exps)  # weighted = t * log_probs, in exps' buffer
    if reduction == "none":  # -weighted.sum(axis=-1), one loss per row
        losses = b.buffer(out)
        b.call(None, add_reduce, exps, -1, None, losses)
        b.call(None, np.negative, losses, losses)
        return losses, {"probs": probs, "log_probs": log_probs}
    # _reduce(-weighted.sum(), reduction, rows): one sum over everything
    loss = _reduce_losses(b, exps, reduction, out, negate=True)
    return loss, {"probs": probs, "log_probs": log_probs}


def _k_bce_with_logits(b, ins, attrs, out, saved):
    x, t = ins
    reduction = attrs["reduction"]
    if not _loss_case(x, t, out, reduction):
        return None
    losses = b.buffer(x.ref)
    scratch = b.buffer(x.ref)
    probs = b.buffer(saved["probs"])
    half = _typed(0.5, x)
    b.call(None, np.logaddexp, _typed(0, x), x, losses)
    b.call(None, np.multiply, x, t, scratch)
    b.call(None, np.subtract, losses, scratch, losses)
    b.call(None, np.multiply, x, half, probs)
    b.call(None, np.tanh, probs, probs)
    b.call(None, np.multiply, probs, half, probs)
    b.call(None, np.add, probs, half, probs)
    if reduction == "none":
        return losses, {"probs": probs}
    return _reduce_losses(b, losses, reduction, out), {"probs": probs}


FORWARD_KERNELS = {
    ops.linear: _k_linear, ops.matmul: _k_matmul,
    ops.tanh: _k_unary(np.tanh), ops.relu: _k_unary(np.maximum, 0),
    ops.add: _k_binary(np.add), ops.multiply: _k_binary(np.multiply),
    ops.sum: _k_reduce(False), ops.mean: _k_reduce(True),
}
SAVING_KERNELS = {ops.cross_entropy: _k_cross_entropy, ops.bce_with_logits: _k_bce_with_logits}
_VALUE_ATTRS = {ops.where}  # ops that may take a mask made from the data as an attribute


# VJP kernels: (b, g, out, ins, attrs, raw) -> value or None; `raw` is the op's own VJP result
# in the recorded step (its shape and dtype before the engine's reduction).
def _v_identity(b, g, out, ins, attrs, raw):
    return g  # the VJP hands g on unchanged (add, the bias of linear, ...)


def _product(x, w):
    """The shape of x @ w for 2-D w: a linear's g has it unless its bias added dimensions."""
    return x.ref.shape[:-1] + w.ref.shape[1:]


def _v_matmul_x(b, g, out, ins, attrs, raw):
    x, w = ins[0], ins[1]
    if not (w.ref.ndim == 2 and x.ref.ndim >= 2 and g.ref.shape == _product(x, w)
            and _same_dtype(g, w) and raw.dtype == g.ref.dtype):
        return None
    o = b.buffer(raw)
    b.call(None, np.matmul, g, _transposed(b, w), o)  # g @ w.mT
    return o


def _v_matmul_w(b, g, out, ins, attrs, raw):
    x, w = ins[0], ins[1]
    if not (w.ref.ndim == 2 and x.ref.ndim == 2 and g.ref.shape == _product(x, w)
            and _same_dtype(g, x) and raw.dtype == g.ref.dtype):
        return None
    o = b.buffer(raw)
    b.call(None, np.matmul, _transposed(b, x), g, o)  # x.mT @ g
    return o


def _transposed(b, v):
    """v.mT: made once for arrays that stay put, in the step for the others."""
    if v.kind in ("bound", "const"):
        return b.define("const", v.ref.mT, fold=False)
    t = b.define("local", v.ref.mT, sources=(v,))
    if v.kind == "buffer":
        t.view = v
    else:
        b.code("{0} = {1}.mT", t, v)
    return t


def _v_tanh(b, g, out, ins, attrs, raw):
    if not (g.ref.shape == out.ref.shape and _same_dtype(g, out) and _contiguous(out)):
        return None
    o = b.buffer(raw)
    b.call(None, np.multiply, out, out, o)  # ops.tanh: _times(g, 1 - out * out)
    b.call(None, np.subtract, _typed(1, out), o, o)
    b.call(None, np.multiply, o, g, o)
    return o


def _v_relu(b, g, out, ins, attrs, raw):
    (x,) = ins
    if not (g.ref.shape == x.ref.shape and _same_dtype(g, x) and raw.dtype == g.ref.dtype):
        return None
    if raw.dtype.kind != "f":
        return None
    bits = np.dtype(f"i{raw.dtype.itemsize}")
    # ops.relu: np.where(x > 0, g, 0), a selected 0 (never 0 * g, nan for g = inf). Selected
    # here bit by bit, g & (all ones where x > 0, else 0): 2x faster than copyto(where=).
    mask = b.buffer(np.empty(x.ref.shape, bits))
    o = b.buffer(raw)
    b.call(None, np.greater, x, _typed(0, x), mask)  # 1 or 0 ...
    b.call(None, np.negative, mask, mask)  # ... -1 (all bits set) or 0
    b.call(None, np.bitwise_and, _as_bits(b, g, bits), mask, _as_bits(b, o, bits))
    return o


def _as_bits(b, v, bits):
    """v's memory read as integers of the same size: made once for arrays that stay put."""
    as_bits = lambda array: array.view(bits)  # noqa: E731
    if v.kind in ("bound", "const"):
        return b.define("const", as_bits(v.ref), fold=False)
    t = b.define("local", np.empty(v.ref.shape, bits), sources=(v,))
    if v.kind == "buffer":
        t.view, t.derive = v, as_bits
    else:
        b.code("{0} = {1}.view({2})", t, v, bits)
    return t


def _v_multiply(i):
    def kernel(b, g, out, ins, attrs, raw):
        other = ins[1 - i]
        if not (_same_dtype(g, other) and raw.dtype == g.ref.dtype):
            return None
        o = b.buffer(raw)
        b.call(None, np.multiply, g, other, o)  # ops.multiply: g * y, g * x
        return o
    return kernel


def _v_cross_entropy(b, g, out, ins, attrs, raw):
    x, t = ins
    if not (g.kind == "const" and g.fold and _contiguous(t) and raw.dtype == x.ref.dtype
            and raw.shape == x.ref.shape):
        return None
    reduction, probs = attrs["reduction"], attrs["probs"]
    factor = ops.losses._row_grad(g.ref, x.ref, reduction)
    if t.one_hot:  # each row of t sums to exactly 1, and probs * 1 is probs: skip both
        o = b.buffer(raw)
        b.call(None, np.subtract, probs, t, o)
        b.call(None, np.multiply, o, factor, o)
        return o
    rows = b.buffer(np.empty(t.ref.shape[:-1] + (1,), t.ref.dtype))
    o = b.buffer(raw)
    # ops._cross_entropy_vjp_logits; the row factor only depends on g, a constant here.
    b.call(None, add_reduce, t, -1, None, rows, True)
    b.call(None, np.multiply, probs, rows, o)
    b.call(None, np.subtract, o, t, o)
    b.call(None, np.multiply, o, factor, o)
    return o


def _v_bce_with_logits(b, g, out, ins, attrs, raw):
    x, t = ins
    if not (g.kind == "const" and g.fold and raw.dtype == x.ref.dtype
            and raw.shape == x.ref.shape):
        return None
    factor = ops.losses._per_loss(g.ref, attrs["reduction"], x.ref.size)
    o = b.buffer(raw)
    b.call(None, np.subtract, attrs["probs"], t, o)  # _times(_per_loss(g, ...), probs - t)
    b.call(None, np.multiply, o, factor, o)
    return o


def _v_fill(b, g, out, ins, attrs, raw):
    # sum and mean: np.full(x.shape, a function of g): a constant when g is one.
    return b.define("const", raw) if g.kind == "const" and g.fold else None


VJP_KERNELS = {
    (ops.linear, 0): _v_matmul_x, (ops.linear, 1): _v_matmul_w, (ops.linear, 2): _v_identity,
    (ops.matmul, 0): _v_matmul_x, (ops.matmul, 1): _v_matmul_w,
    (ops.add, 0): _v_identity, (ops.add, 1): _v_identity, (ops.subtract, 0): _v_identity,
    (ops.multiply, 0): _v_multiply(0), (ops.multiply, 1): _v_multiply(1),
    (ops.tanh, 0): _v_tanh, (ops.relu, 0): _v_relu,
    (ops.cross_entropy, 0): _v_cross_entropy, (ops.bce_with_logits, 0): _v_bce_with_logits,
    (ops.sum, 0): _v_fill, (ops.mean, 0): _v_fill, (ops.astype, 0): _v_identity,
}


# ---------------------------------------------------------------- class labels
# Functions f(labels, k, dtype) that return one-hot rows, (labels[..., None] == arange(k))
# .astype(dtype), and raise for a label outside [0, k) (nn registers its own). A step that
# turns integer labels into rows with one of them replays it as one np.take of identity rows
# into an array kept from step to step, done by the replay's guard, which refuses the labels
# eager code treats otherwise (ignore_index, or an error): those calls run eagerly.
ONE_HOT = set()


class LabelRows:
    """The one-hot rows of the labels in input `index`: `misfit(labels)` fills `rows`."""

    def __init__(self, index, labels, rows):
        self.index, self.k = index, rows.shape[1]
        self.eye = np.eye(self.k, dtype=rows.dtype)  # the rows to take: exact 0s and 1s
        self.rows = rows
        self.unsigned = np.dtype(labels.dtype.str.replace("i", "u"))
        # As unsigned, a negative label is at least 2 ** (bits - 1): np.take refuses it when
        # that is k or more. 8-byte labels wrap around as indices: their maximum is checked;
        # narrow signed labels with more classes than that: their minimum.
        bits = 8 * labels.dtype.itemsize
        self.check = ("max" if bits == 64 else
                      "min" if labels.dtype.kind == "i" and self.k > 2 ** (bits - 1) else None)
        # Checked labels of np.intp's size are taken as np.intp: np.take converts no copy.
        self.as_index = (np.dtype(np.intp) if self.check == "max"
                         and labels.dtype.itemsize == np.dtype(np.intp).itemsize else None)

    def misfit(self, labels):
        """False once `rows` holds the labels' one-hot rows; True for a label outside [0, k)."""
        u = labels.view(self.unsigned)
        if self.check is not None and (u.max() >= self.k if self.check == "max"
                                       else labels.min() < 0):
            return True
        try:
            np.take(self.eye, u if self.as_index is None else labels.view(self.as_index), 0,
                    self.rows)
        except IndexError:
            return True
        return False


def _one_hot_rows(b, labels, array, k):
    """(value of `array` = f(labels, k, dtype) for an f in ONE_HOT, its LabelRows), or None."""
    ref = labels.ref
    if not (labels.kind == "input" and ref.ndim == 1 and ref.size and array.ndim == 2
            and array.shape == (ref.size, k) and array.flags.c_contiguous
            and ref.dtype.kind in "iu"):
        return None
    rows = np.empty_like(array)
    label_rows = LabelRows(labels.index, ref, rows)
    if label_rows.misfit(ref) or rows.tobytes() != array.tobytes():
        return None
    return b.define("const", rows, fold=False, one_hot=True), label_rows
