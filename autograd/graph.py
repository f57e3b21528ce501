"""Draw the computation graph behind a tensor with graphviz: one node per tensor and per op.

`draw_graph(loss, params=dict(model.named_parameters()))` is a graphviz.Digraph: inline in
Jupyter (top to bottom, at most 10 inches wide); `.render("graph", format="svg")` or
`save_graph(loss, "graph.svg")` (graph_files.py) elsewhere. `show_rules=True` writes each op's
local derivative beside it (the chain rule, node by node). The first NaN or inf value (or
gradient) is painted red: where to look when a network blows up.
"""

import re
import weakref

import graphviz
import numpy as np

from . import engine
from .shared_constants import SharedNumber

SMALL = 8  # tensors with at most this many elements show every value; larger ones a summary
MAX_WIDTH = 10.0  # inches: 960 px, what a notebook's output area shows without cropping
UNLIMITED_HEIGHT = 1000  # inches: graphviz's `size` needs a height; tall graphs scroll anyway

PARAMETER = dict(shape="box", style="filled", fillcolor="#cfe3ff")
CONSTANT = dict(shape="box", style="filled,dashed", fillcolor="#eeeeee")
INTERMEDIATE = dict(shape="box", style="filled,rounded", fillcolor="#ffffff")
OPERATION = dict(shape="ellipse", style="filled", fillcolor="#fff2b3")
ROOT = dict(fillcolor="#d9f2d9", peripheries="2")
FIRST_BAD_VALUE = dict(fillcolor="#ff8c8c", color="#cc0000", penwidth="3")
FIRST_BAD_GRAD = dict(fillcolor="#ffd0d0", color="#cc0000", penwidth="3")
LATER_BAD = dict(fontcolor="#cc0000")  # non-finite, but inherited from an input

LEGEND = ("blue box: parameter    dashed grey box: constant    rounded white box: intermediate\\n"
          "yellow ellipse: operation    double green border: root")
LEGEND_BAD = "    red: first non-finite value or gradient (look here first)"
LEGEND_RULES = ("\\nbeside each op, its rule: g is the gradient arriving at its result (out); "
                "dx is what it sends back to input x")
_RULE_TARGET = re.compile(r"^d(\w+) =")  # "dw = x.T @ g" sends to input "w"


def walk(root):
    """Every tensor reachable from `root`, constants included, parents before children.

    Iterative depth-first search over all parents (unlike engine.toposort, which follows only
    tensors that require grad), so graphs of any depth work; nodes are keyed on id().
    """
    order, seen = [], {id(root)}
    stack = [(root, iter(recorded_parents(root)))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append((parent, iter(recorded_parents(parent))))
                break
        else:
            stack.pop()
            order.append(node)
    return order


def recorded_parents(node):
    """node's parents as it used them: a parent changed by a recorded in-place op since (newer
    than node) stands for its snapshot, as the engine's walk sees it (engine.as_recorded).
    A shared number constant stands for this use of it alone (`drawn_parents`)."""
    return drawn_parents(node, [engine.as_recorded(p, node.seq) if p.seq > node.seq else p
                                for p in node.parents])


def drawn_parents(node, parents=None):
    """node's parents (or `parents`, node's as recorded) with each shared number constant
    (y * 2.0 shares one Tensor for 2.0 with every use of the number) replaced by a private
    constant for this use: the drawings show one node per use, as when each use had its own.
    The same use gets the same stand-in while it lives, so walks and lookups by id() agree."""
    parents = list(node.parents if parents is None else parents)
    for i, p in enumerate(parents):
        if type(p) is SharedNumber:
            key = (id(node), i)
            own = _STAND_INS.get(key)
            if own is None or own.data is not p.data:  # (a node of an old id: a new stand-in)
                own = _STAND_INS[key] = p.stand_in()
            parents[i] = own
    return parents


_STAND_INS = weakref.WeakValueDictionary()  # (id(node), position) -> its drawn stand-in


def draw_graph(root, params=None, show_values: bool = False, show_rules: bool = False,
               rankdir: str = "TB", max_nodes: int = 500, max_width: float | None = MAX_WIDTH,
               highlight=None) -> graphviz.Digraph:
    """The graph that computed `root`, as a graphviz.Digraph (nodes numbered in topological order).

    `params`: a dict name -> Tensor (or a Module) naming the parameters; other tensors show
    their own `t.name`. `show_values` adds each tensor's value and gradient (a summary for large
    ones); constants of one element always show their value. `show_rules` writes under each op
    the rule of its gradient for each input, from the op table (`tanh: dx = g * (1 - out^2)`),
    and names the input each edge feeds when an op has several (x, y; x, w, b for linear).
    `highlight`: a dict {tensor: note} of nodes to paint red with their note (detect_anomaly's
    graphs use it). Beyond `max_nodes` drawn nodes, only
    the part nearest the root is drawn, with a note saying how much was left out.
    Intermediates have gradients only after `backward(retain_grads=True)`; without them the
    first non-finite gradient can only be found among the leaves.
    Layout: top to bottom ("LR" for left to right); a drawing wider than `max_width` inches
    (96 px each in a browser) is packed tighter, then scaled down if it still does not fit, so
    notebooks and their HTML exports show it whole. `max_width=None` keeps the natural size.
    """
    if max_nodes < 1:
        raise ValueError(f"draw_graph: max_nodes must be at least 1, got {max_nodes}")
    if max_width is not None and not max_width > 0:
        raise ValueError(f"draw_graph: max_width must be a positive number of inches or None, "
                         f"got {max_width}")
    order = walk(root)
    index = {id(t): i for i, t in enumerate(order)}
    parents = [[index[id(p)] for p in recorded_parents(t)] for t in order]
    names = _names(params)

    # A value is "first" bad when its inputs are finite; a gradient when its consumers' are.
    bad_value = [not _finite(t.data) for t in order]
    bad_grad = [t.grad is not None and not _finite(t.grad) for t in order]
    consumers = [[] for _ in order]
    for i, ps in enumerate(parents):
        for p in ps:
            consumers[p].append(i)
    first_value = [bad and not any(bad_value[p] for p in ps)
                   for bad, ps in zip(bad_value, parents)]
    first_grad = [bad and not any(bad_grad[c] for c in cs) for bad, cs in zip(bad_grad, consumers)]
    notes = _highlights(highlight, index)

    kept = _nearest_root(order, parents, max_nodes)
    dot = graphviz.Digraph("autograd", node_attr=dict(fontname="Helvetica", fontsize="10"),
                           edge_attr=dict(arrowsize="0.6", fontname="Helvetica", fontsize="9",
                                          fontcolor="#555555"))
    any_bad = any(first_value) or any(first_grad) or bool(notes)
    dot.attr(rankdir=rankdir, fontname="Helvetica", fontsize="9", labelloc="b",
             label=LEGEND + (LEGEND_BAD if any_bad else "") + (LEGEND_RULES if show_rules else ""))
    if max_width is not None:
        # ratio=compress packs a too-wide layout into `size` before resorting to scaling it.
        dot.attr(size=f"{max_width:g},{UNLIMITED_HEIGHT}", ratio="compress")
    for i, t in enumerate(order):
        if not kept[i]:
            continue
        noted = i in notes  # a highlight's note replaces the automatic "first" marks
        flags = (i == len(order) - 1, bad_value[i], bad_grad[i], first_value[i] and not noted,
                 first_grad[i] and not noted)
        label, tooltip, attrs = _tensor_node(t, names.get(id(t)), show_values, *flags)
        if noted:
            label += "\\n!! " + _escape(notes[i])
            tooltip += "\\n" + _escape(notes[i])
            attrs.pop("fontcolor", None)
            attrs.update(FIRST_BAD_VALUE)
        dot.node(f"t{i}", graphviz.nohtml(label), tooltip=graphviz.nohtml(tooltip), **attrs)
        if t.op is not None:
            label, tooltip = _op_label(t)
            if show_rules:
                rules = "\\n".join(_escape(r) for r in _rules(t))
                label, tooltip = f"{label}\\n{rules}", f"{tooltip}\\n{rules}"
            style = {**OPERATION, **(FIRST_BAD_VALUE if i in notes else {})}
            dot.node(f"o{i}", graphviz.nohtml(label), tooltip=graphviz.nohtml(tooltip), **style)
            targets = _targets(t) if show_rules and len(parents[i]) > 1 else ()
            for k, p in enumerate(parents[i]):
                if kept[p]:
                    dot.edge(f"t{p}", f"o{i}", **(dict(label=targets[k]) if targets else {}))
            dot.edge(f"o{i}", f"t{i}")

    left_out = sum(_cost(t) for t, k in zip(order, kept) if not k)
    if left_out:
        note = (f"{left_out} more nodes not drawn\\n(max_nodes={max_nodes}, "
                f"{left_out + sum(_cost(t) for t, k in zip(order, kept) if k)} in all)")
        if any(f and not k for f, k in zip(first_value, kept)):
            note += "\\nthe first non-finite value is among them"
        if any(not kept[i] for i in notes):
            note += "\\na highlighted node is among them (raise max_nodes)"
        dot.node("more", note, shape="note", style="filled", fillcolor="#f4f4f4", color="#888888")
        for i, ps in enumerate(parents):
            if kept[i] and any(not kept[p] for p in ps):
                dot.edge("more", f"o{i}", style="dashed", color="#888888")
    return dot


def _names(params):
    if params is None:
        return {}
    items = params.named_parameters() if hasattr(params, "named_parameters") else params.items()
    return {id(t): name for name, t in items}


def _highlights(highlight, index):
    """{position in the drawing order: note} for the tensors `highlight` names."""
    notes = {}
    for t, note in (highlight or {}).items():
        if id(t) not in index:
            raise ValueError(f"draw_graph: a highlighted tensor (shape {t.shape}) is not in the "
                             "graph of the root")
        notes[index[id(t)]] = str(note)
    return notes


def _rules(t):
    """The rule of each input's gradient, "tanh"'s "dx = g * (1 - out^2)"; one for variadic ops."""
    count = len(t.op.rules) if t.op.rules else 0
    rules = [t.op.rule(i) for i in range(min(len(t.parents), count))]
    return [r if r is not None else f"input {i}: no rule given" for i, r in enumerate(rules)]


def _targets(t):
    """Each input's name in the rules: x, y (w, b) from "dx = ...", "dw = ..."; x_0, x_1, ...
    for variadic ops ("dx_i = ...")."""
    names = []
    for i in range(len(t.parents)):
        rule = t.op.rule(i)
        match = _RULE_TARGET.match(rule) if rule else None
        name = match.group(1) if match else f"input {i}"
        names.append(f"{name[:-2]}_{i}" if name.endswith("_i") else name)
    return names


def _finite(array):
    return bool(np.isfinite(array).all())


def _cost(t):
    """Drawn nodes for a tensor: itself, plus its operation if it has one."""
    return 1 if t.op is None else 2


def _nearest_root(order, parents, max_nodes):
    """Which tensors to draw: all if they fit, else the ones fewest steps from the root."""
    if sum(_cost(t) for t in order) <= max_nodes:
        return [True] * len(order)
    # Children come after parents in `order`, so one backward pass settles every depth.
    depth = [len(order)] * len(order)
    depth[-1] = 0
    for i in reversed(range(len(order))):
        for p in parents[i]:
            depth[p] = min(depth[p], depth[i] + 1)
    kept, budget = [False] * len(order), max_nodes - 1  # one node for the note
    for i in sorted(range(len(order)), key=lambda i: (depth[i], -i)):
        if _cost(order[i]) > budget and i != len(order) - 1:
            break  # stopping at the first misfit keeps the drawn part connected
        kept[i] = True
        budget -= _cost(order[i])
    return kept


def _tensor_node(t, name, show_values, is_root, bad_value, bad_grad, first_value, first_grad):
    """Label, tooltip and graphviz attributes of one tensor's node."""
    if t.op is not None:
        kind, attrs = "intermediate", dict(INTERMEDIATE)
    elif t.requires_grad:
        kind, attrs = "parameter", dict(PARAMETER)
    else:
        kind, attrs = "constant", dict(CONSTANT)
    name = name or t.name
    title = name or (kind if t.op is None else "")
    if is_root:
        title, attrs = f"{title} (root)" if title else "root", {**attrs, **ROOT}
    shape = "scalar" if t.ndim == 0 else str(t.shape)
    lines = [_escape(title)] if title else []
    lines.append(f"{shape} {t.dtype}")
    if show_values or (kind == "constant" and t.data.size == 1):  # the 0.5 in 0.5 * x
        lines.append("value " + _describe(t.data))
        if t.grad is not None:
            lines.append("grad " + _describe(t.grad))
    if bad_value:
        lines.append("value has " + _count_bad(t.data))
    if bad_grad:
        lines.append("grad has " + _count_bad(t.grad))

    tooltip = f"{kind}{' ' + _escape(name) if name else ''}: {shape} {t.dtype}"
    if first_value:
        lines.append("!! first non-finite value here")
        tooltip += "\\nfirst non-finite value here: every input is finite, this value is not"
        attrs.update(FIRST_BAD_VALUE)
    if first_grad:
        lines.append("!! first non-finite gradient here")
        tooltip += ("\\nfirst non-finite gradient here: the gradients flowing in from its"
                    " consumers are finite, its own is not")
        attrs.update(FIRST_BAD_VALUE if first_value else FIRST_BAD_GRAD)
    if (bad_value or bad_grad) and not (first_value or first_grad):
        attrs.update(LATER_BAD)
    return "\\n".join(lines), tooltip, attrs


def _describe(array):
    """Every value of a small array; mean, min, max and norm of a large one."""
    with np.errstate(all="ignore"):
        if array.size <= SMALL:
            return _values(array)
        a = array.astype(np.float64)
        # Two short lines, not one long one: a wide label widens the whole drawing.
        return (f"mean {a.mean():.4g} norm {np.linalg.norm(a.ravel()):.4g}\\n"
                f"min {a.min():.4g} max {a.max():.4g}")


def _values(array):
    """A small array's values, one row per line (np.array2string costs 100 us a call)."""
    if array.ndim == 0:
        return f"{array.item():.4g}"
    if array.size == 0:
        return "[]"
    rows = ["[" + ", ".join(f"{v:.4g}" for v in row) + "]"
            for row in array.reshape(-1, array.shape[-1]).tolist()]
    if array.ndim == 1:
        return rows[0]
    per_line = max(1, 4 // array.shape[-1])  # narrow rows share a line: (4, 1) fits on one
    lines = [", ".join(rows[i:i + per_line]) for i in range(0, len(rows), per_line)]
    return "[" + ",\\n ".join(lines) + "]"


def _count_bad(array):
    counts = [(int(np.isnan(array).sum()), "nan"), (int(np.isposinf(array).sum()), "+inf"),
              (int(np.isneginf(array).sum()), "-inf")]
    return ", ".join(f"{n} {what}" for n, what in counts if n)


def _op_label(t):
    """The op's name and its non-default attributes, short and in full, escaped for DOT."""
    return tuple(_escape(text) for text in op_text(t))


def op_text(t):
    """The op's name and its non-default attributes, short and in full: ("sum axis=1", ...)."""
    short, full = [t.op.name], [t.op.name]
    for key, value in (t.attrs or {}).items():
        if value is None or (key == "keepdims" and value is False) or key in t.op.saves:
            continue
        text = str(value) if isinstance(value, np.dtype) else repr(value)
        full.append(f"{key}={text}")
        if isinstance(value, float):
            text = f"{value:.4g}"
        short.append(f"{key}={text if len(text) <= 24 else text[:21] + '...'}")
    return " ".join(short), " ".join(full)


def _escape(text):
    # Backslashes in user names would otherwise start DOT escapes such as \n.
    return str(text).replace("\\", "\\\\")
