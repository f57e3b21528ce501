"""Planning: from a recorded step, the straight-line replay of its forward and backward pass,
gradients summed in the engine's order into buffers that become `.grad`.
"""
import itertools
import math

import numpy as np

from .. import ops
from ..shared_constants import SharedNumber
from ..tensor import Tensor
from .codegen import (
    _attr_values,
    _Builder,
    _function,
    _function_in_pieces,
    _literal,
    _nth,
    _same_bits,
    _Value,
)
from .flat import _aligned_zeros, _layout
from .kernels import (
    _VALUE_ATTRS,
    FORWARD_KERNELS,
    SAVING_KERNELS,
    VJP_KERNELS,
    _label_index,
    add_reduce,
)
from .recording import _Unreplayable


class _Plan:
    """One input signature's replay, built from a trace: `replay(*arrays)` runs it."""

    # Replay recorded in-place operators (`h -= t` on a tensor of the step) by following the
    # node they move the tensor to; off for training steps, whose in-place changes run eagerly.
    follows_in_place = False

    def __init__(self, trace, params, kernels=True, build=True):
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
        self._nodes = {}  # seq of a node of the step -> what its VJPs need
        self._by_seq = {}  # seq of a node of the step -> the value of its output
        self.labels = []  # LabelIndex: guards of the class labels in the inputs
        self._forward()
        self._backward()
        self.args = ", ".join(f"a{i}" for i in range(len(trace.arrays)))
        # What planning needed (the recorded step, every tensor's value) goes: the values of
        # the instructions keep their recorded arrays only until `build` makes the buffers.
        self._trace = self._values = self._nodes = self._arrays = self._by_seq = None
        self.replay = None
        if build:
            self.build()

    def build(self):
        """Make the buffers and compile `replay` (after the trace's release, if it can go: a
        first call's memory then never holds the recorded step and the buffers at once)."""
        self._generate()
        self.bound = [(t, a) for t, a, _ in self._bound]  # what the guards check
        self._bound = self.b = self.outputs = self.value = None
        self.leaves = [(t, None) for t, _ in self.leaves]
        # (compile() is the first call's largest allocation on small networks: nothing of
        # the planning is left by now)
        self.replay = _function_in_pieces("replay", self.args, *self._parts, self.consts)
        self.consts = self._parts = None

    # ------------------------------------------------------------ what each tensor is
    def _value(self, t, version, seq=None):
        if self.follows_in_place and seq is not None and t.op is not None:
            # A tensor an op of the step made, found by the seq of the node it held when used:
            # a recorded in-place operator (`g -= t`, as second-order VJPs run) gives the tensor
            # its result's node and seq, and its old node to a snapshot.
            v = self._by_seq.get(seq)
            if v is not None:
                return v
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
        if type(t) is SharedNumber:  # a Python number shared by its uses: nothing changes it
            return _Value("const", data)
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
                v = self._arrays[id(array)] = self._numpy_made(array)
                return v
            _, func, args, versions, values = origin
            if not _same_bits(array, values):
                raise _Unreplayable(f"an array of shape {array.shape} made inside the step is "
                                    "written into by numpy code after it was made (a replay "
                                    "would not write it); use Tensor operations")
            operands = [self._operand(a, version) for a, version in zip(args, versions)]
            values = [o for o in operands if isinstance(o, _Value)]
            if func is ops.losses.class_labels:  # labels of a cross-entropy: guarded
                v = self._class_labels(array, *operands)
            elif all(o.kind == "const" and o.fold for o in values):
                v = _Value("const", array)  # made from Python numbers alone
            else:
                self.b.begin()
                v = self.b.define("local", array, sources=tuple(values))
                self.b.call(v, func, *operands)
        self._arrays[id(array)] = v
        return v

    def _class_labels(self, array, labels, k):
        """Checked labels (ops.losses.class_labels) of an input: a guard refuses labels
        outside [0, k), which eager code treats otherwise (an error, or ignored rows), and
        fills their flat index for the cross-entropy kernel; the check itself is not replayed.
        """
        if isinstance(labels, _Value) and labels.kind == "const":  # checked once and for all
            return _Value("const", array, fold=labels.fold)
        found = _label_index(self.b, labels, k) if isinstance(labels, _Value) else None
        if found is None:
            raise _Unreplayable(f"class labels of shape {array.shape} ({array.dtype}) that are "
                                "not an input of the step are checked inside it: pass them as "
                                "an input")
        guard, flat = found
        self.labels.append(guard)
        if self.kernels and labels.label_index is None:  # (the first k, if labels serve two)
            labels.label_index = (k, flat)
        return labels

    def _operand(self, a, version):
        """What `made` was told an array was made from, as a value or a Python constant."""
        if isinstance(a, Tensor):
            return self._value(a, version)
        if isinstance(a, np.ndarray):
            return self._array(a)
        if _literal(a):
            return a
        if isinstance(a, np.generic):
            return self._numpy_made(a)
        if isinstance(a, np.random.Generator):  # rand, randn: never frozen, even by _FrozenPlan
            raise _Unreplayable("an array is drawn from random numbers inside the step (by "
                                "rand, randn or a layer's dropout): a replay would reuse its "
                                "draws; draw it outside and pass it as an input")
        raise _Unreplayable(_made_from(a))

    def _numpy_made(self, value):
        """The value of an array (or numpy scalar) made inside the step by numpy code: refused
        here; a plan that can prove such values unchanged by other means may freeze them."""
        raise _Unreplayable(_made_from(value) if isinstance(value, np.generic)
                            else self._unknown(value))

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
        before = self._before_in_place()
        for op, inputs, attrs, out, versions, seqs, seq in rec.forwards:
            ins = [self._value(t, v, s) for t, v, s in zip(inputs, versions, seqs)]
            static = self._attrs(op, {k: v for k, v in attrs.items() if k not in op.saves})
            saved = {k: attrs[k] for k in op.saves}
            data = out.data if out.seq == seq or not self.follows_in_place else before[seq]
            if all(v.kind == "const" and v.fold for v in (*ins, *_attr_values(static))):
                res = _Value("const", data)
                extras = {k: _Value("const", a) for k, a in saved.items()}
            else:
                res, extras = self._emit_forward(op, ins, static, data, saved)
            self._values[id(out)] = self._by_seq[seq] = res
            self._versions[id(out)] = 0
            if data is out.data:
                self._arrays.setdefault(id(data), res)
            if out.retains_grad:
                raise _Unreplayable("retain_grad() on a tensor inside the step")
            if out.op is not None:
                self._nodes[seq] = (op, ins, static, extras, res)
        for t, version in rec.reads:
            v = self._value(t, version) if t.op is None else self._values.get(id(t))
            if v is None or not (v.kind == "const" and v.fold):
                raise _Unreplayable(
                    f"a Python number is read from a tensor of shape {t.shape} inside the step "
                    "(item(), float(), int(), bool(), a format): a replay would freeze it, "
                    "though it can change with the data or the parameters")

    def _before_in_place(self):
        """{seq of a node: its output's values} for the nodes a recorded in-place operator
        moved a tensor away from: the snapshot that holds the old node keeps them."""
        before = {}
        if self.follows_in_place:
            for _, inputs, _, _, _, seqs, _ in self._trace.rec.forwards:
                for t, seq in zip(inputs, seqs):
                    if t.op is not None and t.seq == seq:
                        before.setdefault(seq, t.data)
        return before

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
                op, ins, static, extras, out = self._nodes[node.seq]
            raw = self._emit_vjp(op, i, g, out, ins, static, extras)
            part = self._reduce(raw, parent.data)
            if not _same_bits(part.ref, gx):
                raise _Unreplayable(f"the gradient {op.name} gives input {i} differs when "
                                    "computed again (a VJP that is not deterministic)")
            if part.kind in ("buffer", "local") and _same_layout(part.ref, gx):
                part.ref = gx  # the recorded array, not a second copy of it, until planning ends
            pending.setdefault(id(parent), []).append(part)
            tensors[id(parent)] = parent
        self.leaves = []  # (tensor, gradient value) for leaves outside `params`
        self.grads = []  # per parameter: its .grad buffer, or None when no gradient reaches it
        # The .grad buffers are views of one array when the parameters share a dtype: an
        # update that keeps no state is then two numpy calls over all of them.
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
        self.guards += [f"{name(r.misfit)}(a{r.index})" for r in self.labels]
        self.consts = consts
        checks = self.guards
        head = ["if " + " or ".join(checks) + ":", "    return None"] if checks else []
        self._parts = (head, lines, ["return loss_, outs_"])
        self.source = "\n".join(head + lines + ["return loss_, outs_"])  # the replay's body
        self.fast = None  # replay and update in one function, once the update is checked
        self.fast_key = None  # the update key `fast` was made for
        self.signature = None  # the signature it is stored under

    def fuse(self, update, consts, key, skip_nonfinite):
        """Set `fast`: the replay, then the update's lines, while the `key` checks are false.

        The replay is called, not compiled again with the update: compile() costs about
        0.4 kB per token of source, which on a small network outweighs its arrays (a call
        costs a few hundred instructions of a step's hundreds of thousands).
        """
        lines = ["if " + " or ".join(key) + ":", "    return None"] if key else []
        lines += [f"r_ = replay_({self.args})", "if r_ is None:", "    return None"]
        if update:
            if skip_nonfinite:
                lines += ["if not isfinite_(r_[0]):", "    return r_"]
            lines += update
        self.fast = _function("step", self.args, lines + ["return r_"],
                              dict(consts, replay_=self.replay, isfinite_=math.isfinite))

    def rejects(self, arrays):
        """True when labels of these inputs lie outside [0, k): this call runs eagerly."""
        return any(r.misfit(arrays[r.index]) for r in self.labels)

    def check(self, trace):
        """Replay the recorded inputs: True when every result has the eager step's bits.

        Leaves outside `params` get back the .grad they had before; on a mismatch every
        .grad gets the eager step's value again.
        """
        eager = [t.grad for t, _ in self.leaves]
        for t, _ in self.leaves:
            t.grad = trace.leaf_grads[id(t)]
        try:
            result = self.replay(*trace.arrays)
        except Exception:  # noqa: BLE001 - a plan that cannot run is a plan that differs
            result = None
        ok = result is not None and _same_bits(result[0], trace.value)
        if ok:
            ok = all(_same_bits(p.grad, g) for p, g in zip(self.params, trace.grads))
            ok = ok and all(_same_bits(t.grad, g) for (t, _), g in zip(self.leaves, eager))
            ok = ok and all(_same_bits(a, b) for a, b in zip(result[1], trace.outputs))
        if not ok:
            for p, g in zip(self.params, trace.grads):
                p.grad = g
            for (t, _), g in zip(self.leaves, eager):
                t.grad = g
        return ok



def _same_layout(a, b):
    """Arrays a plan may take one for the other (their bits are known to be the same)."""
    return (type(a) is np.ndarray and type(b) is np.ndarray and a.strides == b.strides
            and a.flags.c_contiguous == b.flags.c_contiguous)


def _made_from(a):
    """Why an array made from `a` (not a Python number, a Tensor or an array) is refused."""
    return (f"a value of type {type(a).__name__} made inside the step ({a!r:.40}) becomes an "
            "array: if it comes from the data (a numpy scalar such as x.mean()), a replay would "
            "freeze it; use Tensor operations")


def _accumulate(t, g):
    """A leaf outside `params` adds up its gradients across steps, as backward does."""
    t.grad = np.array(g) if t.grad is None else t.grad + g
