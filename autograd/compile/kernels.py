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


def _k_cross_entropy_labels(b, ins, attrs, out, saved):
    (x,) = ins
    labels, reduction = attrs["labels"], attrs["reduction"]
    k, flat = getattr(labels, "label_index", None) or (None, None)
    if not (k == x.ref.shape[-1] and x.ref.ndim == 2 and x.ref.size and _contiguous(x)
            and reduction in ("mean", "sum") and flat.ref.shape == (x.ref.shape[0], 1)
            and saved["index"].shape == flat.ref.shape):
        return None
    dtype = x.ref.dtype
    rows = (x.ref.shape[0], 1)
    log_total, total = b.buffer(np.empty(rows, dtype)), b.buffer(np.empty(rows, dtype))
    shifted, exps = b.buffer(x.ref), b.buffer(x.ref)
    probs, losses = b.buffer(saved["probs"]), b.buffer(np.empty(rows, dtype))
    # ops.losses._cross_entropy_labels, call for call
    b.call(None, max_reduce, x, -1, None, log_total, True, _typed(-np.inf, x))
    b.call(None, np.subtract, x, log_total, shifted)
    b.call(None, np.exp, shifted, exps)
    b.call(None, add_reduce, exps, -1, None, total, True)
    b.call(None, np.log, total, log_total)
    b.call(None, np.take, shifted, flat, None, losses)
    b.call(None, np.subtract, log_total, losses, losses)
    b.call(None, np.divide, exps, total, probs)
    o = b.buffer(out)
    b.call(None, add_reduce, losses, None, None, o)
    if reduction == "mean":
        b.call(None, np.divide, o, _typed(rows[0], o), o)
    return o, {"probs": probs, "index": flat}


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
SAVING_KERNELS = {ops.cross_entropy: _k_cross_entropy, ops.bce_with_logits: _k_bce_with_logits,
                  ops.cross_entropy_labels: _k_cross_entropy_labels}
# ops that may take an array made from the data as an attribute (a mask, labels): their
# results keep their shapes whatever it holds
_VALUE_ATTRS = {ops.where, ops.cross_entropy_labels}


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
    rows = b.buffer(np.empty(t.ref.shape[:-1] + (1,), t.ref.dtype))
    o = b.buffer(raw)
    # ops._cross_entropy_vjp_logits; the row factor only depends on g, a constant here.
    b.call(None, add_reduce, t, -1, None, rows, True)
    b.call(None, np.multiply, probs, rows, o)
    b.call(None, np.subtract, o, t, o)
    b.call(None, np.multiply, o, factor, o)
    return o


def _v_cross_entropy_labels(b, g, out, ins, attrs, raw):
    (x,) = ins
    probs, index = attrs["probs"], attrs["index"]
    if not (g.kind == "const" and g.fold and raw.dtype == x.ref.dtype and raw.shape == x.ref.shape
            and probs.kind == "buffer" and index.kind == "const" and probs.ref.flags.c_contiguous):
        return None
    factor = ops.losses._row_grad(g.ref, x.ref, attrs["reduction"])
    # ops.losses._cross_entropy_labels_vjp subtracts one at the labels of a copy of probs; here
    # the probabilities are this VJP's alone, so in place: the same numbers, one array fewer.
    b.code("{0}.reshape(-1)[{1}] -= 1", probs, index)
    o = b.buffer(raw)
    b.call(None, np.multiply, probs, factor, o)
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
    (ops.cross_entropy_labels, 0): _v_cross_entropy_labels,
    (ops.sum, 0): _v_fill, (ops.mean, 0): _v_fill, (ops.astype, 0): _v_identity,
}


# ---------------------------------------------------------------- class labels
class LabelIndex:
    """The guard of class labels in input `index` that cross_entropy_labels gathers at:
    `misfit(labels)` is True for a label outside [0, k) (eager code then decides: an error, or
    rows it ignores), else False once `flat` holds where each label sits in the flattened
    logits, row * k + label, as ops.losses._flat_index makes it."""

    def __init__(self, index, labels, k):
        self.index, self.k = index, k
        self.offsets = ops.losses.row_offsets(labels.shape, k)
        self.flat = np.empty(self.offsets.shape, np.intp)
        # As unsigned, a negative label is at least 2 ** (bits - 1): one max checks both ends
        # unless k is larger (int8 labels of 300 classes), where the minimum is checked (and
        # the maximum cannot reach k). Checked labels fit np.intp, and are added as it.
        self.unsigned = np.dtype(labels.dtype.str.replace("i", "u"))
        bits = 8 * labels.dtype.itemsize
        self.by_min = labels.dtype.kind == "i" and k > 2 ** (bits - 1)
        self.as_index = np.dtype(np.intp) if labels.dtype.itemsize == self.flat.itemsize else None

    def misfit(self, labels):
        if labels.size and (labels.min() < 0 if self.by_min
                            else labels.view(self.unsigned).max() >= self.k):
            return True
        labels = labels.view(self.as_index) if self.as_index is not None else labels
        np.add(labels.reshape(self.flat.shape), self.offsets, self.flat)
        return False


def _label_index(b, labels, k):
    """The guard and the flat index of the labels input `labels` (a value), or None."""
    ref = labels.ref
    if not (labels.kind == "input" and ref.dtype.kind in "iu" and ref.dtype.itemsize <= 8):
        return None
    guard = LabelIndex(labels.index, ref, k)
    if guard.misfit(ref):  # (the recorded step checked them: never, but never silently)
        return None
    return guard, b.define("const", guard.flat, fold=False)
