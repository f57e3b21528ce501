"""One forward pass recorded op by op (autograd.record), the graph both exporters build.

`trace(model, example)` runs `model` twice, on the example and on the example with one more row,
and records every primitive `apply` runs. The two recordings must agree: anything that differs
between them depends on the batch size, which a graph with a dynamic batch axis cannot hold. A
shape attribute whose entry is the batch size in both runs (a Flatten's reshape) becomes BATCH;
any other difference (a Python number such as `1 / x.shape[0]`, a mask computed from the data
outside the graph) raises, naming the op. Values computed outside Tensor operations (numpy on
`.data`, comparisons, masks, `where` conditions, integer indices) are constants of the trace.
"""

from dataclasses import dataclass, field

import numpy as np

from autograd import Tensor
from autograd.record import record

from ..embedding import Embedding
from ..layers import Dropout

BATCH = "batch"  # a shape entry that is the batch size (axis 0 of every input)


@dataclass(frozen=True)
class Batches:
    """A shape entry that is `times` batch sizes (a (N * C, ...) reshape, as pooling does)."""

    times: int


def follows_batch(shape) -> bool:
    """Whether a shape attribute has an entry that grows with the batch."""
    return any(s == BATCH or isinstance(s, Batches) for s in shape)


@dataclass(frozen=True)
class InputIndex:
    """A getitem index that is integer input `position` itself (an Embedding's lookup)."""

    position: int


@dataclass
class Ref:
    """Where an op's input comes from: kind "input" (index), "param" (npgrad name), "node"
    (index of an earlier node), "const" (an array recorded in the trace) or "fill" ((value,
    shape): an array of one value whose shape follows the batch, such as a zero state)."""

    kind: str
    key: object

    def same(self, other: "Ref") -> bool:
        if self.kind != other.kind:
            return False
        if self.kind == "const":
            a, b = self.key, other.key
            return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, True)
        return self.key == other.key


def ref_ndim(trace, ref) -> int:
    """The number of axes of what `ref` names in `trace` (both graph builders ask it)."""
    if ref.kind == "input":
        return len(trace.input_shapes[ref.key])
    if ref.kind == "node":
        return len(trace.nodes[ref.key].shape)
    if ref.kind == "param":
        return trace.params[ref.key].ndim
    if ref.kind == "fill":
        return len(ref.key[1])
    return ref.key.ndim


@dataclass
class Node:
    """One primitive: its op, where its inputs come from, its attributes (saved arrays dropped)
    and its output's shape and dtype (BATCH where the output's size follows the batch)."""

    op: object
    inputs: list
    attrs: dict
    shape: tuple
    dtype: np.dtype


@dataclass
class Trace:
    """The recorded graph: inputs' shapes, nodes in order, the output refs, parameters by name."""

    input_shapes: list
    input_dtypes: list
    nodes: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    params: dict = field(default_factory=dict)  # npgrad name -> Tensor (parameters and buffers)
    dynamic: bool = True


def _record(model, arrays, params):
    """Run `model` on `arrays` and turn each recorded op's inputs into Refs."""
    # Float data takes the parameters' dtype, as model(x) gives it; integer data (labels,
    # indices) stays as it is.
    dtype = next(iter(params.values())).dtype if params else None
    inputs = [Tensor(np.array(a, dtype=dtype if dtype and a.dtype.kind == "f" else a.dtype))
              for a in arrays]
    result, events = record(model, *inputs)
    if events.modified:  # e.g. a BatchNorm's running statistics in training mode: not an op
        changed = events.modified[0]
        owner = next((f"{name} ({type(m).__name__})" for name, m in model.named_modules()
                      if any(getattr(m, b, None) is changed for b in m._buffer_names)),
                     f"a tensor of shape {changed.shape}")
        raise ValueError(f"export: {owner} is changed in place during the forward pass (a "
                         "running statistic in training mode), which an exported graph would "
                         "not do: call model.eval() before exporting")
    known = {id(t): (Ref("input", i), t.version) for i, t in enumerate(inputs)}
    known.update({id(t): (Ref("param", n), t.version) for n, t in params.items()})
    nodes = []
    for event in events:
        refs = [_ref(known, t, v, event.op.name) for t, v in zip(event.inputs, event.versions)]
        attrs = dict(event.attrs)
        if event.op.name == "getitem":
            attrs["index"] = _input_index(attrs["index"], inputs)
        nodes.append(Node(event.op, refs, attrs, event.out.data.shape, event.out.data.dtype))
        known[id(event.out)] = (Ref("node", len(nodes) - 1), event.out.version)
    outs = _outputs(result)
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(f"export: the model returned a {type(o).__name__}, not a Tensor")
    return (inputs, nodes, [_ref(known, o, o.version, "the output") for o in outs], outs,
            _structure(result))


def _structure(result):
    """The nesting of the output: None for one Tensor, else a tuple of structures."""
    if isinstance(result, (tuple, list)):
        return tuple(_structure(item) for item in result)
    return None


def _input_index(index, inputs):
    """An integer index array holding an input's values (whole numbers, in a float Tensor as
    Sequential passes them on) is that input, looked up in the graph at run time; any other
    index stays the constant it is. (A constant that only happens to equal this example's
    input differs from the input on the trace's second batch, and is refused there.)"""
    if isinstance(index, np.ndarray) and index.dtype.kind in "iu":
        for i, t in enumerate(inputs):
            if t.data.shape == index.shape and np.array_equal(t.data, index):
                return InputIndex(i)
    return index


def _outputs(result):
    """The model's output Tensors in order, nested tuples (an LSTM's) flattened."""
    if isinstance(result, (tuple, list)):
        return [t for item in result for t in _outputs(item)]
    return [result]


def _ref(known, t, version, where):
    """Where tensor `t` (at `version` when used) comes from; unknown tensors are constants."""
    entry = known.get(id(t))
    if entry is None:
        return Ref("const", np.array(t.data))
    ref, made = entry
    if version != made:
        raise ValueError(f"export: {where} reads a tensor changed in place after it was made "
                         "(+= and the like): the trace cannot follow in-place operations; "
                         "write the forward pass without them")
    return ref


def trace(model, example, dynamic_batch: bool = True) -> Trace:
    """Record `model(*example)`; with `dynamic_batch`, check the graph holds for any batch size.

    `example`: an array (or Tensor), or a tuple of them for a model with several inputs; axis 0
    of each is the batch axis. Returns the Trace (its `values` are the model's outputs).
    """
    arrays = [getattr(a, "data", a) for a in (example if isinstance(example, tuple) else
                                               (example,))]
    arrays = [np.asarray(a) for a in arrays]
    dropping = [name or type(model).__name__ for name, m in model.named_modules()
                if isinstance(m, Dropout) and m.training and m.p > 0]
    if dropping:  # its random mask would become a constant of the graph
        raise ValueError(f"export: Dropout {dropping[0]!r} is in training mode: call "
                         "model.eval() before exporting (an exported graph holds no random mask)")
    padded = [name or type(model).__name__ for name, m in model.named_modules()
              if isinstance(m, Embedding) and m.padding_idx is not None]
    if padded:  # its gradient-free row is chosen by a numpy mask of the indices
        raise NotImplementedError(f"export: Embedding {padded[0]!r} has a padding_idx, whose "
                                  "row takes no gradient through a mask computed from the "
                                  "indices, which a traced graph cannot follow; export a copy "
                                  "with padding_idx=None for inference")
    params = dict(model._named_tensors())
    saved = {name: np.array(t.data, copy=True) for name, t in params.items()}
    try:  # a BatchNorm in training mode updates its running statistics at every call
        return _trace(model, arrays, params, dynamic_batch)
    finally:
        for name, t in params.items():
            if not np.array_equal(t.data, saved[name], equal_nan=True):
                t.data[...] = saved[name]


def _trace(model, arrays, params, dynamic_batch):
    inputs, nodes, outputs, values, structure = _record(model, arrays, params)
    result = Trace([a.shape for a in arrays], [t.dtype for t in inputs], nodes, outputs, params,
                   dynamic_batch)
    result.values, result.structure = [v.data for v in values], structure
    _check_inputs_read(nodes, outputs, inputs)
    if not dynamic_batch:
        return result
    if any(a.ndim == 0 for a in arrays):
        raise ValueError("export: an input is 0-d and has no batch axis; pass dynamic_batch=False")
    n = arrays[0].shape[0]
    if any(a.shape[0] != n for a in arrays):
        raise ValueError(f"export: the inputs' first axes differ ({[a.shape for a in arrays]}): "
                         "axis 0 of every input is the batch axis")
    more = [np.concatenate([a, a[:1]]) if n else np.concatenate([a, a]) for a in arrays]
    m = more[0].shape[0]
    if n == m:  # an empty example: a batch of 0 and another batch of 0 tell nothing apart
        raise ValueError("export: the example input has no rows; pass at least one")
    try:
        _, other, other_outputs, _, _ = _record(model, more, params)
    except (ValueError, IndexError, TypeError) as err:
        raise ValueError(f"export: the model runs on a batch of {n} rows but fails on {m} "
                         f"({err}): it holds values tied to the batch size, so a graph with a "
                         "dynamic batch axis cannot be traced; pass dynamic_batch=False for "
                         "this batch size only") from err
    _compare(nodes, other, n, m)
    for a, b in zip(outputs, other_outputs):
        if not a.same(b):
            raise ValueError("export: the model's output is not computed from its input")
    return result


def _check_inputs_read(nodes, outputs, inputs):
    """Raise if an input reaches the graph only through numpy (its values would be frozen)."""
    read = {r.key for node in nodes for r in node.inputs if r.kind == "input"}
    read |= {r.key for r in outputs if r.kind == "input"}
    read |= {v.position for node in nodes for v in node.attrs.values()
             if isinstance(v, InputIndex)}
    for i, t in enumerate(inputs):
        if i not in read:
            raise ValueError(f"export: input {i} (shape {t.shape}, {t.data.dtype}) is read by no "
                             "Tensor operation: the model uses its values through numpy (.data, "
                             "a mask, an index other than a plain lookup), so the exported graph "
                             "would hold this example's values as constants and ignore its input")


def _fill(x, y, n, m, where):
    """A "fill" Ref for constants x, y (batches n, m) of one value with a batch-sized shape."""
    a, b = x.key, y.key
    if (a.dtype != b.dtype or a.size == 0 or b.size == 0 or a.ndim != b.ndim
            or not (np.all(a == a.flat[0]) and np.all(b == b.flat[0]))
            or not _same_value(a.flat[0], b.flat[0])):
        return None
    shape = _batch_shape(a.shape, b.shape, n, m, where)
    return Ref("fill", (a.flat[0], shape))


def _compare(nodes, other, n, m):
    """Mark the batch-sized entries of `nodes` (batch n) found by comparing `other` (batch m)."""
    if len(nodes) != len(other):
        raise ValueError(f"export: the forward pass runs {len(nodes)} operations for a batch of "
                         f"{n} and {len(other)} for a batch of {m}: its control flow depends "
                         "on the batch size, which a traced graph cannot follow")
    for i, (a, b) in enumerate(zip(nodes, other)):
        where = f"operation {i} ({a.op.name})"
        if a.op is not b.op:
            raise ValueError(f"export: {where} becomes {b.op.name} for another batch size: the "
                             "control flow depends on the batch, which a trace cannot follow")
        for j, (x, y) in enumerate(zip(a.inputs, b.inputs)):
            if not x.same(y) and x.kind == y.kind == "const":
                filled = _fill(x, y, n, m, f"{where}, input {j}")
                if filled is not None:
                    a.inputs[j] = filled
                    continue
            if not x.same(y):
                raise ValueError(f"export: {where}, input {j}: {_describe(x)} becomes "
                                 f"{_describe(y)} for a batch of {m} rows instead of {n}: a "
                                 "value computed outside Tensor operations (a Python number, "
                                 "a numpy mask) depends on the batch, so the traced graph would "
                                 "be wrong for other batches (use Tensor ops, e.g. .mean(), or "
                                 "pass dynamic_batch=False for this batch size only)")
        for key, value in a.attrs.items():
            a.attrs[key] = _batch_attr(value, b.attrs[key], n, m, where, key)
        a.shape = _batch_shape(a.shape, b.shape, n, m, where, strict=False)


def _describe(ref):
    if ref.kind == "const":
        a = ref.key
        return f"the constant {a.item()!r}" if a.size == 1 else f"a constant of shape {a.shape}"
    return f"{ref.kind} {ref.key}"


def _batch_shape(a, b, n, m, where, strict=True):
    """`a` with the entries that are the batch size (n, m in `b`) set to BATCH; other entries
    that differ raise, or are None (unknown: sizes that grow with the batch) unless `strict`."""
    if len(a) != len(b):
        raise ValueError(f"export: {where} gives {len(a)}-d and {len(b)}-d results for two "
                         "batch sizes: a trace cannot follow that")
    out = []
    for x, y in zip(a, b):
        if x == y:
            out.append(x)
        elif (x, y) == (n, m):
            out.append(BATCH)
        elif x and y and x % n == 0 and y % m == 0 and x // n == y // m:
            out.append(Batches(x // n))
        elif not strict:
            out.append(None)
        else:
            raise ValueError(f"export: {where} gives shapes {a} and {b} for batches of {n} and "
                             f"{m}: an axis grows with the batch but is not the batch axis")
    return tuple(out)


def _batch_attr(a, b, n, m, where, key):
    """`a`, with entries that are the batch size (n here, m in the other run) set to BATCH."""
    if _same_value(a, b):
        return a
    if isinstance(a, tuple) and isinstance(b, tuple) and all(
            isinstance(v, (int, np.integer)) for v in (*a, *b)):
        return _batch_shape(a, b, n, m, f"{where}, attribute {key}={a}")
    raise ValueError(f"export: {where}: attribute {key} is {_short(a)} for a batch of {n} and "
                     f"{_short(b)} for {m}: it was computed from the data outside Tensor "
                     "operations (a mask, a condition, an index), so the traced graph would be "
                     "wrong for other batches; pass dynamic_batch=False for this batch only")


def _short(value):
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return repr(value)


def _same_value(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and np.array_equal(a, b))
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b
