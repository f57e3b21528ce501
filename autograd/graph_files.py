"""Graph pictures as files: `save_graph(loss, "graph.svg")` draws with graph.draw_graph into
.svg, .png, .pdf or .gv; .html writes the interactive explorer, which is built on graph.py
(so this function lives above both)."""

from pathlib import Path

import graphviz

from .explorer import explore
from .graph import draw_graph


def save_graph(root, path, format: str | None = None, **kwargs) -> Path:
    """Draw `root`'s graph (see draw_graph) into `path`: .svg, .png, .pdf, or .gv for the source;
    .html (or format="html") writes the interactive explorer (autograd.explore, its options)."""
    path = Path(path)
    fmt = (format or path.suffix.lstrip(".")).lower()
    if fmt == "html":
        return explore(root, **kwargs).save(path)
    dot = draw_graph(root, **kwargs)
    if fmt in ("gv", "dot"):
        path.write_text(dot.source)
        return path
    try:
        path.write_bytes(dot.pipe(format=fmt))
    except graphviz.ExecutableNotFound:
        raise RuntimeError(
            f"save_graph: graphviz's `dot` program is needed to write {path.name} "
            "(apt-get install graphviz, brew install graphviz or conda install graphviz); "
            "a .gv path writes the source without it"
        ) from None
    return path

