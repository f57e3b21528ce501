"""Read a drawn graph back as nodes and edges, from its DOT source or from a rendered SVG.

Both readers return the same thing, ({node id: texts, fills, dashed, outlines, text_colours},
[(tail, head), ...]), so structure tests read the source (no graphviz binary needed) and one
rendering test checks that `dot` draws what the source says.
"""

import re
import xml.etree.ElementTree as ET

SVG = "{http://www.w3.org/2000/svg}"
_STATEMENT = re.compile(r"^\t(\w+)(?: -> (\w+))?(?: \[(.*)\])?$", re.M)
_ATTRIBUTE = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^\s"\]]+)')
_ESCAPE = re.compile(r"\\(.)")
_KEYWORDS = {"graph", "node", "edge"}


def source_graph(source):
    """Nodes and edges of DOT `source` as graphviz.Digraph writes it (one statement a line)."""
    nodes, edges = {}, []
    for name, head, attributes in _STATEMENT.findall(source):
        if head:
            edges.append((name, head))
        elif name not in _KEYWORDS and attributes:
            attrs = {key: _unquote(value) for key, value in _ATTRIBUTE.findall(attributes)}
            nodes[name] = dict(
                texts=attrs.get("label", name).split("\n"),
                fills={attrs["fillcolor"]} if "fillcolor" in attrs else set(),
                dashed="dashed" in attrs.get("style", ""),
                outlines=int(attrs.get("peripheries", 1)),
                text_colours={attrs.get("fontcolor")},
            )
    return nodes, edges


def source_texts(source):
    """Every line of every node's label, in order, as `svg_texts` reads them from a picture."""
    return [text for node in source_graph(source)[0].values() for text in node["texts"]]


def svg_graph(svg):
    """The same from a rendered SVG (bytes): its <g class="node"> and <g class="edge"> groups."""
    root = ET.fromstring(svg)
    nodes, edges = {}, []
    for g in root.iter(f"{SVG}g"):
        title = g.findtext(f"{SVG}title")
        if g.get("class") == "node":
            outline = (f"{SVG}polygon", f"{SVG}path", f"{SVG}ellipse")
            shapes = [e for e in g.iter() if e.tag in outline]
            nodes[title] = dict(
                texts=[t.text for t in g.iter(f"{SVG}text")],
                fills={s.get("fill") for s in shapes} - {"none"},
                dashed=any(s.get("stroke-dasharray") for s in shapes),
                outlines=len(shapes),
                text_colours={t.get("fill") for t in g.iter(f"{SVG}text")},
            )
        elif g.get("class") == "edge":
            edges.append(tuple(title.split("->")))
    return nodes, edges


def svg_texts(svg):
    """Every <text> of a rendered SVG (bytes), in order."""
    return [t.text for t in ET.fromstring(svg).iter(f"{SVG}text")]


def graph_texts(path):
    """Label lines of a graph file an example wrote: an .svg picture or, without `dot`, a .gv."""
    if path.suffix == ".gv":
        return source_texts(path.read_text())
    return svg_texts(path.read_bytes())


def _unquote(value):
    """A DOT attribute value as text: quotes dropped, \\n (and \\l, \\r) as line breaks."""
    if not value.startswith('"'):
        return value
    lines = {"n": "\n", "l": "\n", "r": "\n"}
    return _ESCAPE.sub(lambda m: lines.get(m.group(1), m.group(1)), value[1:-1])
