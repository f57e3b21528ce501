"""The explorer's picture: the graph as an SVG whose elements the page finds by id (`t3` is tensor
3, `o3` the op that made it, `e3_0` the edge from its input 0, `g1` a module's box).

With graphviz's `dot` it is draw_graph's drawing (same nodes, labels and styles, top to bottom,
width-limited) with a box per module. Without `dot` a plain layered layout is computed here:
nodes in rows by depth, straight edges; the page says so and names the install command.
"""

import html

import graphviz

from ..graph import (
    CONSTANT,
    INTERMEDIATE,
    LEGEND,
    MAX_WIDTH,
    OPERATION,
    PARAMETER,
    ROOT,
    UNLIMITED_HEIGHT,
    _op_label,
    _tensor_node,
)

NO_DOT = ("graphviz's `dot` program was not found, so this is a simple layered layout "
          "(apt-get install graphviz, brew install graphviz or conda install graphviz for the "
          "real one)")
CLUSTER = dict(style="rounded,dashed", color="#7a7a7a", fontcolor="#444444", fontsize="10",
               labeljust="l")


def svg(order, nodes, groups, names, max_width=MAX_WIDTH):
    """(SVG text, None) laid out by `dot`; or (SVG text, NO_DOT) from the fallback layout."""
    dot = _digraph(order, nodes, groups, names, max_width)
    try:
        text = dot.pipe(format="svg", encoding="utf-8")
    except graphviz.ExecutableNotFound:
        return _layered(order, nodes, groups), NO_DOT
    return text[text.index("<svg"):], None  # without the XML prologue and DOCTYPE


def _digraph(order, nodes, groups, names, max_width):
    dot = graphviz.Digraph("autograd", node_attr=dict(fontname="Helvetica", fontsize="10"),
                           edge_attr=dict(arrowsize="0.6"))
    dot.attr(rankdir="TB", fontname="Helvetica", fontsize="9", labelloc="b", label=LEGEND)
    if max_width is not None:
        dot.attr(size=f"{max_width:g},{UNLIMITED_HEIGHT}", ratio="compress")
    boxes = [graphviz.Digraph(f"cluster_{k}") for k in range(len(groups))]
    for box, group in zip(boxes, groups):
        box.attr(label=group["label"], id=group["id"], **CLUSTER)
    for i, (t, node) in enumerate(zip(order, nodes)):
        bad = not node["value"]["finite"]
        flags = (i == len(order) - 1, bad, False, node.get("bad") == "value born", False)
        label, tooltip, attrs = _tensor_node(t, names.get(id(t)), False, *flags)
        where = boxes[node["group"]] if "group" in node else dot
        where.node(f"t{i}", graphviz.nohtml(label), tooltip=graphviz.nohtml(tooltip),
                   id=f"t{i}", **attrs)
        if t.op is not None:
            label, tooltip = _op_label(t)
            where.node(f"o{i}", graphviz.nohtml(label), tooltip=graphviz.nohtml(tooltip),
                       id=f"o{i}", **OPERATION)
            for k, p in enumerate(node["parents"]):
                dot.edge(f"t{p}", f"o{i}", id=f"e{i}_{k}")
            dot.edge(f"o{i}", f"t{i}", id=f"r{i}")
    # subgraph() copies a box's statements: nest the innermost boxes first (they come last).
    for k in reversed(range(len(groups))):
        parent = groups[k]["parent"]
        (dot if parent is None else boxes[parent]).subgraph(boxes[k])
    return dot


# ---------------------------------------------------------------- without dot
ROW = 64  # px between rows
GAP = 18  # px between neighbours in a row
CHAR = 6.2  # px per character of a 10px Helvetica label, roughly


def _layered(order, nodes, groups):
    """A top-to-bottom SVG without graphviz: each node in the row of its depth below the root,
    ordered by its neighbours' mean position (one barycentre sweep), straight edges."""
    items = {}  # name -> [lines, kind, row]
    children = {}
    for i, (t, node) in enumerate(zip(order, nodes)):
        lines = [node["name"] or (node["kind"] if t.op is None else ""), node["shape"]]
        items[f"t{i}"] = [[x for x in lines if x], "tensor", 0]
        if t.op is not None:
            items[f"o{i}"] = [[node["op"].split(" ")[0]], "op", 0]
            children.setdefault(f"o{i}", []).append(f"t{i}")
            for p in node["parents"]:
                children.setdefault(f"t{p}", []).append(f"o{i}")
    # Rows from the bottom: the root is the last row; a node sits one row above its highest
    # consumer. `order` lists parents first, so walking it backwards settles every row.
    depth = {}
    for i in reversed(range(len(order))):
        for name in (f"t{i}", f"o{i}"):
            if name in items:
                depth[name] = 1 + max((depth[c] for c in children.get(name, ())), default=-1)
    rows = {}
    for name in items:
        rows.setdefault(depth[name], []).append(name)
    top = max(rows)
    x, width = {}, {}
    for d in sorted(rows, reverse=True):  # leaves first: a row follows the row above it
        row = rows[d]
        above = {n: [x[p] for p in _parents_of(n, nodes) if p in x] for n in row}
        row.sort(key=lambda n: sum(above[n]) / len(above[n]) if above[n] else 0.0)
        pos = GAP
        for name in row:
            width[name] = max(40.0, CHAR * max(len(s) for s in items[name][0]) + 16)
            x[name] = pos + width[name] / 2
            pos += width[name] + GAP
    total = max(x[n] + width[n] / 2 for n in x) + GAP
    y = {n: 30 + (top - depth[n]) * ROW for n in items}
    height = 30 + (top + 1) * ROW + 30

    parts = []
    for k, group in enumerate(groups):
        inner = _members(k, groups, nodes, order)
        if inner:
            x0 = min(x[n] - width[n] / 2 for n in inner) - 8
            x1 = max(x[n] + width[n] / 2 for n in inner) + 8
            y0, y1 = min(y[n] for n in inner) - 34, max(y[n] for n in inner) + 22
            parts.append(f'<g id="{group["id"]}" class="cluster"><title>cluster_{k}</title>'
                         f'<polygon fill="none" stroke="#7a7a7a" stroke-dasharray="5,2" '
                         f'points="{x0},{y0} {x1},{y0} {x1},{y1} {x0},{y1}"/>'
                         f'<text x="{x0 + 4}" y="{y0 + 12}" font-size="10">'
                         f'{html.escape(group["label"])}</text></g>')
    for i, node in enumerate(nodes):
        if f"o{i}" in items:
            for k, p in enumerate(node["parents"]):
                parts.append(_line(f"e{i}_{k}", f"t{p}", f"o{i}", x, y))
            parts.append(_line(f"r{i}", f"o{i}", f"t{i}", x, y))
    for name, (lines, kind, _) in items.items():
        parts.append(_box(name, lines, kind, x[name], y[name], width[name], nodes))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{total:.0f}pt" '
            f'height="{height:.0f}pt" viewBox="0 0 {total:.0f} {height:.0f}">'
            f'<g id="graph0" class="graph" font-family="Helvetica">{"".join(parts)}</g></svg>')


def _parents_of(name, nodes):
    i = int(name[1:])
    if name[0] == "o":
        return [f"t{p}" for p in nodes[i]["parents"]]
    return [f"o{i}"] if nodes[i]["op"] is not None else []


def _members(k, groups, nodes, order):
    """Drawn names inside box k and the boxes nested in it."""
    inside = {k}
    for child, group in enumerate(groups):  # parents are listed before their children
        if group["parent"] in inside:
            inside.add(child)
    names = []
    for i, node in enumerate(nodes):
        if node.get("group") in inside:
            names.append(f"t{i}")
            if order[i].op is not None:
                names.append(f"o{i}")
    return names


def _line(name, a, b, x, y):
    return (f'<g id="{name}" class="edge"><title>{a}-&gt;{b}</title>'
            f'<path fill="none" stroke="black" d="M{x[a]:.1f},{y[a] + 12:.1f} '
            f'L{x[b]:.1f},{y[b] - 12:.1f}"/></g>')


def _box(name, lines, kind, cx, cy, w, nodes):
    i = int(name[1:])
    if kind == "op":
        style = OPERATION
        shape = f'<ellipse cx="{cx:.1f}" cy="{cy:.1f}" rx="{w / 2:.1f}" ry="13"'
    else:
        style = {"parameter": PARAMETER, "constant": CONSTANT}.get(nodes[i]["kind"], INTERMEDIATE)
        if i == len(nodes) - 1:
            style = {**style, **ROOT}
        h = 14 * len(lines) + 6
        shape = (f'<rect x="{cx - w / 2:.1f}" y="{cy - h / 2:.1f}" width="{w:.1f}" '
                 f'height="{h}" rx="4"')
    first = cy + 4 - 7 * (len(lines) - 1)  # the lines centred on cy, 14 px apart
    text = "".join(f'<text text-anchor="middle" x="{cx:.1f}" y="{first + 14 * k:.1f}" '
                   f'font-size="10">{html.escape(s)}</text>' for k, s in enumerate(lines))
    return (f'<g id="{name}" class="node"><title>{name}</title>{shape} '
            f'fill="{style["fillcolor"]}" stroke="black"/>{text}</g>')
