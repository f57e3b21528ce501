"""The backward pass as a table: `explain_backward(loss)` runs the engine's own backward with a
watcher and lists, node by node in the order the engine visits them, the op, its shapes, the rule
of each input's gradient and the norms of the gradients coming in and going out.
"""

import html
from dataclasses import dataclass, field

import numpy as np

from . import engine
from .graph import _names, op_text


@dataclass(frozen=True)
class Flow:
    """What one input of a node gets: `label` names it (a parameter's name, `#3 tanh` for the
    node of row 3, `constant`), `norm` is the 2-norm of the gradient sent to it (None: it needs
    none), `rule` the op table's rule for it."""

    label: str
    shape: tuple
    rule: str | None
    norm: float | None
    tensor: object = field(repr=False, compare=False)


@dataclass(frozen=True)
class Step:
    """One node of the backward pass: `number` (1 is visited first), `op` with its settings
    (`sum axis=1`), the shape of its result, `grad_norm` (2-norm of the gradient arriving at its
    result: the g of its rules) and one Flow per input, in argument order."""

    number: int
    op: str
    shape: tuple
    grad_norm: float
    inputs: tuple
    node: object = field(repr=False, compare=False)


HEADER = ("#", "op", "shape", "|g|", "input", "shape", "rule", "|sent|")


class BackwardExplanation:
    """The outcome of `explain_backward`: `.steps` in the engine's order, `.leaves` (the
    gradient each leaf receives in all), a text table (str and repr) and an HTML one."""

    def __init__(self, steps, leaves):
        self.steps, self.leaves = list(steps), list(leaves)

    def __iter__(self):
        return iter(self.steps)

    def __len__(self):
        return len(self.steps)

    def __getitem__(self, i):
        return self.steps[i]

    def summary(self):
        return (f"explain_backward: {len(self.steps)} nodes, in the order backward visits them\n"
                "g: the gradient arriving at a node's result; each input gets its rule of g; "
                "|.|: 2-norm")

    def cells(self):
        """The table as rows of strings, header first: one row per input of each node, the
        node's own cells on its first row only."""
        rows = [HEADER]
        for step in self.steps:
            for k, flow in enumerate(step.inputs):
                own = (str(step.number), step.op, _shape(step.shape), _norm(step.grad_norm))
                rows.append((own if k == 0 else ("",) * 4) + _flow_cells(flow))
        return rows

    def leaf_lines(self):
        return [f"{flow.label} {_shape(flow.shape)}: |grad| {_norm(flow.norm)}"
                for flow in self.leaves]

    def __str__(self):
        table = self.cells()
        widths = [max(len(row[c]) for row in table) for c in range(len(HEADER))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
                 for row in table]
        leaves = self.leaf_lines()
        tail = ["gradients reaching the leaves (what backward() adds to their .grad):",
                *("  " + line for line in leaves)] if leaves else []
        return "\n".join([self.summary(), *lines, *tail])

    __repr__ = __str__  # shown whole at a prompt, as a table should be

    def _repr_html_(self):
        head = "".join(f"<th>{html.escape(c)}</th>" for c in HEADER)
        body = []
        for step in self.steps:
            span = len(step.inputs)
            for k, flow in enumerate(step.inputs):
                cells = ""
                if k == 0:
                    own = (str(step.number), step.op, _shape(step.shape), _norm(step.grad_norm))
                    cells = "".join(f'<td rowspan="{span}">{html.escape(c)}</td>' for c in own)
                cells += "".join(f"<td>{html.escape(c)}</td>" for c in _flow_cells(flow))
                body.append(f"<tr>{cells}</tr>")
        leaves = "".join(f"<li>{html.escape(line)}</li>" for line in self.leaf_lines())
        return (f"<p>{html.escape(self.summary()).replace(chr(10), '<br>')}</p>"
                f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
                + (f"<p>gradients reaching the leaves (what backward() adds to their .grad):</p>"
                   f"<ul>{leaves}</ul>" if leaves else ""))


class Arrivals:
    """The gradient arriving at each node, summed from what its consumers send, as backward
    sums it; a watcher feeds it `sent(parent, grad)` and asks `arrived(node)` when backward
    reaches the node (every consumer has sent by then). Leaves' sums are kept only when asked:
    nothing else consumes them."""

    def __init__(self, keep_leaves=False):
        self.sums, self.keep_leaves, self.leaves = {}, keep_leaves, {}

    def sent(self, parent, grad):
        if parent.op is None and not self.keep_leaves:
            return
        grad = array_of(grad)
        sums = self.leaves if parent.op is None else self.sums
        entry = sums.get(id(parent))
        if entry is not None and entry[0] is parent:
            sums[id(parent)] = (parent, entry[1] + grad)
        else:
            sums[id(parent)] = (parent, grad)

    def arrived(self, node):
        """The gradient summed at `node`, forgotten here; None for a root (backward's seed)."""
        entry = self.sums.pop(id(node), None)
        return entry[1] if entry is not None and entry[0] is node else None


class _Explainer(engine.Watcher):
    def __init__(self, previous, seed):
        self.previous, self.seed = previous, seed
        self.arrivals = Arrivals(keep_leaves=True)
        self.visits = []  # [(node, |g|, {input index: |sent|})] in the engine's order

    def forward(self, op, inputs, attrs, out):
        if self.previous is not None:
            self.previous.forward(op, inputs, attrs, out)

    def backward(self, node, index, parent, grad):
        if not self.visits or self.visits[-1][0] is not node:
            g = self.arrivals.arrived(node)
            self.visits.append((node, _norm_of(self.seed if g is None else g), {}))
        self.visits[-1][2][index] = _norm_of(grad)
        self.arrivals.sent(parent, grad)
        if self.previous is not None:
            self.previous.backward(node, index, parent, grad)


def explain_backward(root, grad=None, params=None, accumulate: bool = False):
    """The backward pass from `root` as a table, one row per node in the order the engine visits
    them: op, result shape, |g| (the gradient arriving at the result), and for each input its
    name, shape, gradient rule and the norm of the gradient sent to it.

    It runs the engine's own backward pass with a watcher, so the order and the numbers are
    backward's. By default nothing is left behind: no `.grad` changes (not even retained
    intermediates'), as with `autograd.grad`. `accumulate=True` runs `root.backward(grad)`
    itself: leaves' `.grad` accumulate as they would. `grad` seeds a root with more than one
    element; `params` (a dict name -> Tensor, or a Module) names the parameters, as in
    draw_graph. Leaves are not rows (they have no rule); `.leaves` lists the gradient each
    receives in all. Printed, it is a text table; in Jupyter, an HTML table.
    """
    if not getattr(root, "requires_grad", False):
        raise RuntimeError("explain_backward: this tensor does not require grad, so there is no "
                           "backward pass to explain (create leaves with requires_grad=True)")
    if grad is None and root.data.size != 1:
        raise RuntimeError(f"explain_backward: the root is not a scalar (shape {root.shape}); "
                           "pass grad= with its shape, as backward needs")
    leaves = sorted((t for t in engine.toposort(root) if t.op is None), key=lambda t: t.seq)
    seed = np.ones_like(root.data) if grad is None else array_of(grad)
    explainer = _Explainer(engine.watcher, seed)
    with engine.watching(explainer):
        if accumulate:
            engine.backward(root, grad)
        else:
            engine.grad(root, leaves, grad_outputs=grad, allow_unused=True)

    names = _names(params)
    numbers = {id(node): n for n, (node, _, _) in enumerate(explainer.visits, start=1)}

    def label(t):
        return node_label(t, names, numbers)

    steps = []
    for n, (node, g_norm, sent) in enumerate(explainer.visits, start=1):
        flows = tuple(Flow(label(p), p.shape, node.op.rule(i), sent.get(i), p)
                      for i, p in enumerate(node.parents))
        steps.append(Step(n, op_text(node)[0], node.shape, g_norm, flows, node))
    received = explainer.arrivals.leaves
    leaf_flows = [Flow(label(t), t.shape, None, _norm_of(received[id(t)][1]), t)
                  for t in leaves if id(t) in received]
    return BackwardExplanation(steps, leaf_flows)


def _flow_cells(flow):
    if flow.norm is None:  # backward skips the VJP of an input that needs no gradient
        return flow.label, _shape(flow.shape), "", "not needed"
    return flow.label, _shape(flow.shape), flow.rule or "(no rule given)", _norm(flow.norm)


def array_of(grad):
    """A gradient as an ndarray: backward hands out Tensors with create_graph=True."""
    return grad if isinstance(grad, np.ndarray) else np.asarray(getattr(grad, "data", grad))


def _norm_of(array):
    with np.errstate(over="ignore", invalid="ignore"):  # an inf or nan norm is the answer
        return float(np.linalg.norm(array_of(array).astype(np.float64).ravel()))


def _norm(value):
    return f"{value:.4g}"


def _shape(shape):
    return "scalar" if shape == () else str(shape)


def node_label(t, names, numbers):
    """A node's short name: its parameter name, `#3 tanh` (`numbers`: id -> its backward step,
    from 1), or its kind (explain_backward's table and the explorer's nodes)."""
    name = names.get(id(t)) or t.name
    if t.op is not None:
        ref = f"#{numbers[id(t)]} {t.op.name}" if id(t) in numbers else t.op.name
        return f"{name} ({ref})" if name else ref
    if name:
        return name
    if t.requires_grad:
        return "parameter"
    return f"constant {t.data.item():.4g}" if t.data.size == 1 else "constant"
