"""A traced npgrad forward pass as an ONNX graph (opset 18): one table row per primitive.

Each row of `ONNX_OPS` emits the ONNX nodes of one npgrad op with numpy's semantics, in the
trace's dtype (float32 or float64; the kernels onnxruntime lacks in float64 are listed below).
Weights are initializers named as in PyTorch (`0.weight`) but in npgrad's layout (a Linear weight
(in, out) feeds MatMul directly). Axis 0 of the inputs is the dynamic axis "batch"; shapes that
follow it are computed from the input's shape at run time. Composites where ONNX lacks the
function: logaddexp, log1p, expm1 and gelu are written with Exp/Log/Tanh (log1p and expm1 then
lose relative precision for |x| below about 1e-8), the fused losses with LogSoftmax.
Not covered: getitem with several index arrays; ops with no ONNX equivalent have rows that raise,
naming the op (`NOT_IN_ONNX`: the decompositions and solves, and the gradient-only add_at,
conv_transpose, conv_weight). onnxruntime has no float64 kernels for Erf, so erf, erfc and the
exact gelu use a series in float64, within 3e-15 of erf (erfc = 1 - erf and the gelu's 1 + erf
then lose relative, not absolute, precision in the tail where they are tiny); nor for Tan, Sinh,
Cosh, the inverse trigonometric and hyperbolic functions and Conv: those files are written, and
`check` raises naming the kernel (export them in float32).
Imported only when onnx is there (nn.export imports it inside its functions).
"""

import math

import numpy as np
import onnx
from onnx import helper, numpy_helper

from .names import torch_names
from .trace import BATCH, Batches, InputIndex, ref_ndim

OPSET = 18
TOLERANCE = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}
_INT64_MAX, _INT64_MIN = 2**63 - 1, -(2**63)


class Builder:
    """Collects nodes and initializers; values are ONNX names."""

    def __init__(self, trace, model):
        self.trace, self.nodes, self.initializers = trace, [], []
        self.names, self.values, self.count, self._batch = torch_names(model), [], 0, None
        for name, t in trace.params.items():
            self.initializers.append(numpy_helper.from_array(np.asarray(t.data), self.names[name]))
        count = len(trace.input_shapes)
        self.inputs = ["x" if count == 1 else f"x{i}" for i in range(count)]

    def add(self, op_type, *inputs, **attrs):
        """One node; returns its (fresh) output name."""
        self.count += 1
        out = f"{op_type.lower()}_{self.count}"
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], **attrs))
        return out

    def const(self, array, dtype=None):
        array = np.asarray(array, dtype=dtype)
        self.count += 1
        name = f"const_{self.count}"
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def like(self, value, node):
        """A number as a 0-d constant in `node`'s dtype."""
        return self.const(np.asarray(value, dtype=node.dtype))

    def value(self, ref):
        if ref.kind == "input":
            return self.inputs[ref.key]
        if ref.kind == "node":
            return self.values[ref.key]
        if ref.kind == "param":
            return self.names[ref.key]
        if ref.kind == "fill":
            value, shape = ref.key
            return self.add("Expand", self.const(value), self.shape(shape))
        return self.const(ref.key)

    def ndim(self, ref):
        return ref_ndim(self.trace, ref)

    def shape(self, shape):
        """A shape attribute as a 1-D int64 tensor, its BATCH entries read from the input."""
        if not any(s == BATCH or isinstance(s, Batches) for s in shape):
            return self.const(np.array(shape, dtype=np.int64))
        if self._batch is None:
            self._batch = self.add("Shape", self.inputs[0], start=0, end=1)
        parts = [self._batch if s == BATCH else
                 self.add("Mul", self._batch, self.const(np.array([s.times], np.int64)))
                 if isinstance(s, Batches) else self.const(np.array([s], np.int64))
                 for s in shape]
        return self.add("Concat", *parts, axis=0)


# ---------------------------------------------------------------- the op table
def _reduction(op_type, identity="Identity"):
    """A row for a reduction with axes as its second input; axis=() reduces nothing."""
    def row(b, node, x):
        axis, ndim = node.attrs.get("axis"), b.ndim(node.inputs[0])
        keepdims = int(bool(node.attrs.get("keepdims", False)))
        axes = (tuple(range(ndim)) if axis is None else
                (int(axis),) if isinstance(axis, (int, np.integer)) else tuple(map(int, axis)))
        if not axes:
            return b.add(identity, x)
        return b.add(op_type, x, b.const(np.array(axes, np.int64)), keepdims=keepdims)
    return row


def _cumsum(b, node, x):
    axis = node.attrs.get("axis", 0)
    if axis is None:  # numpy's: over the flattened array
        x, axis = b.add("Reshape", x, b.const(np.array([-1], np.int64))), 0
    return b.add("CumSum", x, b.const(np.array(int(axis), np.int64)))


def _logaddexp(b, node, x, y):
    # max(x, y) + log(1 + exp(-|x - y|)): finite for any inputs.
    gap = b.add("Neg", b.add("Abs", b.add("Sub", x, y)))
    return b.add("Add", b.add("Max", x, y),
                 b.add("Log", b.add("Add", b.like(1, node), b.add("Exp", gap))))


def _gelu(b, node, x):
    c, a = math.sqrt(2 / math.pi), 0.044715
    cube = b.add("Mul", b.add("Mul", x, x), x)
    inner = b.add("Mul", b.add("Add", x, b.add("Mul", cube, b.like(a, node))), b.like(c, node))
    half = b.add("Mul", x, b.like(0.5, node))
    return b.add("Mul", half, b.add("Add", b.add("Tanh", inner), b.like(1, node)))


_ERF_TERMS = 100  # the series below is within 3e-15 of erf for every float64 x with these


def _erf(b, node, x):
    """erf(x): ONNX's Erf in float32; in float64, where onnxruntime has no Erf kernel, the
    series erf(x) = 2/sqrt(pi) exp(-x^2) sum_n (2x^2)^n x / (1 3 5 ... (2n+1)), whose terms are
    all of x's sign (no cancellation), for x clipped to [-6, 6] (erf(6) rounds to 1)."""
    if np.dtype(node.dtype) != np.float64:
        return b.add("Erf", x)
    x = b.add("Clip", x, b.like(-6, node), b.like(6, node))
    square = b.add("Mul", x, x)
    twice = b.add("Mul", square, b.like(2, node))
    term = total = x
    for n in range(1, _ERF_TERMS + 1):
        term = b.add("Div", b.add("Mul", term, twice), b.like(2 * n + 1, node))
        total = b.add("Add", total, term)
    scale = b.add("Mul", b.add("Exp", b.add("Neg", square)), b.like(2 / math.sqrt(math.pi), node))
    # (rounding can carry the sum an ulp past 1, where 1 + erf(-6) must stay 0)
    return b.add("Clip", b.add("Mul", total, scale), b.like(-1, node), b.like(1, node))


def _gelu_exact(b, node, x):
    # x Phi(x) = x (1 + erf(x / sqrt 2)) / 2
    erf = _erf(b, node, b.add("Mul", x, b.like(math.sqrt(0.5), node)))
    return b.add("Mul", b.add("Mul", x, b.like(0.5, node)), b.add("Add", erf, b.like(1, node)))


def _clip_tensors(b, node, x, lo, hi):
    return b.add("Min", b.add("Max", x, lo), hi)  # hi wins when lo > hi, as np.clip


def _arctan2(b, node, y, x):
    # atan(y / x), moved by +-pi (the sign of y) where x is negative. Signs are read as the sign
    # of 1/v, so that -0.0 counts as negative, as in numpy (arctan2(-0.0, -1) = -pi); at
    # x = y = 0 the base is y itself (0 or -0) instead of atan(0/0).
    zero, pi = b.like(0, node), b.like(math.pi, node)
    negative_x = b.add("Less", b.add("Div", b.like(1, node), x), zero)
    negative_y = b.add("Less", b.add("Div", b.like(1, node), y), zero)
    both_zero = b.add("And", b.add("Equal", x, zero), b.add("Equal", y, zero))
    base = b.add("Where", both_zero, y, b.add("Atan", b.add("Div", y, x)))
    shift = b.add("Where", negative_y, b.add("Neg", pi), pi)
    return b.add("Where", negative_x, b.add("Add", base, shift), base)


def _hypot(b, node, x, y):
    # m sqrt((x/m)^2 + (y/m)^2), m = max(|x|, |y|): no overflow for huge inputs, 0 at (0, 0).
    ax, ay = b.add("Abs", x), b.add("Abs", y)
    big, small = b.add("Max", ax, ay), b.add("Min", ax, ay)
    zero = b.add("Equal", big, b.like(0, node))
    ratio = b.add("Div", small, b.add("Where", zero, b.like(1, node), big))
    root = b.add("Sqrt", b.add("Add", b.like(1, node), b.add("Mul", ratio, ratio)))
    return b.add("Mul", big, root)


def _sinc(b, node, x):
    # sin(pi x) / (pi x), 1 at x = 0
    px = b.add("Mul", x, b.like(math.pi, node))
    zero = b.add("Equal", x, b.like(0, node))
    safe = b.add("Where", zero, b.like(1, node), px)
    return b.add("Where", zero, b.like(1, node), b.add("Div", b.add("Sin", safe), safe))


def _logaddexp2(b, node, x, y):
    # max(x, y) + log2(1 + 2^-|x - y|)
    gap = b.add("Neg", b.add("Abs", b.add("Sub", x, y)))
    tail = b.add("Log", b.add("Add", b.like(1, node), b.add("Pow", b.like(2, node), gap)))
    return b.add("Add", b.add("Max", x, y), b.add("Div", tail, b.like(math.log(2), node)))


def _cbrt(b, node, x):
    return b.add("Mul", b.add("Sign", x), b.add("Pow", b.add("Abs", x), b.like(1 / 3, node)))


def _fpick(compare):
    """fmax / fmin: x where it wins (ties included) or y is nan, else y (nan only if both)."""
    def row(b, node, x, y):
        picks_x = b.add("Or", b.add(compare, x, y), b.add("IsNaN", y))
        return b.add("Where", picks_x, x, y)
    return row


def _remainder(b, node, x, y):
    # numpy's float remainder: fmod, moved by y when its sign differs from y's.
    mod = b.add("Mod", x, y, fmod=1)
    zero = b.like(0, node)
    differs = b.add("Xor", b.add("Less", mod, zero), b.add("Less", y, zero))
    move = b.add("And", differs, b.add("Not", b.add("Equal", mod, zero)))
    return b.add("Where", move, b.add("Add", mod, y), mod)


def _nan_to_num(b, node, x):
    a, big = node.attrs, float(np.finfo(node.dtype).max)
    posinf = big if a.get("posinf") is None else a["posinf"]
    neginf = -big if a.get("neginf") is None else a["neginf"]
    x = b.add("Where", b.add("IsNaN", x), b.like(a.get("nan", 0.0), node), x)
    x = b.add("Where", b.add("IsInf", x, detect_negative=0), b.like(posinf, node), x)
    return b.add("Where", b.add("IsInf", x, detect_positive=0), b.like(neginf, node), x)


def _pads(padding):
    return [int(lo) for lo, _ in padding] + [int(hi) for _, hi in padding]


def _conv(b, node, x, w):
    a = node.attrs
    return b.add("Conv", x, w, strides=list(a["stride"]), pads=_pads(a["padding"]),
                 dilations=list(a["dilation"]), group=int(a["groups"]))


def _max_pool(b, node, x):
    a = node.attrs
    return b.add("MaxPool", x, kernel_shape=list(a["kernel"]), strides=list(a["stride"]),
                 pads=_pads(a["padding"]), dilations=list(a["dilation"]))


def _leaky_relu(b, node, x):
    slope = b.like(node.attrs.get("slope", 0.01), node)
    positive = b.add("Greater", x, b.like(0, node))
    return b.add("Where", positive, x, b.add("Mul", x, slope))


def _clip(b, node, x):
    lo, hi = node.attrs.get("lo"), node.attrs.get("hi")
    if lo is not None:
        x = b.add("Max", x, b.like(lo, node))
    if hi is not None:
        x = b.add("Min", x, b.like(hi, node))
    return x


def _getitem(b, node, x):
    index = node.attrs["index"]
    if isinstance(index, InputIndex):  # an Embedding's lookup: rows at the input's values
        position = b.add("Cast", b.inputs[index.position], to=onnx.TensorProto.INT64)
        return b.add("Gather", x, position, axis=0)
    items = list(index) if isinstance(index, tuple) else [index]
    ndim = b.ndim(node.inputs[0])
    if any(i is Ellipsis for i in items):  # (`in` would compare arrays elementwise)
        at = next(k for k, i in enumerate(items) if i is Ellipsis)
        used = sum(1 for i in items if i is not None and i is not Ellipsis)
        items[at:at + 1] = [slice(None)] * (ndim - used)
    arrays = [i for i in items if isinstance(i, (np.ndarray, list))]
    if len(arrays) > 1 or (arrays and any(isinstance(i, (int, np.integer)) for i in items)):
        raise NotImplementedError("to_onnx: getitem with several index arrays (or arrays with "
                                  "integers) has no ONNX mapping; index one axis at a time")
    axis = 0
    for item in items:
        if item is None:
            x = b.add("Unsqueeze", x, b.const(np.array([axis], np.int64)))
            axis += 1
        elif isinstance(item, slice):
            if item != slice(None):
                step = 1 if item.step is None else int(item.step)
                start = (0 if step > 0 else _INT64_MAX) if item.start is None else int(item.start)
                stop = (_INT64_MAX if step > 0 else _INT64_MIN) if item.stop is None \
                    else int(item.stop)
                x = b.add("Slice", x, *(b.const(np.array([v], np.int64))
                                        for v in (start, stop, axis, step)))
            axis += 1
        elif isinstance(item, (int, np.integer)):
            x = b.add("Gather", x, b.const(np.array(int(item), np.int64)), axis=axis)
        else:
            item = np.asarray(item)
            if item.dtype == bool:
                if item.ndim != 1:
                    raise NotImplementedError("to_onnx: getitem with a boolean mask over several "
                                              "axes has no ONNX mapping")
                item = np.flatnonzero(item)
            x = b.add("Gather", x, b.const(item.astype(np.int64)), axis=axis)
            axis += item.ndim
    return x


def _linear(b, node, x, w, bias):
    return b.add("Add", b.add("MatMul", x, w), bias)


def _reduce(b, node, losses, ndim):
    reduction = node.attrs.get("reduction", "mean")
    if reduction == "none" or ndim == 0:
        return losses if reduction != "none" or ndim else b.add("Identity", losses)
    return b.add("ReduceMean" if reduction == "mean" else "ReduceSum", losses, keepdims=0)


def _cross_entropy(b, node, x, t):
    log_probs = b.add("LogSoftmax", x, axis=-1)
    rows = b.add("Neg", b.add("ReduceSum", b.add("Mul", t, log_probs),
                              b.const(np.array([-1], np.int64)), keepdims=0))
    return _reduce(b, node, rows, b.ndim(node.inputs[0]) - 1)


def _cross_entropy_labels(b, node, x):
    # -log_softmax(x) at each row's label (a constant of the trace, as where's condition).
    picked = b.add("GatherElements", b.add("LogSoftmax", x, axis=-1),
                   b.const(node.attrs["labels"][..., None], np.int64), axis=-1)
    rows = b.add("Neg", b.add("Squeeze", picked, b.const(np.array([-1], np.int64))))
    return _reduce(b, node, rows, b.ndim(node.inputs[0]) - 1)


def _bce_with_logits(b, node, x, t):
    losses = b.add("Sub", _logaddexp(b, node, x, b.like(0, node)), b.add("Mul", x, t))
    return _reduce(b, node, losses, b.ndim(node.inputs[0]))


def _stack(b, node, *xs):
    # A new axis per input, then one concatenation (negative axes count in the result's rank
    # for both, as in np.stack).
    axis = int(node.attrs.get("axis", 0))
    at = b.const(np.array([axis], np.int64))
    return b.add("Concat", *(b.add("Unsqueeze", x, at) for x in xs), axis=axis)


def _binary(op_type):
    return lambda b, node, x, y: b.add(op_type, x, y)


def _unary(op_type):
    return lambda b, node, x: b.add(op_type, x)


def _not_in_onnx(name, why):
    def row(b, node, *args):
        raise NotImplementedError(f"to_onnx: op {name!r} has no ONNX mapping ({why})")
    return row


ONNX_OPS = {
    "add": _binary("Add"),
    "subtract": _binary("Sub"),
    "multiply": _binary("Mul"),
    "divide": _binary("Div"),
    "negative": _unary("Neg"),
    "power": _binary("Pow"),
    "maximum": _binary("Max"),
    "minimum": _binary("Min"),
    "where": lambda b, node, x, y: b.add("Where", b.const(node.attrs["condition"], bool), x, y),
    "logaddexp": _logaddexp,
    "exp": _unary("Exp"),
    "expm1": lambda b, node, x: b.add("Sub", b.add("Exp", x), b.like(1, node)),
    "log": _unary("Log"),
    "log1p": lambda b, node, x: b.add("Log", b.add("Add", x, b.like(1, node))),
    "sqrt": _unary("Sqrt"),
    "abs": _unary("Abs"),
    "sin": _unary("Sin"),
    "cos": _unary("Cos"),
    "tanh": _unary("Tanh"),
    "sigmoid": _unary("Sigmoid"),
    "relu": _unary("Relu"),
    "leaky_relu": _leaky_relu,
    "gelu": _gelu_exact,
    "gelu_tanh": _gelu,
    "erf": _erf,
    "erfc": lambda b, node, x: b.add("Sub", b.like(1, node), _erf(b, node, x)),
    "clip": _clip,
    "clip_tensors": _clip_tensors,
    "astype": lambda b, node, x: b.add(
        "Cast", x, to=helper.np_dtype_to_tensor_dtype(np.dtype(node.attrs["dtype"]))),
    "sum": _reduction("ReduceSum"),
    "mean": _reduction("ReduceMean"),
    "max": _reduction("ReduceMax"),
    "min": _reduction("ReduceMin"),
    "prod": _reduction("ReduceProd"),
    "norm": _reduction("ReduceL2", identity="Abs"),
    "logsumexp": _reduction("ReduceLogSumExp"),
    "reshape": lambda b, node, x: b.add("Reshape", x, b.shape(node.attrs["shape"])),
    "transpose": lambda b, node, x: b.add("Transpose", x, perm=[int(a) for a in (
        node.attrs["axes"] if node.attrs.get("axes") is not None
        else range(b.ndim(node.inputs[0]) - 1, -1, -1))]),
    "broadcast_to": lambda b, node, x: b.add("Expand", x, b.shape(node.attrs["shape"])),
    "getitem": _getitem,
    "add_at": _not_in_onnx("add_at", "it only appears in gradients of getitem"),
    "concatenate": lambda b, node, *xs: b.add("Concat", *xs, axis=int(node.attrs.get("axis", 0))),
    "stack": _stack,
    "matmul": _binary("MatMul"),
    "linear": _linear,
    "log_softmax": lambda b, node, x: b.add("LogSoftmax", x, axis=int(node.attrs.get("axis", -1))),
    "softmax": lambda b, node, x: b.add("Softmax", x, axis=int(node.attrs.get("axis", -1))),
    "cross_entropy": _cross_entropy,
    "cross_entropy_labels": _cross_entropy_labels,
    "bce_with_logits": _bce_with_logits,
    "tan": _unary("Tan"),
    "sinh": _unary("Sinh"),
    "cosh": _unary("Cosh"),
    "arcsin": _unary("Asin"),
    "arccos": _unary("Acos"),
    "arctan": _unary("Atan"),
    "arcsinh": _unary("Asinh"),
    "arccosh": _unary("Acosh"),
    "arctanh": _unary("Atanh"),
    "arctan2": _arctan2,
    "hypot": _hypot,
    "sinc": _sinc,
    "log2": lambda b, node, x: b.add("Div", b.add("Log", x), b.like(math.log(2), node)),
    "log10": lambda b, node, x: b.add("Div", b.add("Log", x), b.like(math.log(10), node)),
    "exp2": lambda b, node, x: b.add("Pow", b.like(2, node), x),
    "logaddexp2": _logaddexp2,
    "cbrt": _cbrt,
    "fmax": _fpick("GreaterOrEqual"),
    "fmin": _fpick("LessOrEqual"),
    "remainder": _remainder,
    "nan_to_num": _nan_to_num,
    "cumsum": _cumsum,
    "cumprod": _not_in_onnx("cumprod", "ONNX has no cumulative product"),
    "copy": lambda b, node, x: b.add("Identity", x),
    "setitem": _not_in_onnx("setitem", "item assignment in a forward pass; write it with "
                            "autograd.where or concatenate"),
    "einsum": lambda b, node, x, y: b.add("Einsum", x, y, equation=node.attrs["subscripts"]),
    "einsum_unary": lambda b, node, x: b.add("Einsum", x, equation=node.attrs["subscripts"]),
    "conv": _conv,
    "conv_transpose": _not_in_onnx("conv_transpose", "it only appears in gradients of conv"),
    "conv_weight": _not_in_onnx("conv_weight", "it only appears in gradients of conv"),
    "max_pool": _max_pool,
    # Decompositions and solves: the standard ONNX domain has no linear algebra past MatMul.
    **{name: _not_in_onnx(name, "the standard ONNX operators have no matrix decompositions or "
                                "solves; export this part with to_torch")
       for name in ("solve", "solve_triangular", "inv", "slogdet", "cholesky", "eigh", "svd",
                    "qr", "pinv")},
}

# Rows that always raise: the op has no ONNX equivalent (tests/test_onnx_export.py checks each).
NOT_IN_ONNX = {"add_at", "conv_transpose", "conv_weight", "solve", "solve_triangular", "inv",
               "slogdet", "cholesky", "eigh", "svd", "qr", "pinv", "cumprod", "setitem"}


# ---------------------------------------------------------------- the model
def _value_info(name, dtype, shape):
    # BATCH is the input's batch axis; None a size that grows with it some other way.
    dims = ["batch" if s == BATCH else None if s is None or isinstance(s, Batches) else int(s)
            for s in shape]
    return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(np.dtype(dtype)),
                                         dims)


def build(trace, model):
    """The ONNX ModelProto of `trace` (of `model`), checked by onnx's checker."""
    b = Builder(trace, model)
    for node in trace.nodes:
        row = ONNX_OPS.get(node.op.name)
        if row is None:
            raise NotImplementedError(f"to_onnx: op {node.op.name!r} has no ONNX mapping yet "
                                      "(add a row to nn/export/onnx_graph.py's ONNX_OPS)")
        b.values.append(row(b, node, *(b.value(r) for r in node.inputs)))
    inputs = [_value_info(name, dtype, (BATCH, *shape[1:]) if trace.dynamic else shape)
              for name, dtype, shape in zip(b.inputs, trace.input_dtypes, trace.input_shapes)]
    outputs = []
    count = len(trace.outputs)
    for i, (ref, value) in enumerate(zip(trace.outputs, trace.values)):
        name = "y" if count == 1 else f"y{i}"
        b.nodes.append(helper.make_node("Identity", [b.value(ref)], [name]))
        shape = trace.nodes[ref.key].shape if ref.kind == "node" else value.shape
        if ref.kind == "input" and trace.dynamic:
            shape = (BATCH, *shape[1:])
        outputs.append(_value_info(name, value.dtype, shape))
    graph = helper.make_graph(b.nodes, type(model).__name__, inputs, outputs, b.initializers)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="npgrad")
    onnx.checker.check_model(proto)
    return proto


def check(path, trace, example):
    """Run the file in onnxruntime on the example and raise unless it reproduces npgrad's output
    (skipped when onnxruntime is not installed)."""
    try:
        import onnxruntime
    except ImportError:
        return
    arrays = example if isinstance(example, tuple) else (example,)
    try:
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        feeds = {i.name: np.array(getattr(a, "data", a), dtype=d)
                 for i, a, d in zip(session.get_inputs(), arrays, trace.input_dtypes)}
        results = session.run(None, feeds)
    except Exception as err:  # onnxruntime's own error types (a kernel missing for a dtype)
        raise RuntimeError(f"to_onnx: onnxruntime cannot run the exported {path} in "
                           f"{'/'.join(str(d) for d in trace.input_dtypes)} ({err}); the file "
                           "is written, but an op lacks a kernel for this dtype in onnxruntime "
                           "(try the model in float32)") from err
    for ours, theirs in zip(trace.values, results):
        tol = TOLERANCE.get(ours.dtype, 1e-12)
        if ours.shape != theirs.shape or not np.allclose(theirs, ours, rtol=tol, atol=tol,
                                                         equal_nan=True):
            raise RuntimeError(f"to_onnx: onnxruntime's output (shape {theirs.shape}) differs "
                               f"from npgrad's (shape {ours.shape}) on the example: an op "
                               "mapping is wrong for this model; please report it")
