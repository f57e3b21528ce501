"""Compiled training steps: record one eager step, then replay it as straight-line numpy calls.

`CompiledStep(fn, params, update)` does what `for p in params: p.grad = None`,
`loss = fn(*inputs)`, `loss.backward()`, `update()` does, and returns the loss as a float.
The first call with a new input signature (shapes, dtypes and strides of the inputs, grad
mode, `key()`) runs that step eagerly while the engine's `Watcher` hook records every
operation and every gradient in the engine's own order. From that record it builds a plan: a
generated Python function of numpy calls into preallocated, shared buffers, which sums
gradients in the engine's order, so it computes the same bits as eager. Ops run through their
own forward and VJP functions, or a kernel that mirrors them with `out=` (the ops of an MLP).
The plan's first replay is checked bit for bit against the eager step it was recorded from,
and a generated optimizer update against the optimizer's `step()` twice; after that one
function does the whole step. What cannot be replayed runs eagerly, with a `CompileWarning`.

An array made inside `fn` is replayed by what made it, never by comparing samples of its
values: an input is read afresh; an array made from Python numbers is a constant; a mask or a
conversion the watcher saw made from values of the step (`Tensor(x) > 0`, `Tensor(ints)`) is
computed again. Anything else (numpy code on the data, random numbers as Dropout draws them,
numpy scalars, a data mask as an index, a Python number read from a tensor with item(),
float() or bool()) runs eagerly with a CompileWarning that says what it was.
Frozen at trace time (a plan replays the numpy work of its recording, nothing else): Python
control flow and numbers that `fn` computes with numpy from its inputs (`float(x.sum())`, `if
x[0] > 0`: nothing tells the watcher), op attributes (axes, reductions), and checks or prints
written in Python. `p.grad` holds a buffer reused by every step; parameters that do not
require grad stay put and keep `.grad` None; `SGDUpdate(opt, flat=True)` moves the
parameters' arrays into one array (p.data becomes a view of it).
"""
import itertools
import math
import re
import warnings
import weakref

import numpy as np

from . import engine, ops
from .tensor import Tensor

MAX_PLANS = 16  # input signatures per step; more (ever-changing shapes) run eagerly
# Runs of a generated update checked against the optimizer's step(): the first creates its
# state (a momentum buffer is a copy of the gradient), the second updates that state.
CHECKED_UPDATES = 2


class CompileWarning(UserWarning):
    """A compiled step (or one input signature of it) runs eagerly, and why."""


class _Unreplayable(Exception):
    """What in a recorded step a plan cannot replay (the message says what and why)."""


# ---------------------------------------------------------------- recording a step
class _Recorder(engine.Watcher):
    """Keeps every operation `apply` runs and every gradient `backward` computes, in order."""

    def __init__(self):
        self.forwards = []  # (op, inputs, attrs, out, versions of the inputs when used)
        self.backwards = []  # (node, index, parent, reduced gradient)
        self.leaf_grads = {}  # id(leaf that requires grad) -> its .grad before the step
        self.origins = {}  # id(array) -> (array, func, args, versions, its values then)
        self.reads = []  # (tensor, version): Python numbers read from tensors
        self.changed = []  # tensors changed in place outside any recorded op

    def forward(self, op, inputs, attrs, out):
        self.forwards.append((op, inputs, attrs, out, [t.version for t in inputs]))
        for t in inputs:
            if t.requires_grad and t.op is None and id(t) not in self.leaf_grads:
                self.leaf_grads[id(t)] = t.grad

    def backward(self, node, index, parent, grad):
        self.backwards.append((node, index, parent, grad))

    def made(self, array, func, *args):
        versions = [a.version if isinstance(a, Tensor) else None for a in args]
        # A copy: numpy code may write into the array later, which a replay would not do.
        self.origins[id(array)] = (array, func, args, versions, array.copy())

    def read(self, tensor):
        self.reads.append((tensor, tensor.version))

    def modified(self, tensor):
        self.changed.append(tensor)


class _Trace:
    """One eager step run under a _Recorder: what it did and what it left in `.grad`."""

    def __init__(self, fn, inputs, arrays, params):
        self.arrays = arrays
        self.start = Tensor(0.0).seq  # tensors made from here on were made inside the step
        rec = self.rec = _Recorder()
        for p in params:
            p.grad = None
        with engine.watching(rec):
            result = fn(*inputs)
            loss, self.extras = (result[0], result[1:]) if isinstance(result, tuple) else (
                result, ())
            self.backward_in_forward = len(rec.backwards)
            loss.backward()
        self.loss = loss
        self.value = loss.item()
        self.grads = [p.grad for p in params]


# ---------------------------------------------------------------- values and instructions
class _Value:
    """An array of the step: an input, a bound array, a constant, a buffer or a local."""

    __slots__ = ("kind", "ref", "name", "fold", "tensor", "index", "last", "sources",
                 "buffer", "fixed", "born", "summed", "view")

    def __init__(self, kind, ref, **fields):
        self.kind = kind  # "input", "bound", "const", "buffer", "local"
        self.ref = ref  # its value in the recorded step (shape, dtype, and the check)
        self.name = None
        self.fold = kind == "const"  # constants that no step changes fold into constants
        self.tensor = None  # for "bound": the Tensor whose .data it is
        self.index = None  # for "input": the position of the argument
        self.last = -1  # the last instruction that reads it
        self.sources = ()  # for "local": values it may share memory with
        self.buffer = None  # for "buffer": the array it lives in (chosen after planning)
        self.fixed = None  # a buffer it must live in (a parameter's .grad)
        self.born = -1  # the instruction that writes it
        self.summed = False  # a buffer holding a running sum of gradients
        self.view = None  # for a "local" that is a buffer's transpose: that buffer
        for k, v in fields.items():
            setattr(self, k, v)


class _Builder:
    """Collects instructions (lines of Python over values) and plans their buffers."""

    def __init__(self):
        self.instrs = []  # each: (lines, defined values); a line is (format, args)
        self.names = {}  # id(literal) -> (name, literal) for constants in the code
        self.counter = itertools.count()

    def begin(self):
        self.instrs.append(([], []))

    def define(self, kind, ref, **fields):
        v = _Value(kind, ref, **fields)
        if kind in ("buffer", "local"):
            self.instrs[-1][1].append(v)
            v.born = len(self.instrs) - 1
        return v

    def buffer(self, ref):
        """A new value of ref's shape and dtype, written by the current instruction."""
        return self.define("buffer", ref)

    def code(self, fmt, *args):
        """One line; `{0}`, `{1}` ... name the args: values, or any Python object."""
        self.instrs[-1][0].append((fmt, args))
        n = len(self.instrs) - 1
        for a in args:
            if isinstance(a, _Value):
                a.last = max(a.last, n)

    def call(self, result, func, *args, **kwargs):
        """`result = func(*args, **kwargs)` (result None: no assignment)."""
        parts = [f"{{{i + 1}}}" for i in range(len(args))]
        parts += [f"{k}={{{len(args) + 1 + i}}}" for i, k in enumerate(kwargs)]
        target = "" if result is None else f"{{{len(args) + len(kwargs) + 1}}} = "
        extra = () if result is None else (result,)
        self.code(target + "{0}(" + ", ".join(parts) + ")", func, *args, *kwargs.values(),
                  *extra)

    # ------------------------------------------------------------ buffers and code
    def allocate(self):
        """Give every buffer value an array; values whose lifetimes do not overlap share one."""
        end = {}  # id(buffer value) -> last instruction reading it or anything sharing it
        for _, defined in self.instrs:
            for v in defined:
                end[id(v)] = v.last
        for _, defined in self.instrs:
            for v in defined:
                if v.kind == "local":
                    for root in _roots(v):
                        end[id(root)] = max(end[id(root)], v.last)
        free = {}  # (shape, dtype) -> arrays free again
        releases = {}  # instruction -> buffers free after it
        for n, (_, defined) in enumerate(self.instrs):
            for v in defined:
                if v.kind != "buffer":
                    continue
                if v.fixed is not None:
                    v.buffer = v.fixed
                    continue
                key = (v.ref.shape, v.ref.dtype.str)
                pool = free.get(key)
                v.buffer = pool.pop() if pool else np.empty(v.ref.shape, v.ref.dtype)
                releases.setdefault(max(end[id(v)], n), []).append((key, v.buffer))
            for key, array in releases.pop(n, ()):
                free.setdefault(key, []).append(array)

    def source(self):
        """The lines of the generated function, its closure constants, and the namer."""
        consts = {}
        lines = []

        def name(a):
            if isinstance(a, _Value):
                if a.kind == "input":
                    return f"a{a.index}"
                if a.kind == "local":
                    if a.name is None:  # a buffer's transpose is made once, like the buffer
                        a.name = (constant(a.view.buffer.mT) if a.view is not None
                                  else f"v{next(self.counter)}")
                    return a.name
                array = a.buffer if a.kind == "buffer" else a.ref
                return constant(array)
            return constant(a)

        def constant(obj):
            entry = self.names.get(id(obj))
            if entry is None:
                entry = self.names[id(obj)] = (f"k{len(self.names)}", obj)
                consts[entry[0]] = obj
            return entry[0]

        for instr_lines, _ in self.instrs:
            for fmt, args in instr_lines:
                lines.append(fmt.format(*(name(a) for a in args)))
        return lines, consts, name


def _roots(v, seen=None):
    """The buffer values a local may share memory with."""
    out = []
    for s in v.sources:
        if s.kind == "buffer":
            out.append(s)
        elif s.kind == "local":
            out += _roots(s)
    return out


def _literal(obj):
    """True for Python numbers, strings, None and dtypes, and lists and tuples of them."""
    if isinstance(obj, (list, tuple)):
        return all(map(_literal, obj))
    return (type(obj) in (int, float, bool, complex, str, type(None))
            or isinstance(obj, (np.dtype, type)))


def _attr_values(attrs):
    """The values among op attributes (masks the replay computes)."""
    return [v for v in attrs.values() if isinstance(v, _Value)]


def _nth(iterable, i):
    """Item i of an op's vjps (any iterable zipped with the inputs, never indexed)."""
    item = None
    for _, item in zip(range(i + 1), iterable):  # noqa: B007 - the last one is item i
        pass
    return item


def _typed(number, like):
    """A Python number as a 0-d array of like's dtype, when that holds it exactly.

    numpy converts a Python number operand to the array's dtype at every call (NEP 50); done
    once here, the call skips that cast and computes the same bits.
    """
    dtype = like.dtype if isinstance(like, np.ndarray) else like.ref.dtype
    typed = np.array(number, dtype)
    return typed if typed == number else number


def _contiguous(*values):
    return all(v.ref.flags.c_contiguous for v in values)


def _same_dtype(*values):
    return len({v.ref.dtype for v in values}) == 1


# ---------------------------------------------------------------- fast kernels (out=)
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
    mask = b.buffer(np.empty(x.ref.shape, bool))
    o = b.buffer(raw)
    b.call(None, np.greater, x, _typed(0, x), mask)  # ops.relu: np.where(x > 0, g, 0)
    b.call(None, np.copyto, o, _typed(0, x))  # a selected 0, never 0 * g (nan for g = inf)
    b.call(None, np.copyto, o, g, where=mask)
    return o


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
    rows = b.buffer(np.empty(t.ref.shape[:-1] + (1,), t.ref.dtype))
    o = b.buffer(raw)
    # ops._cross_entropy_vjp_logits; the row factor only depends on g, a constant here.
    factor = ops.losses._row_grad(g.ref, x.ref, reduction)
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


# ---------------------------------------------------------------- planning a recorded step
class _Plan:
    """One input signature's replay, built from a trace: `replay(*arrays)` runs it."""

    def __init__(self, trace, params, kernels=True):
        self.params = params
        self.updates = {}  # the update function per optimizer configuration
        self.b = _Builder()
        self.kernels = kernels
        self._trace = trace
        self._values = {}
        self._versions = {}
        self._arrays = {}  # id(array) -> its value, for arrays used outside their Tensors
        self._bound = []  # (tensor, array, requires_grad): checked before every replay
        self._inputs = {id(a): i for i, a in enumerate(trace.arrays)}
        self._nodes = {}
        self._forward()
        self._backward()
        self.replay = self._generate()
        # What planning needed (the recorded step's arrays, every value's recorded copy) goes:
        # a plan keeps only its buffers and constants.
        self.bound = [(t, a) for t, a, _ in self._bound]  # what the guards check
        self._trace = self._values = self._nodes = self._bound = self._arrays = self.b = None
        self.outputs = self.value = None
        self.leaves = [(t, None) for t, _ in self.leaves]

    # ------------------------------------------------------------ what each tensor is
    def _value(self, t, version):
        v = self._values.get(id(t))
        if v is None:
            v = self._values[id(t)] = self._classify(t)
            self._versions[id(t)] = version
            self._arrays.setdefault(id(t.data), v)
        elif self._versions[id(t)] != version:
            raise _Unreplayable(f"a tensor of shape {t.shape} is changed in place inside the "
                                "step (an in-place operator or optimizer inside fn)")
        return v

    def _classify(self, t):
        if t.op is not None:
            raise _Unreplayable(
                f"a tensor of shape {t.shape} made by {t.op.name} outside the step, or by an "
                "in-place operator inside it, is used (its graph cannot be replayed)")
        data, inside = t.data, t.seq >= self._trace.start
        if id(data) in self._inputs:
            return self._array(data)
        if t.requires_grad and inside:
            raise _Unreplayable(f"a leaf that requires grad (shape {t.shape}) is created inside "
                                "the step; make it once, outside")
        if t.requires_grad or not inside:  # a parameter, another leaf, or a constant from outside
            self._bound.append((t, data, t.requires_grad))
            return _Value("bound", data, tensor=t)
        return self._array(data)  # a Tensor made inside the step: what made its array?

    def _array(self, array):
        """The value of a plain array used inside the step, decided by what made it.

        An input; the array of a tensor of the step (t.detach()); Python numbers (a constant);
        or a computation the engine's watcher was told about (a comparison, a conversion),
        replayed from the values it was made from. Anything else (numpy code on the data,
        random numbers, arrays from outside) would be replayed with its recorded values: refused.
        """
        v = self._arrays.get(id(array))
        if v is not None:
            return v
        if id(array) in self._inputs:
            v = _Value("input", array, index=self._inputs[id(array)])
        elif any(p.data is array for p in self.params):  # p.detach(): the parameter's array
            p = next(p for p in self.params if p.data is array)
            v = self._value(p, p.version)
        else:
            origin = self._trace.rec.origins.get(id(array))
            if origin is None or origin[0] is not array:
                raise _Unreplayable(self._unknown(array))
            _, func, args, versions, values = origin
            if not _same_bits(array, values):
                raise _Unreplayable(f"an array of shape {array.shape} made inside the step is "
                                    "written into by numpy code after it was made (a replay "
                                    "would not write it); use Tensor operations")
            operands = [self._operand(a, version) for a, version in zip(args, versions)]
            values = [o for o in operands if isinstance(o, _Value)]
            if all(o.kind == "const" and o.fold for o in values):
                v = _Value("const", array)  # made from Python numbers alone
            else:
                self.b.begin()
                v = self.b.define("local", array, sources=tuple(values))
                self.b.call(v, func, *operands)
        self._arrays[id(array)] = v
        return v

    def _operand(self, a, version):
        """What `made` was told an array was made from, as a value or a Python constant."""
        if isinstance(a, Tensor):
            return self._value(a, version)
        if isinstance(a, np.ndarray):
            return self._array(a)
        if _literal(a):
            return a
        raise _Unreplayable(f"a value of type {type(a).__name__} made inside the step ({a!r:.40}) "
                            "becomes an array: if it comes from the data (a numpy scalar such "
                            "as x.mean()), a replay would freeze it; use Tensor operations")

    def _unknown(self, array):
        """Why an array made inside the step other than by Tensor operations is refused."""
        where = f"an array of shape {array.shape} ({array.dtype}) made inside the step"
        if any(np.may_share_memory(array, a) for a in self._trace.arrays):
            return (f"{where} shares memory with an input (a view of it made by numpy code); "
                    "index or reshape a Tensor of it instead, or pass the view as an input")
        return (f"{where} by numpy code, not by Tensor operations (from the data, from random "
                "numbers as Dropout draws them, or a numpy array from outside): a replay would "
                "reuse its recorded values; make it with Tensor operations or pass it as an input")

    def _attrs(self, op, attrs):
        """Op attributes with their arrays (indices, masks) checked by what made them.

        A mask made from values of the step (x > 0) becomes a value the replay computes, for
        ops whose result keeps its shape whatever the mask holds (where); as an index its
        result's shape would follow the data, so it is refused there.
        """
        out = {}
        for key, value in attrs.items():
            items = value if isinstance(value, tuple) else (value,)
            for item in items:
                if not isinstance(item, np.ndarray):
                    continue
                if id(item) in self._inputs:
                    raise _Unreplayable("an input array is used as an op attribute (an index); "
                                        "index with a Tensor operation instead")
                v = self._array(item)
                if v.kind == "const" and v.fold:
                    continue
                if op not in _VALUE_ATTRS or item is not value:
                    raise _Unreplayable(
                        f"the {key} of {op.name} is made from the data or the parameters: the "
                        "shape of its result can change with their values (use where(mask, x, "
                        "0.) for a mask)")
                value = v
            out[key] = value
        return out

    # ------------------------------------------------------------ the forward pass
    def _forward(self):
        rec = self._trace.rec
        if self._trace.backward_in_forward:
            raise _Unreplayable("fn calls backward() itself; return the loss instead")
        for t in rec.changed:  # a side effect of the step that is not an op: lost in a replay
            raise _Unreplayable(f"a tensor of shape {t.shape} is changed in place outside the "
                                "graph inside the step (an in-place operator under no_grad, "
                                "such as a running statistic's update), which a replay would "
                                "not repeat")
        for op, inputs, attrs, out, versions in rec.forwards:
            ins = [self._value(t, v) for t, v in zip(inputs, versions)]
            static = self._attrs(op, {k: v for k, v in attrs.items() if k not in op.saves})
            saved = {k: attrs[k] for k in op.saves}
            if all(v.kind == "const" and v.fold for v in (*ins, *_attr_values(static))):
                res = _Value("const", out.data)
                extras = {k: _Value("const", a) for k, a in saved.items()}
            else:
                res, extras = self._emit_forward(op, ins, static, out.data, saved)
            self._values[id(out)] = res
            self._versions[id(out)] = 0
            self._arrays.setdefault(id(out.data), res)
            if out.retains_grad:
                raise _Unreplayable("retain_grad() on a tensor inside the step")
            if out.op is not None:
                self._nodes[id(out)] = (op, ins, static, extras, res)
        for t, version in rec.reads:
            v = self._value(t, version) if t.op is None else self._values.get(id(t))
            if v is None or not (v.kind == "const" and v.fold):
                raise _Unreplayable(
                    f"a Python number is read from a tensor of shape {t.shape} inside the step "
                    "(item(), float(), int(), bool(), a format): a replay would freeze it, "
                    "though it can change with the data or the parameters")

    def _emit_forward(self, op, ins, static, out, saved):
        b = self.b
        b.begin()
        if self.kernels:
            if op in FORWARD_KERNELS:
                res = FORWARD_KERNELS[op](b, ins, static, out)
                if res is not None:
                    return res, {}
            elif op in SAVING_KERNELS:
                res = SAVING_KERNELS[op](b, ins, static, out, saved)
                if res is not None:
                    return res
            b.instrs[-1] = ([], [])  # a kernel that declined leaves nothing behind
        res = b.define("local", out, sources=tuple(ins))
        if not op.saves:
            b.call(res, op.forward, *ins, **static)
            extras = {}
        else:
            pair = b.define("local", None, sources=tuple(ins))
            b.call(pair, op.forward, *ins, **static)
            b.code("{0}, {1} = {1}", res, pair)
            extras = {}
            for name, array in saved.items():
                extras[name] = b.define("local", array, sources=tuple(ins))
                b.code("{0} = {1}[{2}]", extras[name], pair, name)
        if out.ndim == 0:  # numpy returns scalars from 0-d operations; apply makes them arrays
            b.call(res, np.asarray, res)
        return res, extras

    # ------------------------------------------------------------ the backward pass
    def _backward(self):
        trace = self._trace
        events = trace.rec.backwards
        root = trace.loss
        seed = np.empty_like(root.data)
        seed.fill(1)
        pending = {id(root): [_Value("const", seed)]}  # contributions per tensor, in order
        tensors = {}
        node = None
        for node_t, i, parent, gx in events:
            if node_t is not node:
                node = node_t
                g = self._sum(pending.pop(id(node)))
                op, ins, static, extras, out = self._nodes[id(node)]
            raw = self._emit_vjp(op, i, g, out, ins, static, extras)
            part = self._reduce(raw, parent.data)
            if not _same_bits(part.ref, gx):
                raise _Unreplayable(f"the gradient {op.name} gives input {i} differs when "
                                    "computed again (a VJP that is not deterministic)")
            pending.setdefault(id(parent), []).append(part)
            tensors[id(parent)] = parent
        self.leaves = []  # (tensor, gradient value) for leaves outside `params`
        self.grads = []  # per parameter: its .grad buffer, or None when no gradient reaches it
        # The .grad buffers are views of one array when the parameters share a dtype: a plain
        # SGD update is then two numpy calls over all of them.
        dtypes = {p.data.dtype for p in self.params}
        self.flat_grad = None
        if len(dtypes) == 1:
            offsets, size = _layout(self.params)
            self.flat_grad = _aligned_zeros(size, dtypes.pop())
        for i, p in enumerate(self.params):
            parts = pending.pop(id(p), None)
            if self.flat_grad is not None:
                start = offsets[i]
                grad = self.flat_grad[start:start + p.data.size].reshape(p.data.shape)
            else:
                grad = np.empty(p.data.shape, p.data.dtype)
            self.grads.append(None if parts is None else self._into(parts, grad))
        for key, parts in pending.items():
            t = tensors[key]
            if t.op is not None:  # pragma: no cover - every node is visited by backward
                raise _Unreplayable("a node backward did not visit")
            self.leaves.append((t, self._sum(parts)))
        self.value = self._values[id(root)]
        self.outputs = []
        for t in trace.extras:
            if not isinstance(t, Tensor) or id(t) not in self._values:
                raise _Unreplayable("fn returns something other than the loss and Tensors "
                                    "computed in the step")
            self.outputs.append(self._values[id(t)])

    def _emit_vjp(self, op, i, g, out, ins, static, extras):
        b = self.b
        vjp = _nth(op.vjps, i)
        attrs_ref = {k: v.ref if isinstance(v, _Value) else v
                     for k, v in itertools.chain(static.items(), extras.items())}
        raw = vjp(g.ref, out.ref, *(v.ref for v in ins), **attrs_ref)
        if all(v.kind == "const" and v.fold
               for v in (g, out, *ins, *extras.values(), *_attr_values(static))):
            return _Value("const", raw)
        b.begin()
        kernel = VJP_KERNELS.get((op, i)) if self.kernels else None
        if kernel is not None and isinstance(raw, np.ndarray):
            attrs = dict(static, **extras)
            res = kernel(b, g, out, ins, attrs, raw)
            if res is not None:
                return res
            b.instrs[-1] = ([], [])
        res = b.define("local", raw, sources=(g, out, *ins, *extras.values(),
                                               *_attr_values(static)))
        b.call(res, vjp, g, out, *ins, **static, **extras)
        return res

    def _reduce(self, g, like):
        """engine.reduce_to with its decisions taken now, from the recorded shapes."""
        ref = g.ref
        if ref.shape == like.shape and ref.dtype is like.dtype:
            return g
        extra = ref.ndim - like.ndim
        if extra:
            g = self._emit_sum(g, tuple(range(extra)), False)
        if g.ref.shape != like.shape:
            stretched = tuple(i for i, n in enumerate(like.shape)
                              if n == 1 and g.ref.shape[i] != 1)
            g = self._emit_sum(g, stretched, True)
        if g.ref.dtype != like.dtype:
            ref = g.ref.astype(like.dtype)
            if g.kind == "const" and g.fold:
                return _Value("const", ref)
            self.b.begin()
            res = self.b.buffer(ref)
            self.b.call(None, np.copyto, res, g, casting="unsafe")
            g = res
        return g

    def _emit_sum(self, g, axes, keepdims):
        ref = g.ref.sum(axis=axes, keepdims=keepdims)
        if g.kind == "const" and g.fold:
            return _Value("const", ref)
        b = self.b
        b.begin()
        if isinstance(g.ref, np.ndarray) and g.ref.flags.c_contiguous:
            res = b.buffer(np.asarray(ref))
            axis = axes[0] if len(axes) == 1 else axes  # the same sum, less to parse
            b.call(None, add_reduce, g, axis, None, res, keepdims)
        else:
            res = b.define("local", ref, sources=(g,))
            b.call(res, add_reduce, g, axes, None, None, keepdims)
        return res

    def _sum(self, parts, into=None):
        """Contributions summed in the order backward adds them: ((a + b) + c) + ...

        `into`: the array the sum must end in (a parameter's .grad buffer), or None.
        """
        total = parts[0]
        for part in parts[1:]:
            ref = total.ref + part.ref
            if all(v.kind == "const" and v.fold for v in (total, part)):
                total = _Value("const", ref)
                continue
            b = self.b
            b.begin()
            if (isinstance(ref, np.ndarray) and np.asarray(total.ref).flags.c_contiguous
                    and np.asarray(part.ref).flags.c_contiguous):
                res = total if total.summed else b.buffer(ref)
                res.summed = True  # the sum's own buffer: later parts are added in place
                res.fixed, res.ref = into, ref
                b.call(None, np.add, total, part, res)
            else:
                res = b.define("local", ref, sources=(total, part))
                b.call(res, np.add, total, part)
            total = res
        return total

    def _into(self, parts, grad):
        """A parameter's gradient, in `grad`: its own buffer, which becomes .grad every step."""
        like = grad
        total = self._sum(parts, into=grad)
        if total.kind == "buffer" and total.fixed is grad:
            return grad
        if total.kind == "buffer" and total.last == total.born and total.ref.shape == like.shape:
            total.fixed = grad  # its instruction writes straight into the .grad buffer
            return grad
        self.b.begin()
        self.b.call(None, np.copyto, grad, total)
        return grad

    # ------------------------------------------------------------ the generated function
    def _generate(self):
        b = self.b
        b.begin()  # the end of the step: the gradients become .grad, the loss a float
        for p, grad in zip(self.params, self.grads):
            b.code("{0}.grad = {1}", p, grad)
        for t, g in self.leaves:
            b.call(None, _accumulate, t, g)
        outs = "".join(f"{{{i + 1}}}, " for i in range(len(self.outputs)))
        b.code("loss_, outs_ = {0}.item(), (" + outs + ")", self.value, *self.outputs)
        b.allocate()
        lines, consts, name = b.source()
        self.guards = [f"{name(t)}.data is not {name(a)} or {name(t)}.requires_grad is not {rg}"
                       for t, a, rg in self._bound]
        self.args = ", ".join(f"a{i}" for i in range(len(self._trace.arrays)))
        self.lines, self.consts = lines, consts
        self.source = "\n".join(self._lines())
        self.fast = None  # replay and update in one function, once the update is checked
        self.fast_key = None  # the update key `fast` was made for
        self.signature = None  # the signature it is stored under
        return _function("replay", self.args, self._lines(), consts)

    def _lines(self, update=(), key=(), skip_nonfinite=False):
        """The function's lines: guards, the replay, then `update` (if `key` still holds)."""
        checks = self.guards + list(key)
        head = ["if " + " or ".join(checks) + ":", "    return None"] if checks else []
        tail = []
        if update:
            if skip_nonfinite:
                tail += ["if not isfinite_(loss_):", "    return loss_, outs_"]
            tail += update
        return head + self.lines + tail + ["return loss_, outs_"]

    def fuse(self, update, consts, key, skip_nonfinite):
        """Set `fast`: the replay, then the update's lines while the `key` checks are false."""
        self.fast = _function("step", self.args, self._lines(update, key, skip_nonfinite),
                              dict(self.consts, isfinite_=math.isfinite, **consts))

    def check(self, trace):
        """Replay the recorded inputs: True when every result has the eager step's bits.

        Leaves outside `params` get back the .grad they had before; on a mismatch every
        .grad gets the eager step's value again.
        """
        eager = [t.grad for t, _ in self.leaves]
        for t, _ in self.leaves:
            t.grad = trace.rec.leaf_grads[id(t)]
        try:
            result = self.replay(*trace.arrays)
        except Exception:  # noqa: BLE001 - a plan that cannot run is a plan that differs
            result = None
        ok = result is not None and _same_bits(result[0], trace.value)
        if ok:
            ok = all(_same_bits(p.grad, g) for p, g in zip(self.params, trace.grads))
            ok = ok and all(_same_bits(t.grad, g) for (t, _), g in zip(self.leaves, eager))
            ok = ok and all(_same_bits(a, t.data) for a, t in zip(result[1], trace.extras))
        if not ok:
            for p, g in zip(self.params, trace.grads):
                p.grad = g
            for (t, _), g in zip(self.leaves, eager):
                t.grad = g
        return ok


def _function(name, args, lines, consts):
    """Compile `def name(args): lines` with `consts` as closure variables (fast to read)."""
    source = [f"def _make({', '.join(consts)}):", f"    def {name}({args}):"]
    source += ["        " + line for line in lines] or ["        pass"]
    source.append(f"    return {name}")
    namespace = {}
    exec(compile("\n".join(source), f"<compiled {name}>", "exec"), namespace)  # noqa: S102
    return namespace["_make"](**consts)


def _accumulate(t, g):
    """A leaf outside `params` adds up its gradients across steps, as backward does."""
    t.grad = np.array(g) if t.grad is None else t.grad + g


def _same_bits(a, b):
    if a is None or b is None:
        return a is b
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


# ---------------------------------------------------------------- optimizer updates
class Update:
    """An optimizer's update run by a compiled step: `step()` of any object (the default).

    The subclasses generate the update of an optimizer with PyTorch's attribute names as
    straight-line numpy calls; hyperparameters are read at every step, and whether momentum,
    nesterov and weight decay are on picks the generated variant.
    """

    generic = True
    options = frozenset()  # every attribute of the optimizer the generated update accounts for

    def __init__(self, optimizer):
        self.opt = optimizer

    def eager(self):
        self.opt.step()

    def key(self):
        return None

    def unsupported(self):
        """`name=value` of the optimizer's first attribute the generated update does not know.

        The whole configuration decides, not a list of what is known to be missing: an option
        added to the optimizer later runs its step() until the generated update learns it.
        """
        opt = self.opt
        groups = getattr(opt, "param_groups", None)
        if groups is None:
            config = getattr(opt, "__dict__", {"__slots__": None})
        else:  # nn.optim: its state lists and its one group's options that are on
            if len(groups) != 1:
                return f"{len(groups)} param groups"
            config = {**{k: v for k, v in vars(opt).items()
                         if k not in _GROUP_BOOKKEEPING and not _unused(v)},
                      **{k: v for k, v in groups[0].items()
                         if k not in _GROUP_BOOKKEEPING and v not in (0, False, None)}}
        for name, value in config.items():
            if name not in self.options:
                return f"{name}={value!r}"
        return None

    def slots(self):
        return []

    def source(self, plan):
        """(lines, closure constants, checks that are true when key() changed), names `u_`."""
        return _prefixed(["step()"], {"step": self.eager}, [])

    def generate(self, plan):
        lines, consts, _ = self.source(plan)
        return _function("update", "", lines, consts)


class SGDUpdate(Update):
    """SGD as in nn.optim.SGD: lr, momentum, nesterov, weight_decay, buffers (None at first).

    `flat=True` moves the parameters' arrays into one array first (see `flatten`): without
    momentum the update is then two numpy calls, whatever the number of parameters.
    """

    generic = False
    options = frozenset({"params", "lr", "momentum", "nesterov", "weight_decay", "buffers"})

    def __init__(self, optimizer, flat=False):
        super().__init__(optimizer)
        self.group = flatten(optimizer.params) if flat else None

    def key(self):
        o = self.opt
        if _unknown_option(o):
            return None
        return bool(o.momentum), bool(o.nesterov), bool(o.weight_decay)

    def slots(self):
        o = self.opt
        return _param_slots(o.params) + [(o.buffers, i) for i in range(len(o.params))]

    def source(self, plan):
        momentum, nesterov, decay = self.key()
        changed = [_changed("opt.momentum", momentum) + " or " + _changed("opt.nesterov", nesterov)
                   + " or " + _changed("opt.weight_decay", decay)]
        consts = {"opt": self.opt, "multiply": np.multiply, "add": np.add,
                  "subtract": np.subtract, "unknown": _unknown_option}
        changed.append("unknown(opt)")
        lines = ["lr, mom, wd, bufs = opt.lr, opt.momentum, opt.weight_decay, opt.buffers"]
        group = self.group
        if (not momentum and group is not None and group.intact(self.opt.params)
                and plan.flat_grad is not None and all(g is not None for g in plan.grads)):
            consts.update({"P": group.flat, "G": plan.flat_grad, "T": np.empty_like(group.flat)})
            g = "G"
            if decay:
                consts["D"] = np.empty_like(group.flat)
                lines += ["multiply(wd, P, D)", "add(G, D, D)"]
                g = "D"
            lines += [f"multiply(lr, {g}, T)", "subtract(P, T, P)"]
            for i, p in enumerate(self.opt.params):
                consts[f"p{i}"] = p
                lines.append(f"p{i}.mark_modified()")
            return _prefixed(lines, consts, changed)
        for i, (p, grad) in enumerate(zip(self.opt.params, plan.grads)):
            if grad is None:
                continue
            consts.update({f"p{i}": p, f"P{i}": p.data, f"G{i}": grad,
                           f"T{i}": np.empty_like(grad)})
            g = f"G{i}"
            if decay:  # grad + weight_decay * p
                consts[f"D{i}"] = np.empty_like(grad)
                lines += [f"multiply(wd, P{i}, D{i})", f"add(G{i}, D{i}, D{i})"]
                g = f"D{i}"
            if momentum:
                lines += [f"buf = bufs[{i}]", "if buf is None:",
                          f"    bufs[{i}] = buf = {g}.copy()",  # the first step: a copy of g
                          "else:", "    multiply(buf, mom, buf)", f"    add(buf, {g}, buf)"]
                if nesterov:  # g + momentum * buf
                    lines += [f"multiply(mom, buf, T{i})", f"add({g}, T{i}, T{i})"]
                    g = f"T{i}"
                else:
                    g = "buf"
            lines += [f"multiply(lr, {g}, T{i})", f"subtract(P{i}, T{i}, P{i})",
                      f"p{i}.mark_modified()"]
        return _prefixed(lines, consts, changed)


class AdamUpdate(Update):
    """Adam as in nn.optim.Adam: lr, betas, eps, weight_decay, m, v and steps per parameter;
    `decoupled_weight_decay` (AdamW) shrinks each parameter instead of adding the L2 term."""

    generic = False
    options = frozenset({"params", "lr", "betas", "eps", "weight_decay",
                         "decoupled_weight_decay", "m", "v", "steps"})

    def key(self):
        o = self.opt
        if _unknown_option(o):
            return None
        return bool(o.weight_decay), bool(getattr(o, "decoupled_weight_decay", False))

    def slots(self):
        o = self.opt
        n = range(len(o.params))
        return (_param_slots(o.params) + [(o.m, i) for i in n] + [(o.v, i) for i in n]
                + [(o.steps, i) for i in n])

    def source(self, plan):
        decay, decoupled = self.key()
        changed = [_changed("opt.weight_decay", decay)]
        if hasattr(self.opt, "decoupled_weight_decay"):
            changed.append(_changed("opt.decoupled_weight_decay", decoupled))
        decoupled = decay and decoupled  # AdamW's decay of 0 leaves the parameters alone
        consts = {"opt": self.opt, "multiply": np.multiply, "add": np.add, "sqrt": np.sqrt,
                  "divide": np.divide, "subtract": np.subtract, "root": math.sqrt,
                  "unknown": _unknown_option}
        changed.append("unknown(opt)")
        lines = ["lr, eps, (b1, b2), wd = opt.lr, opt.eps, opt.betas, opt.weight_decay",
                 "m, v, steps = opt.m, opt.v, opt.steps"]
        for i, (p, grad) in enumerate(zip(self.opt.params, plan.grads)):
            if grad is None:
                continue
            consts.update({f"p{i}": p, f"P{i}": p.data, f"G{i}": grad,
                           f"T{i}": np.empty_like(grad), f"D{i}": np.empty_like(grad)})
            g = f"G{i}"
            if decoupled:  # p *= 1 - lr * wd, apart from the gradient's moments
                lines.append(f"multiply(P{i}, 1 - lr * wd, P{i})")
            elif decay:
                lines += [f"multiply(wd, P{i}, D{i})", f"add(G{i}, D{i}, D{i})"]
                g = f"D{i}"
            lines += [
                f"mi, vi = m[{i}], v[{i}]",
                "multiply(mi, b1, mi)",  # m = b1 m + (1 - b1) g
                f"multiply(1 - b1, {g}, T{i})", f"add(mi, T{i}, mi)",
                "multiply(vi, b2, vi)",  # v = b2 v + (1 - b2) g^2
                f"multiply({g}, {g}, T{i})", f"multiply(1 - b2, T{i}, T{i})", f"add(vi, T{i}, vi)",
                f"steps[{i}] = t = steps[{i}] + 1",
                f"sqrt(vi, D{i})", f"divide(D{i}, root(1 - b2 ** t), D{i})",
                f"add(D{i}, eps, D{i})",
                f"divide(mi, D{i}, T{i})", f"multiply(lr / (1 - b1 ** t), T{i}, T{i})",
                f"subtract(P{i}, T{i}, P{i})", f"p{i}.mark_modified()"]
        return _prefixed(lines, consts, changed)


# ---------------------------------------------------------------- flat parameters
_groups = {}  # id(parameter) -> (weak reference to it, its _FlatGroup)


class _FlatGroup:
    """Parameters whose arrays are consecutive views of one array, `flat`, in their order."""

    def __init__(self, params, flat, views):
        self.params = [weakref.ref(p) for p in params]
        self.flat, self.views = flat, views

    def intact(self, params):
        """True while `params` are this group's, in order, and still hold its views."""
        return (len(params) == len(self.views)
                and all(r() is p and p.data is v for r, p, v in zip(self.params, params,
                                                                     self.views)))


def _layout(params):
    """Where each parameter starts in a flat array (64-byte boundaries), and its length.

    Aligned starts keep BLAS and SIMD loops on their fast paths; the gaps hold zeros, which
    stay zero through SGD's update (p - lr * 0).
    """
    offsets, size = [], 0
    for p in params:
        step = max(64 // p.data.dtype.itemsize, 1)
        size = -(-size // step) * step
        offsets.append(size)
        size += p.data.size
    return offsets, size


def _aligned_zeros(size, dtype):
    """A zero-filled 1-D array whose first element sits on a 64-byte boundary."""
    dtype = np.dtype(dtype)
    raw = np.zeros(size * dtype.itemsize + 64, np.uint8)
    start = -raw.ctypes.data % 64
    return raw[start:start + size * dtype.itemsize].view(dtype)


def flatten(params):
    """Move the arrays of `params` side by side into one new array; each p.data becomes a view.

    The values do not change, but arrays taken from p.data before are no longer the
    parameters'. Returns the group (the same one for the same parameters again), or None when
    they do not fit: mixed dtypes, arrays that are views or shared, or some in another group.
    """
    params = list(params)
    if not params:
        return None
    entry = _groups.get(id(params[0]))
    if entry is not None and entry[0]() is params[0] and entry[1].intact(params):
        return entry[1]
    arrays = [p.data for p in params]
    if (len({a.dtype for a in arrays}) != 1 or any(a.base is not None for a in arrays)
            or len({id(a) for a in arrays}) != len(arrays)
            or any(id(p) in _groups and _groups[id(p)][0]() is p for p in params)):
        return None
    offsets, size = _layout(params)
    flat = _aligned_zeros(size, arrays[0].dtype)
    views = []
    for p, a, start in zip(params, arrays, offsets):
        view = flat[start:start + a.size].reshape(a.shape)
        view[...] = a
        p.data = view
        views.append(view)
    group = _FlatGroup(params, flat, views)
    for p in params:
        _groups[id(p)] = (weakref.ref(p), group)
    return group


# What an nn.optim optimizer holds besides options, and what schedulers add to its groups.
_GROUP_BOOKKEEPING = frozenset({"defaults", "param_groups", "params", "initial_lr", "max_lr",
                                "min_lr", "max_momentum", "base_momentum"})


def _unused(value):
    """A state list nothing has used yet (all None: Adam's amsgrad maxima, say)."""
    return isinstance(value, list) and all(v is None for v in value)


def _unknown_option(opt):
    """What the generated updates do not implement in nn.optim's SGD and Adam (several param
    groups, dampening, amsgrad, maximize), named, or None: such a step runs `step()`."""
    groups = getattr(opt, "param_groups", None)
    if groups is not None and len(groups) > 1:
        return f"{len(groups)} param groups"
    options = groups[0] if groups else getattr(opt, "__dict__", {})  # dict lookups: per step
    if options.get("dampening") or options.get("amsgrad") or options.get("maximize"):
        name = next(n for n in ("dampening", "amsgrad", "maximize") if options.get(n))
        return f"{name}={options[name]!r}"
    return None


def _changed(attribute, flag):
    """Code that is true when `attribute` no longer has the truth value `flag`."""
    return f"not {attribute}" if flag else f"(not not {attribute})"


def _prefixed(lines, consts, checks):
    """Update code with its constants renamed `u_NAME`, so it can join a replay's function."""
    if not consts:
        return lines, consts, checks
    names = re.compile(r"\b(" + "|".join(map(re.escape, consts)) + r")\b")
    rename = lambda text: names.sub(r"u_\1", text)
    return ([rename(line) for line in lines], {f"u_{k}": v for k, v in consts.items()},
            [rename(line) for line in checks])


def _param_slots(params):
    return [(p, "data") for p in params]


def _get(slot):
    holder, key = slot
    return getattr(holder, key) if isinstance(key, str) else holder[key]


def _snapshot(slots):
    return [np.copy(v) if isinstance(v := _get(s), np.ndarray) else v for s in slots]


def _restore(slots, saved):
    for (holder, key), value in zip(slots, saved):
        current = getattr(holder, key) if isinstance(key, str) else holder[key]
        if isinstance(value, np.ndarray) and isinstance(current, np.ndarray):
            current[...] = value  # in place: whoever holds the array sees the restored values
        elif isinstance(key, str):  # pragma: no cover - parameters always hold arrays
            setattr(holder, key, value)
        else:
            holder[key] = np.copy(value) if isinstance(value, np.ndarray) else value


def _same_state(a, b):
    # Types too: a numpy scalar where the generated update stores a 0-d array behaves
    # differently in the optimizer's next step (an in-place update of it is lost).
    return all(type(x) is type(y) and (_same_bits(x, y) if isinstance(x, np.ndarray) else x == y)
               for x, y in zip(a, b))


# ---------------------------------------------------------------- the compiled step
class CompiledStep:
    """`step(*inputs)`: zero the grads of `params`, `loss = fn(*inputs)`, backward, update.

    Returns the loss as a float. `fn` returns the loss Tensor, or a tuple `(loss, *outputs)`
    whose other Tensors' arrays are in `step.outputs` after each call (arrays of the step:
    copy them to keep them past the next call). `update` is None, a callable, or an `Update`.
    `key()`, if given, is part of each call's signature (e.g. a model's training flag).
    `skip_nonfinite=True`: a loss that is inf or nan is returned without an update.
    Inputs are numpy arrays or Tensors that do not require grad; anything else runs eagerly.
    """

    def __init__(self, fn, params, update=None, key=None, skip_nonfinite=False):
        self.fn = fn
        self.params = list(params)
        if update is not None and not isinstance(update, Update):
            update = _CallUpdate(update)
        self.update = update
        self.key = key
        self.skip_nonfinite = skip_nonfinite
        self.plans = {}  # signature -> _Plan, or the reason why that signature runs eagerly
        self._fast = {}  # signature -> its plan's `fast` function, once that exists
        self.outputs = ()
        self._replans = 0
        self._warned = set()

    def __call__(self, *inputs):
        key = self.key
        signature = (engine._grad_mode.enabled, None if key is None else key())
        for x in inputs:
            if type(x) is not np.ndarray:
                return self._call(signature, inputs)
            signature += ((x.shape, x.dtype, x.strides),)
        fast = self._fast.get(signature)  # a checked plan: the replay and update in one call
        if fast is not None and engine.watcher is None:
            result = fast(*inputs)
            if result is not None:
                self.outputs = result[1]
                return result[0]
        return self._call(signature, inputs)

    def _call(self, signature, inputs):
        arrays = []
        signature = signature[:2]
        for x in inputs:
            kind = type(x)
            if kind is not np.ndarray:
                if kind is Tensor and not x.requires_grad and type(x.data) is np.ndarray:
                    x = x.data
                else:
                    return self._eager(inputs, f"an input of type {kind.__name__}"
                                       f"{' that requires grad' if kind is Tensor else ''} "
                                       "(inputs are numpy arrays or Tensors without grad)")
            arrays.append(x)
            signature += ((x.shape, x.dtype, x.strides) if kind is np.ndarray
                          else (kind, x.shape, x.dtype, x.strides),)
        plan = self.plans.get(signature)
        self._fast.pop(signature, None)
        if plan.__class__ is _Plan and engine.watcher is None:
            result = plan.replay(*arrays)
            if result is not None:
                self.outputs = result[1]
                return self._finish(plan, result[0])
        return self._slow(signature, plan, inputs, arrays)

    # ------------------------------------------------------------ everything but a replay
    def _slow(self, signature, plan, inputs, arrays):
        if engine.watcher is not None:  # another tool watches every operation: let it
            return self._eager(inputs)
        if isinstance(plan, str):
            return self._eager(inputs)
        if plan is None:
            if len(self.plans) >= MAX_PLANS:
                return self._eager(inputs, f"more than {MAX_PLANS} input signatures")
            return self._record(signature, inputs, arrays)
        # Its guards failed: a parameter's .data (or another array it uses) was replaced, or a
        # tensor was frozen or unfrozen (which only records again).
        self._replans += any(t.data is not a for t, a in plan.bound)
        del self.plans[signature]
        if self._replans > 3:
            return self._give_up(signature, inputs, "the arrays of its parameters keep being "
                                 "replaced (assign into p.data[...] instead)")
        return self._record(signature, inputs, arrays)

    def _record(self, signature, inputs, arrays):
        """Run the step eagerly under a recorder, plan it, check the plan's replay."""
        trace = _Trace(self.fn, inputs, arrays, self.params)
        self.outputs = tuple(t.data for t in trace.extras if isinstance(t, Tensor))
        plan, reason = None, None
        for kernels in (True, False):
            try:
                plan = _Plan(trace, self.params, kernels)
            except _Unreplayable as err:
                reason = str(err)
                break
            except Exception as err:  # noqa: BLE001 - the step ran eagerly: its result stands
                reason = f"planning failed ({type(err).__name__}: {err}; please report this)"
                break
            if plan.check(trace):
                break
            plan, reason = None, "its replay differs from the eager step"
            if kernels:
                self._warn("a fast kernel disagrees with its op's own functions; the op's "
                           "functions run instead (please report this)")
        if plan is None:
            self.plans[signature] = reason
            self._warn(f"{reason}; this input signature runs eagerly")
            return self._finish(None, trace.value)
        self.plans[signature] = plan
        plan.signature = signature
        return self._finish(plan, trace.value)

    def _give_up(self, signature, inputs, reason, value=None):
        self.plans[signature] = reason
        self._warn(f"{reason}; this input signature runs eagerly")
        return self._eager(inputs) if inputs is not None else self._finish(None, value)

    def eager(self, *inputs, reason=None):
        """One step run as eager code runs it, without recording or replaying anything.

        `reason`: why (a CompileWarning says it, once per reason).
        """
        return self._eager(inputs, reason)

    def _eager(self, inputs, reason=None):
        """The step as eager code does it (no recording)."""
        if reason is not None:
            self._warn(f"{reason}; this call runs eagerly")
        for p in self.params:
            p.grad = None
        result = self.fn(*inputs)
        loss, extras = (result[0], result[1:]) if isinstance(result, tuple) else (result, ())
        loss.backward()
        self.outputs = tuple(t.data for t in extras if isinstance(t, Tensor))
        return self._finish(None, loss.item())

    def _finish(self, plan, value):
        """The update (unless the loss is not finite and skip_nonfinite is set)."""
        update = self.update
        if update is None or (self.skip_nonfinite and not math.isfinite(value)):
            if update is None and plan is not None:
                self._fuse(plan, None, ([], {}, []))
            return value
        if plan is None or update.generic:
            update.eager()
            if plan is not None:
                self._fuse(plan, None, Update.source(update, plan))
            return value
        key = update.key()
        if key is None:  # an option the generated update does not implement
            if len(update.opt.params) != len(self.params):  # its gradients are not cleared here
                raise RuntimeError("compiled step: the optimizer's parameters changed after the "
                                   "step was compiled (add_param_group?); compile a new step")
            self._warn(f"{type(update.opt).__name__} with {_unknown_option(update.opt)} has no "
                       "generated update; its step() runs")
            update.eager()
            self._fuse(plan, None, Update.source(update, plan))
            return value
        entry = plan.updates.get(key)
        if entry is None:  # [the generated update, or None: step() runs; its checked runs]
            option = update.unsupported()
            if option is None:
                entry = plan.updates[key] = [update.generate(plan), 0]
            else:
                entry = plan.updates[key] = [None, CHECKED_UPDATES]
                self._warn(f"{type(update.opt).__name__}'s option {option} has no generated "
                           "update; its step() runs instead")
        if entry[0] is None:
            update.eager()
        elif entry[1] >= CHECKED_UPDATES:
            entry[0]()
        else:
            # Its first runs are checked against eager: see CHECKED_UPDATES.
            slots = update.slots()
            before = _snapshot(slots)
            update.eager()
            eager = _snapshot(slots)
            _restore(slots, before)
            entry[0]()
            if _same_state(_snapshot(slots), eager):
                entry[1] += 1
            else:
                _restore(slots, eager)
                entry[:] = [None, CHECKED_UPDATES]
                self._warn(f"the generated {type(update).__name__} differs from the optimizer's "
                           "step(); step() runs instead (please report this)")
        if entry[1] >= CHECKED_UPDATES:  # checked: from now on one function does the whole step
            self._fuse(plan, key, update.source(plan) if entry[0] is not None
                       else Update.source(update, plan))
        return value

    def _fuse(self, plan, key, source):
        """Give `plan` one function for replay and update (for this update key), and use it."""
        if plan.fast is None or plan.fast_key != key:
            plan.fuse(*source, self.skip_nonfinite)
            plan.fast_key = key
        self._fast[plan.signature] = plan.fast

    def _warn(self, message):
        if message not in self._warned:
            self._warned.add(message)
            warnings.warn(f"compiled step: {message}", CompileWarning, stacklevel=4)


class _CallUpdate(Update):
    """Any callable as the update (run after the gradients are in .grad)."""

    def eager(self):
        self.opt()
