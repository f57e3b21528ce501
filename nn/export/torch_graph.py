"""A traced npgrad forward pass as a `torch.fx.GraphModule`: one table row per primitive.

Each row of `TORCH_OPS` turns one npgrad op into torch calls with numpy's semantics (axes as
numpy reads them, `sum(axis=())` summing nothing, the `where` condition and `getitem` index as
the constants they are in the trace). Parameters become `nn.Parameter`s under PyTorch's names and
layouts (see `names`), buffers persistent buffers, and arrays recorded in the trace non-persistent
buffers named `_constants.N`, so that `state_dict()` holds the model's weights only. Imported only
when torch is there (nn.export imports it inside its functions).
"""

import operator

import numpy as np
import torch
import torch.nn.functional as F

from .names import to_torch_layout, torch_names, transposed
from .trace import BATCH, Batches, InputIndex, follows_batch, ref_ndim

TOLERANCE = {np.dtype(np.float32): 1e-4, np.dtype(np.float64): 1e-9}  # the self-check's


def torch_dtype(dtype) -> torch.dtype:
    """The torch dtype of a numpy dtype."""
    return torch.from_numpy(np.empty(0, dtype)).dtype


class Builder:
    """Builds the fx graph of a trace: values of refs, constants, the batch size."""

    def __init__(self, trace, model):
        self.trace, self.graph = trace, torch.fx.Graph()
        self.names, self.flipped = torch_names(model), transposed(model)
        self.attrs = {}  # fx target -> (tensor, kind): "param", "buffer" or "const"
        buffers = {id(t) for t in model.buffers()}
        for name, t in trace.params.items():
            value = torch.from_numpy(to_torch_layout(name, t.data, self.flipped))
            if id(t) in buffers:
                self.attrs[self.names[name]] = (value, "buffer")
            else:
                self.attrs[self.names[name]] = (torch.nn.Parameter(value, t.requires_grad),
                                                "param")
        count = len(trace.input_shapes)
        self.inputs = [self.graph.placeholder("x" if count == 1 else f"x{i}")
                       for i in range(count)]
        self.values, self.fetched, self._batch = [], {}, None

    def call(self, fn, *args, **kwargs):
        return self.graph.call_function(fn, args, kwargs)

    def method(self, name, *args):
        return self.graph.call_method(name, args)

    def get(self, target, flip=False):
        """A parameter or buffer by PyTorch name; `flip`: in npgrad's layout (W.t())."""
        key = (target, flip)
        if key not in self.fetched:
            node = self.graph.get_attr(target)
            self.fetched[key] = self.method("t", node) if flip else node
        return self.fetched[key]

    def const(self, array, scalar=True):
        """An array recorded in the trace: a Python number when 0-d and `scalar`, else a buffer."""
        if scalar and array.ndim == 0 and array.dtype.kind in "fiub":
            return array.item()
        target = f"_constants.{len(self.attrs)}"
        self.attrs[target] = (torch.from_numpy(np.array(array)), "const")
        return self.graph.get_attr(target)

    def value(self, ref, scalar=True, linear_weight=False):
        if ref.kind == "input":
            return self.inputs[ref.key]
        if ref.kind == "node":
            return self.values[ref.key]
        if ref.kind == "param":
            flip = ref.key in self.flipped and not linear_weight
            return self.get(self.names[ref.key], flip)
        if ref.kind == "fill":
            value, shape = ref.key
            return self.call(torch.full, self.shape(shape), value.item(),
                             dtype=torch_dtype(value.dtype))
        return self.const(ref.key, scalar)

    def batch(self):
        """The batch size of this call: x.size(0), for shapes that follow the batch."""
        if self._batch is None:
            self._batch = self.method("size", self.inputs[0], 0)
        return self._batch

    def shape(self, shape):
        """A shape attribute with BATCH entries as the batch size of the call."""
        return tuple(self.batch() if s == BATCH else
                     self.call(operator.mul, self.batch(), s.times) if isinstance(s, Batches)
                     else int(s) for s in shape)

    def shape_of(self, ref):
        if ref.kind == "input":
            return (BATCH, *self.trace.input_shapes[ref.key][1:])
        if ref.kind == "node":
            return self.trace.nodes[ref.key].shape
        if ref.kind == "param":
            return self.trace.params[ref.key].shape
        if ref.kind == "fill":
            return ref.key[1]
        return ref.key.shape

    def ndim(self, ref):
        return ref_ndim(self.trace, ref)


# ---------------------------------------------------------------- the op table
def _axes(axis, ndim):
    """numpy's axis (None, int or tuple) as a tuple of dims; None for all of them."""
    if axis is None:
        return None
    return (int(axis),) if isinstance(axis, (int, np.integer)) else tuple(int(a) for a in axis)


def _reduction(fn, identity=None):
    """A row for a reduction `fn(x, dim, keepdim)`; axis=() reduces nothing (numpy), so the
    result is `identity(x)` (x itself by default), never torch's reduce-everything."""
    def row(b, node, x):
        axes = _axes(node.attrs.get("axis"), b.ndim(node.inputs[0]))
        keepdim = bool(node.attrs.get("keepdims", False))
        if axes == ():
            return x if identity is None else b.call(identity, x)
        if axes is None:
            axes = tuple(range(b.ndim(node.inputs[0])))
            if not axes:  # a 0-d input: every reduction over all of it is the element itself
                return x if identity is None else b.call(identity, x)
        return b.call(fn, x, dim=axes, keepdim=keepdim)
    return row


def _prod(x, dim, keepdim):
    """torch.prod over several dims (it takes one at a time), the last first."""
    for d in sorted((d % x.dim() for d in dim), reverse=True):
        x = torch.prod(x, d, keepdim)
    return x


def _index(b, index):
    """A numpy index with its arrays as constants (integer and boolean arrays alike)."""
    if isinstance(index, tuple):
        return tuple(_index(b, i) for i in index)
    if isinstance(index, np.ndarray):
        return b.const(index.astype(np.int64) if index.dtype.kind in "iu" else index, False)
    if isinstance(index, np.integer):
        return int(index)
    if isinstance(index, list):
        return b.const(np.asarray(index), False)
    return index


def _getitem(b, node, x):
    # torch's slices step forward only: a backward slice of a fixed axis becomes an
    # index_select of its positions first (numpy's order), and the slice a plain ':'.
    index = node.attrs["index"]
    if isinstance(index, InputIndex):  # an Embedding's lookup: rows at the input's values
        return b.call(operator.getitem, x, b.method("long", b.inputs[index.position]))
    items = list(index) if isinstance(index, tuple) else [index]
    if any(isinstance(i, slice) and i.step is not None and i.step < 0 for i in items):
        shape = b.shape_of(node.inputs[0])
        if any(i is Ellipsis for i in items):  # (`in` would compare arrays elementwise)
            at = next(k for k, i in enumerate(items) if i is Ellipsis)
            used = sum(1 for i in items if i is not None and i is not Ellipsis)
            items[at:at + 1] = [slice(None)] * (len(shape) - used)
        axis = 0
        for k, item in enumerate(items):
            if isinstance(item, slice) and item.step is not None and item.step < 0:
                if not isinstance(shape[axis], (int, np.integer)):
                    raise NotImplementedError("to_torch: getitem steps backward along the "
                                              "batch axis; torch slices only step forward")
                where = np.arange(shape[axis])[item]
                x = b.call(torch.index_select, x, axis, b.const(where, False))
                items[k] = slice(None)
            if item is not None:
                if not isinstance(item, (slice, int, np.integer)):
                    raise NotImplementedError("to_torch: getitem mixes a backward slice with "
                                              "index arrays; index one axis at a time")
                axis += 1
        index = tuple(items)
    return b.call(operator.getitem, x, _index(b, index))


def _add_at(b, node, y):
    # zeros(shape) with y added at index: a flat index_add, exact for repeated indices too.
    shape = node.attrs["shape"]
    if follows_batch(shape):
        raise ValueError("to_torch: add_at with a batch-sized shape cannot be traced (it comes "
                         "from differentiating getitem); pass dynamic_batch=False")
    where = np.arange(int(np.prod(shape))).reshape(shape)[node.attrs["index"]]
    zeros = b.call(torch.zeros, int(np.prod(shape)), dtype=torch_dtype(node.dtype))
    flat = b.call(torch.index_add, zeros, 0, b.const(where.reshape(-1), False),
                  b.method("reshape", y, -1))
    return b.method("reshape", flat, tuple(shape))


def _linear(b, node, x, w, bias):
    weight = node.inputs[1]
    if weight.kind == "param" and weight.key in b.flipped:  # a Linear layer: PyTorch's layout
        return b.call(F.linear, x, b.value(weight, linear_weight=True), bias)
    return b.call(operator.add, b.call(torch.matmul, x, w), bias)


def _cross_entropy(b, node, x, t):
    # -sum(t * log_softmax(x)) per row, then the mean or sum over rows, as npgrad's fused op.
    rows = b.call(operator.neg, b.call(torch.sum, b.call(
        operator.mul, t, b.call(F.log_softmax, x, -1)), -1))
    return _reduce(b, node, rows)


def _cross_entropy_labels(b, node, x):
    # -log_softmax(x) at each row's label (a constant of the trace, as where's condition).
    labels = b.const(node.attrs["labels"][..., None].astype(np.int64), False)
    picked = b.call(torch.gather, b.call(F.log_softmax, x, -1), -1, labels)
    return _reduce(b, node, b.call(operator.neg, b.call(torch.squeeze, picked, -1)))


def _bce_with_logits(b, node, x, t):
    # log(1 + exp(x)) - x t, with logaddexp as npgrad computes it: finite at any logit.
    zero = b.const(np.zeros((), node.dtype), scalar=False)
    losses = b.call(operator.sub, b.call(torch.logaddexp, x, zero), b.call(operator.mul, x, t))
    return _reduce(b, node, losses)


def _reduce(b, node, losses):
    reduction = node.attrs.get("reduction", "mean")
    if reduction == "none":
        return losses
    return b.call(torch.mean if reduction == "mean" else torch.sum, losses)


# ---------------------------------------------------------------- linear algebra
# The decompositions pack several results into one array (autograd/ops/decompositions.py):
# eigh as (..., 1 + n, n), w as row 0 then v; svd and qr as flat rows joined on the last axis.
def _solve(b, node, a, rhs):
    # numpy 2 reads b as a vector only when it is 1-d; torch also when b.shape == a.shape[:-1],
    # so a stack of matrices one axis short gets a leading axis (numpy would broadcast it).
    a_nd, b_nd = b.ndim(node.inputs[0]), b.ndim(node.inputs[1])
    if b_nd == 1:
        return b.method("squeeze", b.call(torch.linalg.solve, a, b.method("unsqueeze", rhs, -1)),
                        -1)
    if b_nd == a_nd - 1:
        rhs = b.method("unsqueeze", rhs, 0)
    return b.call(torch.linalg.solve, a, rhs)


def _solve_triangular(b, node, a, rhs):
    upper = not node.attrs.get("lower", False)
    if b.ndim(node.inputs[1]) == 1:
        column = b.method("unsqueeze", rhs, -1)
        return b.method("squeeze", b.call(torch.linalg.solve_triangular, a, column,
                                          upper=upper), -1)
    return b.call(torch.linalg.solve_triangular, a, rhs, upper=upper)


def _slogdet(b, node, a):
    return b.call(operator.getitem, b.call(torch.linalg.slogdet, a), 1)


def _eigh(b, node, a):
    result = b.call(torch.linalg.eigh, a, node.attrs.get("UPLO", "L"))
    w, v = b.call(operator.getitem, result, 0), b.call(operator.getitem, result, 1)
    return b.call(torch.cat, (b.method("unsqueeze", w, -2), v), -2)


def _svd(b, node, a):
    result = b.call(torch.linalg.svd, a, full_matrices=False)
    u, s, vh = (b.call(operator.getitem, result, i) for i in range(3))
    return b.call(torch.cat, (b.method("flatten", u, -2), s, b.method("flatten", vh, -2)), -1)


def _qr(b, node, a):
    result = b.call(torch.linalg.qr, a)
    q, r = (b.method("flatten", b.call(operator.getitem, result, i), -2) for i in range(2))
    return b.call(torch.cat, (q, r), -1)


def _pinv(b, node, a):
    # numpy's cut-off: rcond (default 1e-15) times the largest singular value; torch's rtol is
    # that same relative cut-off (its own default, max(m, n) * eps, is larger).
    rcond = node.attrs.get("rcond")
    rtol = 1e-15 if rcond is None else float(rcond)
    return b.call(torch.linalg.pinv, a, rtol=rtol)


# ---------------------------------------------------------------- convolution and pooling
def _symmetric(padding):
    return all(lo == hi for lo, hi in padding)


def _pad(b, x, padding):
    """x with numpy-style (before, after) pairs of zeros on its trailing spatial axes."""
    flat = [int(v) for lo, hi in reversed(padding) for v in (lo, hi)]  # F.pad: last axis first
    return b.call(F.pad, x, flat)


def _conv(b, node, x, w):
    a = node.attrs
    padding, nd = a["padding"], len(a["stride"])
    fn = (F.conv1d, F.conv2d, F.conv3d)[nd - 1]
    if not _symmetric(padding):  # F.conv pads both sides alike
        x, padding = _pad(b, x, padding), ((0, 0),) * nd
    return b.call(fn, x, w, None, tuple(a["stride"]), tuple(lo for lo, _ in padding),
                  tuple(a["dilation"]), int(a["groups"]))


def _conv_grad(kind):
    """conv_transpose (conv's input gradient) and conv_weight (its weight gradient), which only
    appear when a gradient is exported: torch.nn.grad's functions, symmetric padding only."""
    def row(b, node, first, second):
        a = node.attrs
        nd = len(a["stride"])
        if not _symmetric(a["padding"]):
            raise NotImplementedError(f"to_torch: {kind} with uneven padding {a['padding']} has "
                                      "no torch.nn.grad equivalent")
        if follows_batch(a["shape"]):
            raise ValueError(f"to_torch: {kind} with a batch-sized shape cannot be traced (it "
                             "comes from differentiating conv); pass dynamic_batch=False")
        args = (tuple(a["stride"]), tuple(lo for lo, _ in a["padding"]), tuple(a["dilation"]),
                int(a["groups"]))
        shape = [int(s) for s in a["shape"]]
        if kind == "conv_transpose":  # (g, w) -> dx of the given shape
            fn = getattr(torch.nn.grad, f"conv{nd}d_input")
            return b.call(fn, shape, second, first, *args)
        fn = getattr(torch.nn.grad, f"conv{nd}d_weight")  # (x, g) -> dw of the given shape
        return b.call(fn, first, shape, second, *args)
    return row


def _max_pool(b, node, x):
    a = node.attrs
    if not _symmetric(a["padding"]):  # (nn's pooling pads both sides alike, as torch does)
        raise NotImplementedError(f"to_torch: max_pool with uneven padding {a['padding']}")
    fn = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[len(a["kernel"]) - 1]
    return b.call(fn, x, tuple(a["kernel"]), tuple(a["stride"]),
                  tuple(lo for lo, _ in a["padding"]), tuple(a["dilation"]))


# ---------------------------------------------------------------- other elementwise functions
def _cbrt(b, node, x):
    # torch has no cbrt: sign(x) |x|^(1/3), within an ulp or two of it.
    return b.call(operator.mul, b.call(torch.sign, x),
                  b.call(torch.pow, b.call(torch.abs, x), 1 / 3))


def _nan_to_num(b, node, x):
    a = node.attrs
    return b.call(torch.nan_to_num, x, _number(a.get("nan", 0.0)), _number(a.get("posinf")),
                  _number(a.get("neginf")))


def _number(value):
    return None if value is None else float(value)


def _binary(fn):
    return lambda b, node, x, y: b.call(fn, x, y)


def _scan(fn):
    """cumsum / cumprod along one axis (numpy's axis=None, over the flattened array, too)."""
    def row(b, node, x):
        axis = node.attrs.get("axis", 0)
        if axis is None:
            return b.call(fn, b.method("reshape", x, -1), dim=0)
        return b.call(fn, x, dim=int(axis))
    return row


def _written(x, value, index):
    """x with value written at index, as a new tensor (npgrad's recorded t[index] = value)."""
    out = x.clone()
    out[index] = value
    return out


def _setitem(b, node, x, value):
    index = node.attrs["index"]
    items = index if isinstance(index, tuple) else (index,)
    if not all(i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice))
               for i in items):
        raise NotImplementedError("to_torch: setitem with an index array (t[array] = v) has no "
                                  "mapping; write it with autograd.where or concatenate")
    return b.call(_written, x, value, index)


def _unary(fn, **kwargs):
    return lambda b, node, x: b.call(fn, x, **kwargs)


TORCH_OPS = {
    "add": _binary(operator.add),
    "subtract": _binary(operator.sub),
    "multiply": _binary(operator.mul),
    "divide": _binary(operator.truediv),
    "negative": _unary(operator.neg),
    "power": _binary(operator.pow),
    "maximum": _binary(torch.maximum),
    "minimum": _binary(torch.minimum),
    "where": lambda b, node, x, y: b.call(torch.where, b.const(node.attrs["condition"], False),
                                          x, y),
    "logaddexp": _binary(torch.logaddexp),
    "exp": _unary(torch.exp),
    "expm1": _unary(torch.expm1),
    "log": _unary(torch.log),
    "log1p": _unary(torch.log1p),
    "sqrt": _unary(torch.sqrt),
    "abs": _unary(torch.abs),
    "sin": _unary(torch.sin),
    "cos": _unary(torch.cos),
    "tanh": _unary(torch.tanh),
    "sigmoid": _unary(torch.sigmoid),
    "relu": _unary(torch.relu),
    "leaky_relu": lambda b, node, x: b.call(F.leaky_relu, x,
                                            float(node.attrs.get("slope", 0.01))),
    "gelu": _unary(F.gelu),
    "gelu_tanh": _unary(F.gelu, approximate="tanh"),
    "erf": _unary(torch.special.erf),
    "erfc": _unary(torch.special.erfc),
    "clip": lambda b, node, x: b.call(torch.clamp, x, _number(node.attrs.get("lo")),
                                      _number(node.attrs.get("hi"))),
    "clip_tensors": lambda b, node, x, lo, hi: b.call(torch.clamp, x, lo, hi),
    "astype": lambda b, node, x: b.method("to", x, torch_dtype(node.attrs["dtype"])),
    "sum": _reduction(torch.sum),
    "mean": _reduction(torch.mean),
    "max": _reduction(torch.amax),
    "min": _reduction(torch.amin),
    "prod": _reduction(_prod),
    "norm": _reduction(torch.linalg.vector_norm, identity=torch.abs),
    "logsumexp": _reduction(torch.logsumexp),
    "reshape": lambda b, node, x: b.call(torch.reshape, x, b.shape(node.attrs["shape"])),
    "transpose": lambda b, node, x: b.call(torch.permute, x, tuple(int(a) for a in (
        node.attrs["axes"] if node.attrs.get("axes") is not None
        else range(b.ndim(node.inputs[0]) - 1, -1, -1)))),
    "broadcast_to": lambda b, node, x: b.call(torch.broadcast_to, x,
                                              b.shape(node.attrs["shape"])),
    "getitem": _getitem,
    "add_at": _add_at,
    "concatenate": lambda b, node, *xs: b.call(torch.cat, xs, int(node.attrs.get("axis", 0))),
    "stack": lambda b, node, *xs: b.call(torch.stack, xs, int(node.attrs.get("axis", 0))),
    "matmul": _binary(torch.matmul),
    "linear": _linear,
    "log_softmax": lambda b, node, x: b.call(F.log_softmax, x, node.attrs.get("axis", -1)),
    "softmax": lambda b, node, x: b.call(F.softmax, x, node.attrs.get("axis", -1)),
    "cross_entropy": _cross_entropy,
    "cross_entropy_labels": _cross_entropy_labels,
    "bce_with_logits": _bce_with_logits,
    "tan": _unary(torch.tan),
    "sinh": _unary(torch.sinh),
    "cosh": _unary(torch.cosh),
    "arcsin": _unary(torch.asin),
    "arccos": _unary(torch.acos),
    "arctan": _unary(torch.atan),
    "arcsinh": _unary(torch.asinh),
    "arccosh": _unary(torch.acosh),
    "arctanh": _unary(torch.atanh),
    "arctan2": _binary(torch.atan2),
    "hypot": _binary(torch.hypot),
    "sinc": _unary(torch.sinc),
    "log2": _unary(torch.log2),
    "log10": _unary(torch.log10),
    "exp2": _unary(torch.exp2),
    "logaddexp2": _binary(torch.logaddexp2),
    "cbrt": _cbrt,
    "fmax": _binary(torch.fmax),
    "fmin": _binary(torch.fmin),
    "remainder": _binary(torch.remainder),
    "nan_to_num": _nan_to_num,
    "cumsum": _scan(torch.cumsum),
    "cumprod": _scan(torch.cumprod),
    "copy": _unary(torch.clone),
    "setitem": _setitem,
    "solve": _solve,
    "solve_triangular": _solve_triangular,
    "inv": _unary(torch.linalg.inv),
    "slogdet": _slogdet,
    "cholesky": _unary(torch.linalg.cholesky),
    "eigh": _eigh,
    "svd": _svd,
    "qr": _qr,
    "pinv": _pinv,
    "einsum": lambda b, node, x, y: b.call(torch.einsum, node.attrs["subscripts"], x, y),
    "einsum_unary": lambda b, node, x: b.call(torch.einsum, node.attrs["subscripts"], x),
    "conv": _conv,
    "conv_transpose": _conv_grad("conv_transpose"),
    "conv_weight": _conv_grad("conv_weight"),
    "max_pool": _max_pool,
}

# Ops whose tensor operands torch needs as tensors (not Python numbers).
_TENSOR_ONLY = {"maximum", "minimum", "logaddexp", "matmul", "linear", "concatenate", "stack",
                "cross_entropy", "bce_with_logits", "clip_tensors", "arctan2", "hypot",
                "logaddexp2", "fmax", "fmin", "solve", "solve_triangular", "einsum", "conv",
                "conv_transpose", "conv_weight"}


# ---------------------------------------------------------------- the module
def build(trace, model):
    """The GraphModule of `trace` (of `model`), checked against npgrad's outputs on the example."""
    b = Builder(trace, model)
    for node in trace.nodes:
        row = TORCH_OPS.get(node.op.name)
        if row is None:
            raise NotImplementedError(f"to_torch: op {node.op.name!r} has no PyTorch mapping yet "
                                      "(add a row to nn/export/torch_graph.py's TORCH_OPS)")
        scalar = node.op.name not in _TENSOR_ONLY
        args = [b.value(r, scalar, linear_weight=node.op.name == "linear")
                for r in node.inputs]
        b.values.append(row(b, node, *args))
    outputs = iter([b.value(r, scalar=False) for r in trace.outputs])
    b.graph.output(_nest(trace.structure, outputs))
    gm = torch.fx.GraphModule({k: v for k, (v, _) in b.attrs.items()}, b.graph,
                              class_name=type(model).__name__)
    for target, (value, kind) in b.attrs.items():  # unused parameters too, with their kinds
        _put(gm, target, value, kind)
    gm.eval()  # npgrad's trace ran the model as it was; dropout in training is not traced
    return gm


def _nest(structure, values):
    """The flat output values in the model's nesting (an LSTM's (output, (h, c)))."""
    if structure is None:
        return next(values)
    return tuple(_nest(part, values) for part in structure)


def _put(module, target, value, kind):
    *path, field = target.split(".")
    for part in path:
        child = getattr(module, part, None)
        if child is None:
            child = torch.nn.Module()
            setattr(module, part, child)
        module = child
    if kind == "param":
        setattr(module, field, value)
    else:
        if field in vars(module).get("_parameters", {}):
            del module._parameters[field]
        module.register_buffer(field, value, persistent=kind == "buffer")


def check(gm, trace, example):
    """Raise if `gm` does not compute what npgrad computed on the example (a wrong export must
    never pass silently)."""
    arrays = example if isinstance(example, tuple) else (example,)
    inputs = [torch.from_numpy(np.array(getattr(a, "data", a), dtype=d))
              for a, d in zip(arrays, trace.input_dtypes)]
    with torch.no_grad():
        result = gm(*inputs)
    results = torch.utils._pytree.tree_leaves(result)
    for ours, theirs in zip(trace.values, results):
        theirs = theirs.numpy()
        tol = TOLERANCE.get(ours.dtype, 1e-9)
        if ours.shape != theirs.shape or not np.allclose(theirs, ours, rtol=tol, atol=tol,
                                                         equal_nan=True):
            raise RuntimeError(f"to_torch: the exported module's output (shape {theirs.shape}) "
                               f"differs from npgrad's (shape {ours.shape}) on the example: "
                               + _why(trace))


def _why(trace):
    signed = sorted({n.op.name for n in trace.nodes} & {"eigh", "svd"})
    if signed:  # each vector is unique up to its sign only, and the libraries choose differently
        return (f"the model uses {' and '.join(signed)}, whose vectors' signs are the LAPACK "
                "library's choice (numpy's and torch's differ); an output that depends on "
                "those signs cannot be reproduced (outputs such as eigenvalues, singular "
                "values, v v^T or u s vh can)")
    return "an op mapping is wrong for this model; please report it"
