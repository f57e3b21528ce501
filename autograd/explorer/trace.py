"""What the explorer shows, computed once in Python: every node of the graph with its value, its
gradient and the line that made it, the forward pass in creation order, and the backward pass as
the engine runs it (the gradient arriving at each node, the rule, what each input receives).

The backward pass is the engine's own, run with a watcher through `engine.grad`, so the order and
the arrays are backward's and no `.grad` changes. Source lines exist only for nodes made inside
`record()`: the graph itself keeps no lines, and `apply` stays free of the cost.
"""

import contextlib
import os
import re
import sys
import weakref

import numpy as np

from .. import engine
from ..anomaly import user_line
from ..explain import Arrivals, array_of, node_label
from ..graph import _names, _targets, drawn_parents, op_text, recorded_parents, walk

THRESHOLD = 64  # arrays with more elements print truncated, as numpy's print does beyond 1000
EDGEITEMS = 3
PRECISION = 5

_SOURCES = {}  # id(tensor) -> (weakref to it, "file:line: code", ids of the modules it ran in)


# ---------------------------------------------------------------- recording source lines
class record(contextlib.ContextDecorator, engine.Watcher):
    """Context manager (and decorator): every node made inside it remembers the line of your code
    that made it, and the modules whose `forward` was running, for `explore` to show later.

    It is an engine.Watcher, so operations outside it cost nothing; another watcher installed
    before it (detect_anomaly, explain_backward) keeps receiving every call.
    """

    def __enter__(self):
        self._previous = engine.watcher
        self._installed = engine.watching(self)
        self._installed.__enter__()
        return self

    def __exit__(self, *exc):
        return self._installed.__exit__(*exc)

    def _recreate_cm(self):
        return type(self)()

    def forward(self, op, inputs, attrs, out):
        if out.op is not None:
            key = id(out)
            _SOURCES[key] = (weakref.ref(out, lambda _, key=key: _SOURCES.pop(key, None)),
                             user_line(), _running_modules())
        if self._previous is not None:
            self._previous.forward(op, inputs, attrs, out)

    def backward(self, node, index, parent, grad):
        if self._previous is not None:
            self._previous.backward(node, index, parent, grad)


def _running_modules():
    """The objects whose method `forward` is on the stack, innermost first (ids): a model's
    modules, duck-typed, since autograd knows nothing of nn."""
    found, frame = [], sys._getframe(2)
    while frame is not None:
        code = frame.f_code
        if code.co_name == "forward" and code.co_argcount and code.co_varnames[0] == "self":
            found.append(id(frame.f_locals["self"]))
        frame = frame.f_back
    return tuple(found)


def source_of(t):
    """(line or None, module ids) recorded for tensor `t` by `record()`."""
    entry = _SOURCES.get(id(t))
    if entry is None or entry[0]() is not t:
        return None, ()
    line = entry[1]
    if line is None:
        return None, entry[2]
    # Relative to the working folder when inside it: shorter, and a shared page does not
    # carry the user's home folder.
    name = os.path.relpath(line.filename) if _inside_cwd(line.filename) else line.filename
    return f"{name}:{line.lineno}: {line.code}", entry[2]


def _inside_cwd(filename):
    try:
        return not os.path.relpath(filename).startswith("..")
    except ValueError:  # another drive, on Windows
        return False


# ---------------------------------------------------------------- the backward pass, arrays kept
class _Steps(engine.Watcher):
    """Each node backward visits, with the gradient arriving at it and what each input gets."""

    def __init__(self, previous, seed):
        self.previous, self.seed = previous, seed
        self.arrivals = Arrivals(keep_leaves=True)
        self.visits = []  # [(node, g, {input index: gradient sent})]

    def forward(self, op, inputs, attrs, out):
        if self.previous is not None:
            self.previous.forward(op, inputs, attrs, out)

    def backward(self, node, index, parent, grad):
        if not self.visits or self.visits[-1][0] is not node:
            g = self.arrivals.arrived(node)
            self.visits.append((node, self.seed if g is None else g, {}))
        self.visits[-1][2][index] = array_of(grad)
        self.arrivals.sent(parent, grad)
        if self.previous is not None:
            self.previous.backward(node, index, parent, grad)


def run_backward(root, grad=None):
    """The engine's backward from `root`, watched: (visits, {id(leaf): its total gradient})."""
    if not getattr(root, "requires_grad", False):
        return [], {}
    if grad is None and root.data.size != 1:
        raise RuntimeError(f"explore: the root is not a scalar (shape {root.shape}); pass grad= "
                           "with its shape, as backward needs")
    seed = np.ones_like(root.data) if grad is None else np.asarray(array_of(grad))
    leaves = [t for t in engine.toposort(root) if t.op is None]
    steps = _Steps(engine.watcher, seed)
    with engine.watching(steps):
        engine.grad(root, leaves, grad_outputs=grad, allow_unused=True)
    received = {key: g for key, (_, g) in steps.arrivals.leaves.items()}
    received.setdefault(id(root), seed)  # a leaf root: backward's seed is all it gets
    return steps.visits, received


# ---------------------------------------------------------------- the data the page reads
def collect(root, params=None, grad=None):
    """Everything the page shows, as JSON-ready lists (see the module docstring)."""
    order = walk(root)
    index = {id(t): i for i, t in enumerate(order)}
    names = _names(params)
    visits, leaf_grads = run_backward(root, grad)
    numbers = {id(node): n for n, (node, _, _) in enumerate(visits, start=1)}  # backward steps
    grads = {id(node): g for node, g, _ in visits}
    grads.update(leaf_grads)
    # One array is often shown several times (what a node sends is what its only input
    # receives in all): print it once. All of them stay alive here, so ids are unique.
    printed = {}

    def shown(array):
        if id(array) not in printed:
            printed[id(array)] = describe(array)
        return printed[id(array)]

    nodes = []
    for i, t in enumerate(order):
        source, modules = source_of(t)
        g = grads.get(id(t))
        nodes.append(dict(
            id=f"t{i}", label=node_label(t, names, numbers), kind=_kind(t), name=names.get(id(t))
            or t.name, op=op_text(t)[1] if t.op is not None else None,
            shape=_shape(t.shape), dtype=str(t.dtype), value=shown(t.data),
            grad=shown(g) if g is not None else None, source=source,
            parents=[index[id(p)] for p in recorded_parents(t)]))
        nodes[-1]["_modules"] = modules  # read by the grouping, dropped before the page
    forward = sorted((i for i, t in enumerate(order) if t.op is not None),
                     key=lambda i: order[i].seq)
    backward = [_step(node, g, sent, index, nodes, shown) for node, g, sent in visits]
    _mark_non_finite(nodes, backward)
    return order, nodes, forward, backward


def _step(node, g, sent, index, nodes, shown):
    """One step of the backward pass: the node, g, and per input the rule and what it gets."""
    targets = _targets(node)
    inputs = []
    for k, parent in enumerate(drawn_parents(node)):
        rule = node.op.rule(k)
        p = index[id(parent)]
        inputs.append(dict(node=p, symbol=targets[k], rule=rule,
                           filled=_fill(rule, targets, node, index, nodes),
                           sent=shown(sent[k]) if k in sent else None))
    return dict(node=index[id(node)], g=shown(g), inputs=inputs)


def _fill(rule, targets, node, index, nodes):
    """The rule with each input's symbol replaced by that input's label: "dw = x.T @ g" becomes
    "d[layers.0.weight] = [images].T @ g"; g and out stay (the panel shows them)."""
    if rule is None:
        return None
    # Variadic ops' symbols (x_0, x_1 for "dx_i = ...") are left as they are.
    labels = {symbol: nodes[index[id(parent)]]["label"]
              for symbol, parent in zip(targets, drawn_parents(node)) if "_" not in symbol}

    def fill(match):
        word = match.group(1)
        if word in labels:
            return f"[{labels[word]}]"
        if word[:1] == "d" and word[1:] in labels:  # the left side: dx
            return f"d[{labels[word[1:]]}]"
        return word

    return re.sub(r"\b(\w+)\b", fill, rule)


def _mark_non_finite(nodes, backward):
    """Where non-finite numbers first appear, as detect_anomaly tells it: a value whose inputs are
    all finite, a gradient sent by an op whose arriving gradient is finite."""
    for node in nodes:
        bad = not node["value"]["finite"]
        if bad:
            born = not any(not nodes[p]["value"]["finite"] for p in node["parents"])
            node["bad"] = "value born" if born else "value"
            node["note"] = (f"non-finite value born here ({node['value']['bad']}): every input "
                            "is finite, this result is not" if born else
                            f"non-finite value ({node['value']['bad']}) inherited from an input")
    overflow = ("non-finite gradient born here: every gradient sent to it is finite, their sum "
                "is not (it overflowed)")
    for step in backward:
        node = nodes[step["node"]]
        arriving_finite = step["g"]["finite"]
        if not arriving_finite and "bad" not in node:  # nothing sent marked it: the sum did it
            node["bad"], node["note"] = "grad born", overflow
        for k, flow in enumerate(step["inputs"]):
            sent = flow["sent"]
            if sent is None or sent["finite"]:
                continue
            target = nodes[flow["node"]]
            if arriving_finite and "bad" not in node:
                node["bad"] = "grad born"
                node["note"] = (f"non-finite gradient born here: the gradient arriving is finite, "
                                f"its backward sends {sent['bad']} to input {k} "
                                f"({flow['rule'] or 'no rule given'})")
            target.setdefault("bad", "grad")
            target.setdefault("note", f"its gradient has {sent['bad']}, from a node below")
    for node in nodes:  # leaves: their sums are not steps
        if node["grad"] is not None and not node["grad"]["finite"] and "bad" not in node:
            node["bad"], node["note"] = "grad born", overflow


# ---------------------------------------------------------------- arrays as text
def describe(array):
    """An array for the page: numpy's own printing (truncated beyond THRESHOLD elements) and a
    line of statistics; `finite` and `bad` say whether it holds NaN or inf, and how many."""
    a = np.asarray(array_of(array))
    text = np.array2string(a, threshold=THRESHOLD, edgeitems=EDGEITEMS, precision=PRECISION,
                           max_line_width=88)
    finite = bool(np.isfinite(a).all())
    out = dict(text=text, stats=_stats(a), finite=finite)
    if not finite:
        counts = [(int(np.isnan(a).sum()), "nan"), (int(np.isposinf(a).sum()), "+inf"),
                  (int(np.isneginf(a).sum()), "-inf")]
        out["bad"] = ", ".join(f"{n} {what}" for n, what in counts if n)
    return out


def _stats(a):
    if a.size == 0:
        return "empty"
    with np.errstate(all="ignore"):  # NaN and inf statistics are the honest answer
        f = a.astype(np.float64).ravel()
        # Scaled by the largest magnitude, so squares of huge finite values do not overflow.
        top = np.abs(f).max()
        scale = top if np.isfinite(top) and top > 0 else 1.0
        unit = f / scale
        mean, std, norm = scale * unit.mean(), scale * unit.std(), scale * np.linalg.norm(unit)
        return (f"mean {mean:.4g}  std {std:.4g}  min {f.min():.4g}  max {f.max():.4g}  "
                f"norm {norm:.4g}")


def _kind(t):
    if t.op is not None:
        return "intermediate"
    return "parameter" if t.requires_grad else "constant"


def _shape(shape):
    return "scalar" if shape == () else str(shape)
