"""See backpropagation happen: `autograd.explore(loss)` writes one self-contained HTML page (no
network needed to view it) that plays the backward pass node by node in the engine's order, and
the forward pass in creation order, over the graph draw_graph lays out.

    with autograd.explore.record():      # optional: remember each node's source line
        loss = loss_fn(model(X), y)
    autograd.explore(loss, model=model).save("step.html")

In Jupyter or VS Code the returned Explorer displays inline (an iframe; see `_repr_html_`).
"""

import html
import json
from pathlib import Path
from string import Template

from ..graph import MAX_WIDTH, _names
from .groups import module_groups
from .layout import svg
from .trace import collect, record

_HERE = Path(__file__).resolve().parent
IFRAME_HEIGHT = 640  # px: the page fills it, the graph and the panel scroll inside


class Explorer:
    """One explorer page: `.html` is its text, `.save(path)` writes it, and in a notebook it
    shows inline. `.nodes`, `.forward`, `.backward`, `.groups` are the data the page shows."""

    def __init__(self, page, data):
        self.html = page
        self.nodes, self.forward = data["nodes"], data["forward"]
        self.backward, self.groups = data["backward"], data["groups"]
        self.notes = data["notes"]

    def save(self, path) -> Path:
        """Write the page to `path` (conventionally .html) and return the path."""
        path = Path(path)
        path.write_text(self.html, encoding="utf-8")
        return path

    def _repr_html_(self):
        # An iframe keeps the page's script, styles and key handlers to itself. Jupyter runs it
        # in trusted output (a cell run in this session) and VS Code always; an untrusted
        # notebook strips iframes and scripts, leaving the caption: re-run the cell.
        caption = (f"npgrad explorer: {len(self.nodes)} tensors, {len(self.backward)} backward "
                   "steps (click the graph, then use the arrow keys; .save(path) writes it as a "
                   "page; nothing below? the notebook is untrusted: run the cell again)")
        return (f'<div style="font-size:12px;color:#555">{html.escape(caption)}</div>'
                f'<iframe srcdoc="{html.escape(self.html, quote=True)}" sandbox="allow-scripts" '
                f'style="width:100%;height:{IFRAME_HEIGHT}px;border:1px solid #ccc"></iframe>')

    def __repr__(self):
        return (f"<Explorer: {len(self.nodes)} tensors, {len(self.backward)} backward steps; "
                ".save(path) writes the page>")


def explore(root, path=None, model=None, params=None, grad=None,
            max_width: float | None = MAX_WIDTH, title: str | None = None) -> Explorer:
    """The interactive explorer of the graph that computed `root`, as an Explorer (saved to
    `path` too when given).

    `model`: anything with `named_modules()` (an nn.Module) names the parameters and boxes the
    nodes of each sub-module; `params` (a dict name -> Tensor) names parameters otherwise.
    `grad` seeds a root with more than one element, as in backward. The backward pass is run
    with the engine's own code and leaves every `.grad` as it was. Source lines are shown for
    nodes made inside `autograd.explore.record()`. Layout: graphviz's `dot`, as draw_graph,
    `max_width` inches wide at most (None: natural size); without `dot`, a simple layered
    layout, and the page says so.
    """
    if params is None and model is not None:
        params = model
    if model is None and hasattr(params, "named_modules"):
        model = params
    names = _names(params)
    order, nodes, forward, backward = collect(root, params, grad)
    groups = module_groups(model, nodes, order)
    picture, notice = svg(order, nodes, groups, names, max_width)
    for node in nodes:
        del node["_modules"]
    notes = []
    if not getattr(root, "requires_grad", False):
        notes.append("The root does not require grad: there is no backward pass to play.")
    bad = [n for n in nodes if n.get("bad", "").endswith("born")]
    if bad:
        notes.append("Non-finite numbers: born at " + ", ".join(n["label"] for n in bad)
                     + " (red).")
    data = dict(nodes=nodes, forward=forward, backward=backward, groups=groups, notes=notes)
    title = title or f"npgrad explorer: {nodes[-1]['label']} {nodes[-1]['shape']}"
    page = Template((_HERE / "page.html").read_text(encoding="utf-8")).substitute(
        title=html.escape(title), css=(_HERE / "page.css").read_text(encoding="utf-8"),
        js=(_HERE / "page.js").read_text(encoding="utf-8"), svg=picture,
        notice=f'<div id="notice">{html.escape(notice)}</div>' if notice else "",
        data=_json(data))
    explorer = Explorer(page, data)
    if path is not None:
        explorer.save(path)
    return explorer


def _json(data):
    """JSON safe inside a <script> element ("</script>" or "<!--" in a name would break it)."""
    return json.dumps(data, separators=(",", ":"), allow_nan=False).replace("<", "\\u003c")


explore.record = record  # `with autograd.explore.record(): ...` reads as what it does
