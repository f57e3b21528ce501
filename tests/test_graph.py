"""Tests for autograd/graph.py: drawn structure, labels, colours, non-finite marks, big graphs,
every op's gradient rules (show_rules) and highlighted nodes.

Structure is read from the DOT source, which needs no graphviz binary; the tests marked
`needs_dot` render it and check that the picture shows what the source says, and how big it is.
"""

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from dot_source import SVG, source_graph, svg_graph

from autograd import Tensor, draw_graph, ops, save_graph
from autograd.graph import FIRST_BAD_GRAD, FIRST_BAD_VALUE, op_text, recorded_parents, walk
from autograd.tensor import apply


def graph_of(dot):
    """What `dot` would draw, read from the source: ({node id: texts, fills, ...}, edges)."""
    return source_graph(dot.source)


def small_graph():
    """loss = sum(tanh(x @ w + b) ** 2), with x a constant and w, b parameters."""
    x = Tensor([[1.0, 2.0]])
    w = Tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    b = Tensor([0.1, -0.1], requires_grad=True, name="b")
    loss = ((x @ w + b).tanh() ** 2).sum()
    return loss, x, w, b


def source_edges(source):
    return set(re.findall(r"^\t(\w+) -> (\w+)", source, flags=re.M))


def test_structure_follows_data_flow_in_topological_numbering():
    loss, *_ = small_graph()
    dot = draw_graph(loss)
    # Tensors t0..t8 in topological order (x, w, x@w, b, +b, tanh, 2, **2, sum); o<i> made t<i>.
    assert source_edges(dot.source) == {
        ("t0", "o2"), ("t1", "o2"), ("o2", "t2"), ("t2", "o4"), ("t3", "o4"), ("o4", "t4"),
        ("t4", "o5"), ("o5", "t5"), ("t5", "o7"), ("t6", "o7"), ("o7", "t7"),
        ("t7", "o8"), ("o8", "t8"),
    }
    nodes, edges = graph_of(dot)
    assert len(nodes) == 9 + 5 and len(edges) == 13
    ops = {name: nodes[name]["texts"] for name in nodes if name.startswith("o")}
    assert ops == {"o2": ["matmul"], "o4": ["add"], "o5": ["tanh"], "o7": ["power"], "o8": ["sum"]}


def test_source_is_deterministic_across_builds():
    first, second = small_graph()[0], small_graph()[0]
    assert draw_graph(first, show_values=True).source == draw_graph(second, show_values=True).source
    assert draw_graph(first).source == draw_graph(first).source


def test_repeated_input_draws_one_edge_per_argument():
    x = Tensor([1.0, 2.0], requires_grad=True)
    _, edges = graph_of(draw_graph((x * x).sum()))
    assert edges.count(("t0", "o1")) == 2


def test_names_shapes_kinds_and_root_are_visible():
    loss, x, w, b = small_graph()
    nodes, _ = graph_of(draw_graph(loss, params={"layer.weight": w}))
    assert nodes["t1"]["texts"] == ["layer.weight", "(2, 2) float64"]  # named by params
    assert nodes["t3"]["texts"] == ["b", "(2,) float64"]  # its own name
    assert nodes["t0"]["texts"] == ["constant", "(1, 2) float64"]
    assert nodes["t8"]["texts"] == ["root", "scalar float64"]

    fills = {name: node["fills"] for name, node in nodes.items()}
    assert fills["t1"] == fills["t3"] == {"#cfe3ff"}  # parameters
    assert fills["t0"] == fills["t6"] == {"#eeeeee"}  # constants, also dashed
    assert nodes["t0"]["dashed"] and nodes["t6"]["dashed"] and not nodes["t1"]["dashed"]
    assert fills["t2"] == fills["t4"] == {"#ffffff"}  # intermediates
    assert all(fills[f"o{i}"] == {"#fff2b3"} for i in (2, 4, 5, 7, 8))  # operations
    assert fills["t8"] == {"#d9f2d9"} and nodes["t8"]["outlines"] == 2  # root: double border
    assert nodes["t7"]["outlines"] == 1


def test_show_values_prints_values_and_gradients():
    loss, x, w, b = small_graph()
    loss.backward(retain_grads=True)
    nodes, _ = graph_of(draw_graph(loss, show_values=True))
    t = np.tanh(x.data @ w.data + b.data)[0]
    grad_b = 2 * t * (1 - t**2)  # d/db sum(tanh(z)^2)
    assert nodes["t3"]["texts"] == ["b", "(2,) float64", "value [0.1, -0.1]",
                                    f"grad [{grad_b[0]:.4g}, {grad_b[1]:.4g}]"]
    assert nodes["t1"]["texts"][2] == "value [[1, -2], [0.5, 3]]"
    assert nodes["t8"]["texts"][2:] == [f"value {loss.item():.4g}", "grad 1"]


@pytest.mark.parametrize("array, lines", [
    (np.array(2.5), ["value 2.5"]),
    (np.array([1.0, 2.0]), ["value [1, 2]"]),
    (np.arange(4.0).reshape(4, 1), ["value [[0], [1], [2], [3]]"]),  # a column on one line
    (np.arange(6.0).reshape(2, 3) / 3, ["value [[0, 0.3333, 0.6667],", " [1, 1.333, 1.667]]"]),
    (np.zeros((0, 3)), ["value []"]),
])
def test_small_values_are_printed_row_by_row(array, lines):
    nodes, _ = graph_of(draw_graph(Tensor(array), show_values=True))
    assert nodes["t0"]["texts"][2:] == lines


def test_large_tensors_show_summary_statistics():
    a = np.linspace(-1.0, 2.0, 12).reshape(3, 4)
    p = Tensor(a, requires_grad=True, name="p")
    (p * 3.0).sum().backward()
    nodes, _ = graph_of(draw_graph((p * 3.0).sum(), show_values=True))
    assert nodes["t0"]["texts"][2:] == [  # two short lines each: wide labels widen the drawing
        f"value mean {a.mean():.4g} norm {np.linalg.norm(a):.4g}", "min -1 max 2",
        "grad mean 3 norm 10.39", "min 3 max 3",
    ]


def test_op_attributes_are_shown():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    nodes, _ = graph_of(draw_graph(x.sum(axis=1, keepdims=True).reshape(2)))
    assert nodes["o1"]["texts"] == ["sum axis=1 keepdims=True"]
    assert nodes["o2"]["texts"] == ["reshape shape=(2,)"]


def test_params_may_be_a_module_like_object():
    loss, x, w, b = small_graph()

    class Model:
        def named_parameters(self):
            return iter([("fc.weight", w), ("fc.bias", b)])

    source = draw_graph(loss, params=Model()).source
    assert '"fc.weight\\n(2, 2) float64"' in source and '"fc.bias\\n(2,) float64"' in source


def first_marks(nodes):
    value = [n for n, node in nodes.items() if "!! first non-finite value here" in node["texts"]]
    grad = [n for n, node in nodes.items() if "!! first non-finite gradient here" in node["texts"]]
    return value, grad


def test_first_nan_value_is_marked_and_downstream_is_not():
    x = Tensor([1.0, 2.0, 4.0], requires_grad=True, name="x")
    with np.errstate(all="ignore"):
        loss = ((x - 3.0).log() * 2.0).sum() + x.sum()
    dot = draw_graph(loss)
    nodes, edges = graph_of(dot)
    value, grad = first_marks(nodes)
    assert grad == [] and len(value) == 1
    first = value[0]
    assert first == "t3"  # x, 3, x - 3, log(x - 3), ...
    assert nodes[f"o{first[1:]}"]["texts"] == ["log"]  # log of a negative number
    assert nodes[first]["fills"] == {FIRST_BAD_VALUE["fillcolor"]}
    assert "value has 2 nan" in nodes[first]["texts"]
    # Everything downstream is NaN too, shown in red text but not marked as the first.
    downstream = ["t5", "t6", "t8"]  # * 2, sum, + (the root)
    for name in downstream:
        assert any(text.startswith("value has") for text in nodes[name]["texts"])
        assert FIRST_BAD_VALUE["fillcolor"] not in nodes[name]["fills"]
        assert nodes[name]["text_colours"] == {"#cc0000"}
    assert nodes["t7"]["text_colours"] == {None}  # x.sum() is finite
    assert "red: first non-finite value or gradient (look here first)" in dot.source
    assert 'tooltip="intermediate: (3,) float64\\nfirst non-finite value here' in dot.source


def test_first_overflow_is_marked_not_the_nan_it_causes():
    x = Tensor([1.0, 800.0], requires_grad=True)
    with np.errstate(all="ignore"):
        big = x.exp()  # inf at 800
        loss = (big - big).sum()  # inf - inf = nan
    nodes, _ = graph_of(draw_graph(loss))
    value, _ = first_marks(nodes)
    assert value == ["t1"] and "value has 1 +inf" in nodes["t1"]["texts"]
    assert "value has 1 nan" in nodes["t2"]["texts"]


def test_first_non_finite_gradient_is_marked_in_the_backward_direction():
    a = Tensor([0.0, 4.0], requires_grad=True, name="a")
    loss = (a.sqrt() * 3.0).sum()
    with np.errstate(all="ignore"):
        loss.backward(retain_grads=True)  # d sqrt(a)/da = inf at a = 0
    nodes, _ = graph_of(draw_graph(loss))
    value, grad = first_marks(nodes)
    assert value == [] and grad == ["t0"]
    assert nodes["t0"]["texts"][:2] == ["a", "(2,) float64"]
    assert "grad has 1 +inf" in nodes["t0"]["texts"]
    assert nodes["t0"]["fills"] == {FIRST_BAD_GRAD["fillcolor"]}


def test_clean_graph_has_no_red_and_no_red_legend():
    loss, *_ = small_graph()
    loss.backward(retain_grads=True)
    dot = draw_graph(loss, show_values=True)
    assert "#cc0000" not in dot.source and "non-finite" not in dot.source


def chain(n):
    """x * 1.0001 * 1.0001 ...: n multiplications, 2n + 1 tensors, 3n + 1 drawn nodes."""
    x = Tensor(np.ones(3), requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0001
    return y


def drawn_nodes(source):
    return re.findall(r"^\t([to]\d+|more) \[", source, flags=re.M)


def test_five_thousand_node_graph_is_drawn_whole():
    y = chain(2500)  # 5,001 tensors and 2,500 operations: deeper than Python's recursion limit
    dot = draw_graph(y, show_values=True, max_nodes=10_000)
    assert len(drawn_nodes(dot.source)) == 7501


def test_beyond_max_nodes_the_part_nearest_the_root_is_drawn_with_a_note():
    y = chain(2500)
    dot = draw_graph(y)
    nodes = drawn_nodes(dot.source)
    assert len(nodes) <= 500 and "more" in nodes
    drawn = len(nodes) - 1
    assert f'more [label="{7501 - drawn} more nodes not drawn\\n(max_nodes=500, 7501 in all)"' \
        in dot.source
    assert "t5000" in nodes and "t0" not in nodes  # the root end of the chain is kept
    # The note points at the one operation whose input was cut off.
    assert len(re.findall(r"^\tmore -> o\d+", dot.source, flags=re.M)) == 1
    svg_nodes, _ = graph_of(draw_graph(y, max_nodes=30))
    assert len(svg_nodes) == 30


def test_note_says_when_the_first_non_finite_value_was_cut_off():
    x = Tensor([-1.0], requires_grad=True)
    with np.errstate(all="ignore"):
        y = x.log()
    for _ in range(20):
        y = y * 2.0
    assert "the first non-finite value is among them" in draw_graph(y, max_nodes=10).source
    assert "among them" not in draw_graph(y, max_nodes=100).source


def test_max_nodes_must_be_positive():
    with pytest.raises(ValueError, match="draw_graph: max_nodes must be at least 1, got 0"):
        draw_graph(chain(1), max_nodes=0)


def test_walk_includes_constants_and_visits_shared_nodes_once():
    x = Tensor([1.0], requires_grad=True)
    c = Tensor([2.0])
    h = x * c
    out = h + h
    assert [id(t) for t in walk(out)] == [id(x), id(c), id(h), id(out)]


def test_a_leaf_root_is_drawn_alone():
    nodes, edges = graph_of(draw_graph(Tensor([1.0], requires_grad=True, name="w")))
    assert list(nodes) == ["t0"] and edges == []
    assert nodes["t0"]["texts"] == ["w (root)", "(1,) float64"]


@pytest.mark.needs_dot
def test_save_graph_writes_by_extension(tmp_path):
    loss, *_ = small_graph()
    svg = save_graph(loss, tmp_path / "g.svg", show_values=True)
    assert ET.parse(svg).getroot().tag == f"{SVG}svg"
    png = save_graph(loss, tmp_path / "g.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_save_graph_writes_the_source_to_gv_without_dot(tmp_path):
    loss, *_ = small_graph()
    gv = save_graph(loss, tmp_path / "g.gv")
    assert gv.read_text() == draw_graph(loss).source


@pytest.mark.needs_dot
def test_rendered_picture_shows_what_the_source_says():
    """The source reader the other tests rely on agrees with the picture `dot` draws."""
    loss, *_ = small_graph()
    loss.backward(retain_grads=True)
    x = Tensor([1.0, 2.0, 4.0], requires_grad=True, name="x\\n")  # a backslash in a name
    with np.errstate(all="ignore"):
        nan = ((x - 3.0).log() * 2.0).sum() + x.sum()
    for dot in (draw_graph(loss, show_values=True, params={"w": loss}), draw_graph(nan),
                draw_graph((Tensor(np.arange(6.0).reshape(2, 3) / 3) * 2).sum(), show_values=True),
                draw_graph(Tensor(np.linspace(-1.0, 2.0, 12).reshape(3, 4)), show_values=True),
                draw_graph(chain(40), max_nodes=30),
                draw_graph(loss, show_rules=True, highlight={loss.parents[0]: "a note"}),
                draw_graph(Tensor([2.0], requires_grad=True).clip(0, 1).sum(), show_rules=True)):
        nodes, edges = graph_of(dot)
        svg_nodes, svg_edges = svg_graph(dot.pipe(format="svg"))
        assert svg_nodes == nodes and sorted(svg_edges) == sorted(edges)


def test_save_graph_without_dot_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` in here
    with pytest.raises(RuntimeError, match="save_graph: graphviz's `dot` program is needed"):
        save_graph(chain(1), tmp_path / "g.svg")
    assert save_graph(chain(1), tmp_path / "g.gv").exists()


def test_truncation_keeps_a_tensor_by_its_shortest_path_to_the_root():
    x = Tensor([1.0], requires_grad=True, name="x")
    long = x
    for _ in range(5):
        long = long * 2.0
    nodes = drawn_nodes(draw_graph(long + x, max_nodes=6).source)
    # The root and its op, the end of the chain and its op, x (one step away), the note.
    assert sorted(nodes) == sorted(["t11", "o11", "t10", "o10", "t0", "more"])


def test_float_attributes_are_short_in_the_label_and_full_in_the_tooltip():
    x = Tensor([0.5], requires_grad=True)
    source = draw_graph(x.clip(1e-16 / 3, 1 - 1e-16)).source
    assert 'o1 [label="clip lo=3.333e-17 hi=1" ' in source
    assert f'tooltip="clip lo={1e-16 / 3!r} hi={1 - 1e-16!r}"' in source


def test_one_element_constants_show_their_value_without_show_values():
    x = Tensor([[1.0, 2.0]], requires_grad=True, name="x")
    y = Tensor([[3.0, 4.0]])  # a constant of two elements keeps its value to show_values
    nodes, _ = graph_of(draw_graph((0.5 * (x - y) ** 2 + Tensor([[1.0]])).sum()))
    constants = [node["texts"] for node in nodes.values() if node["dashed"]]
    assert constants == [["constant", "scalar float64", "value 0.5"],
                         ["constant", "(1, 2) float64"],
                         ["constant", "scalar float64", "value 2"],
                         ["constant", "(1, 1) float64", "value [[1]]"]]
    assert nodes["t0"]["texts"] == ["constant", "scalar float64", "value 0.5"]
    assert nodes["t1"]["texts"] == ["x", "(1, 2) float64"]  # a parameter's value is not shown


def test_default_layout_is_top_to_bottom_and_at_most_ten_inches_wide():
    loss, *_ = small_graph()
    source = draw_graph(loss).source
    assert "rankdir=TB" in source and 'size="10,1000"' in source and "ratio=compress" in source
    wide = draw_graph(loss, rankdir="LR", max_width=6.5).source
    assert "rankdir=LR" in wide and 'size="6.5,1000"' in wide
    natural = draw_graph(loss, max_width=None).source
    assert " size=" not in natural and "ratio=" not in natural


@pytest.mark.parametrize("max_width", [0, -1.0, float("nan")])
def test_max_width_must_be_positive(max_width):
    with pytest.raises(ValueError, match="draw_graph: max_width must be a positive number"):
        draw_graph(chain(1), max_width=max_width)


def svg_size_px(svg):
    """(width, height) in px at 96 dpi, and the scale graphviz applied to fit `size`."""
    root = ET.fromstring(svg)
    width, height = (float(root.get(key).removesuffix("pt")) * 96 / 72
                     for key in ("width", "height"))
    graph = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "graph")
    scale = float(re.search(r"scale\(([\d.]+)", graph.get("transform")).group(1))
    return width, height, scale


def two_layer_steps():
    """A 2-3-1 relu/sigmoid network's binary cross-entropy (nn's, and as tutorials write it),
    a 2-3-2 network's mean squared error: one step each, with every gradient kept."""
    import nn

    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 2))
    y = (X[:, :1] * X[:, 1:] > 0).astype(np.float64)
    model = nn.MLP([2, 3, 1], activation="relu", output_activation="sigmoid", rng=rng)
    p = model(X)
    yield model, nn.functional.bce_loss(p, y)
    yield model, -(y * p.log() + (1 - y) * (1 - p).log()).mean()
    model = nn.MLP([2, 3, 2], activation="relu", output_activation="sigmoid", rng=rng)
    yield model, nn.MSELoss()(model(X), rng.random((4, 2)))


@pytest.mark.needs_dot
@pytest.mark.parametrize("show_rules", [False, True])
@pytest.mark.parametrize("step", range(3))
def test_two_layer_steps_with_values_fit_a_notebook_unscaled(step, show_rules):
    model, loss = list(two_layer_steps())[step]
    loss.backward(retain_grads=True)
    dot = draw_graph(loss, params=model, show_values=True, show_rules=show_rules)
    width, _, scale = svg_size_px(dot.pipe(format="svg"))
    assert width <= 1000 and scale == 1  # fits, in the font size it was laid out with
    natural, _, _ = svg_size_px(draw_graph(loss, params=model, show_values=True,
                                           show_rules=show_rules,
                                           max_width=None).pipe(format="svg"))
    assert natural > width  # packing it tighter was needed: the test measures something


@pytest.mark.needs_dot
def test_a_graph_too_wide_to_pack_is_scaled_down_to_fit():
    level = [Tensor(np.full(20, i), requires_grad=True, name=f"input {i}") for i in range(32)]
    while len(level) > 1:  # a balanced tree of sums: 32 inputs side by side in one rank
        level = [a + b for a, b in zip(level[::2], level[1::2])]
    width, _, scale = svg_size_px(draw_graph(level[0].sum(), show_values=True).pipe(format="svg"))
    assert width <= 960 and scale < 1


# ---------------------------------------------------------------- show_rules and highlight
def ramp(*shape):
    """A leaf that requires grad, values in [0.5, 1.5]: inside every op's domain."""
    return Tensor(np.linspace(0.5, 1.5, int(np.prod(shape))).reshape(shape), requires_grad=True)


def invertible(n):
    """A symmetric positive definite leaf (the ramp's values plus 2 on the diagonal)."""
    a = np.linspace(0.5, 1.5, n * n).reshape(n, n)
    return Tensor((a + a.T) / 2 + 2 * np.eye(n), requires_grad=True)


CONV = {"stride": (1,), "padding": ((0, 0),), "dilation": (1,), "groups": 1}
CONV_NODES = {  # one spatial axis: (batch, channels, length), weights (out, in, kernel)
    "conv": ((ramp(1, 2, 3), ramp(1, 2, 2)), CONV),
    "conv_transpose": ((ramp(1, 1, 2), ramp(1, 2, 2)), {"shape": (1, 2, 3), **CONV}),
    "conv_weight": ((ramp(1, 2, 3), ramp(1, 1, 2)), {"shape": (1, 2, 2), **CONV}),
    "max_pool": ((ramp(1, 2, 3),), {"kernel": (2,), "stride": (1,), "padding": ((0, 0),),
                                     "dilation": (1,)}),
}
# Inputs and settings for the ops that are not "one (2, 3) input" or "two (2, 3) inputs".
SPECIAL_NODES = {
    "matmul": lambda: ((ramp(2, 3), ramp(3, 2)), {}),
    "linear": lambda: ((ramp(2, 3), ramp(3, 2), ramp(2)), {}),
    "where": lambda: ((ramp(2, 3), ramp(3)), {"condition": np.array([True, False, True])}),
    "cross_entropy_labels": lambda: ((ramp(2, 3),), {"labels": np.array([2, 0])}),
    "reshape": lambda: ((ramp(2, 3),), {"shape": (3, 2)}),
    "transpose": lambda: ((ramp(2, 3),), {"axes": (1, 0)}),
    "broadcast_to": lambda: ((ramp(3),), {"shape": (2, 3)}),
    "getitem": lambda: ((ramp(2, 3),), {"index": (0, slice(1, None))}),
    "add_at": lambda: ((ramp(2),), {"shape": (2, 3), "index": (0, slice(1, None))}),
    "setitem": lambda: ((ramp(2, 3), ramp(2)), {"index": (slice(None), 1)}),
    "concatenate": lambda: ((ramp(2, 3), ramp(1, 3), ramp(2, 3)), {"axis": 0}),
    "stack": lambda: ((ramp(2, 3), ramp(2, 3)), {"axis": 1}),
    "astype": lambda: ((ramp(2, 3),), {"dtype": np.dtype(np.float32)}),
    "clip": lambda: ((ramp(2, 3),), {"lo": 0.7, "hi": 1.2}),
    # linear algebra and contractions: symmetric positive definite leaves
    **{name: lambda: ((invertible(3),), {}) for name in
       ("inv", "slogdet", "cholesky", "eigh", "svd", "qr", "pinv")},
    "solve": lambda: ((invertible(3), ramp(3)), {}),
    "solve_triangular": lambda: ((invertible(3), ramp(3)), {"lower": True}),
    "einsum": lambda: ((ramp(2, 3), ramp(3, 2)), {"subscripts": "ij,jk->ik"}),
    "einsum_unary": lambda: ((ramp(3, 3),), {"subscripts": "ii->"}),
    **{name: lambda name=name: CONV_NODES[name] for name in CONV_NODES},
}
BINARY = {"add", "subtract", "multiply", "divide", "power", "maximum", "minimum", "logaddexp",
          "cross_entropy", "bce_with_logits", "arctan2", "hypot", "logaddexp2", "fmax", "fmin",
          "remainder"}


def one_node(op):
    """The result of `op` on small leaves that all require grad (the op table's own calls)."""
    if op.name in SPECIAL_NODES:
        inputs, attrs = SPECIAL_NODES[op.name]()
    else:
        inputs, attrs = (ramp(2, 3), ramp(2, 3)) if op.name in BINARY else (ramp(2, 3),), {}
    return apply(op, *inputs, **attrs)


def edge_labels(source):
    """{(tail, head): label} of the edges that carry one."""
    return {(a, b): label for a, b, label in
            re.findall(r'^\t(\w+) -> (\w+) \[label="?([^"\]]*)"?\]$', source, flags=re.M)}


@pytest.mark.parametrize("op", ops.OPS, ids=lambda op: op.name)
def test_show_rules_writes_every_ops_gradient_rules_under_it(op):
    out = one_node(op)
    n = len(out.parents)
    dot = draw_graph(out, show_rules=True)
    nodes, _ = graph_of(dot)
    rules = [op.rule(i) for i in range(n if isinstance(op.vjps, tuple) else 1)]
    assert all(rule and re.match(r"^d\w+ = \S", rule) for rule in rules), rules
    assert len(rules) == (n if isinstance(op.vjps, tuple) else 1)  # one per VJP
    assert nodes[f"o{n}"]["texts"] == [op_text(out)[0], *rules]
    assert "beside each op, its rule: g is the gradient arriving at its result" in dot.source
    # Without show_rules: the op's name (and settings) only, no legend line for rules.
    plain = draw_graph(out)
    assert graph_of(plain)[0][f"o{n}"]["texts"] == [op_text(out)[0]]
    assert "its rule" not in plain.source

    # With several inputs, each edge says which input it feeds, as the rules name them.
    labels = edge_labels(dot.source)
    if n == 1:
        assert labels == {}
    else:
        names = [labels[(f"t{i}", f"o{n}")] for i in range(n)]
        assert len(set(names)) == n
        for i, name in enumerate(names):
            rule = op.rule(i)
            assert rule.startswith(f"d{name} =") or (
                rule.startswith("dx_i =") and name == f"x_{i}"), (name, rule)


def test_show_rules_names_the_inputs_of_a_layer_and_of_a_loss():
    x, w, b = Tensor(np.ones((4, 2))), ramp(2, 3), ramp(3)
    loss = x.linear(w, b).cross_entropy(np.full((4, 3), 1 / 3))
    dot = draw_graph(loss, params={"w": w, "b": b}, show_rules=True)
    nodes, _ = graph_of(dot)
    assert nodes["o3"]["texts"] == ["linear", "dx = g @ w.T", "dw = x.T @ g",
                                    "db = g summed over the batch"]
    assert edge_labels(dot.source) == {("t0", "o3"): "x", ("t1", "o3"): "w", ("t2", "o3"): "b",
                                       ("t3", "o5"): "x", ("t4", "o5"): "t"}
    assert nodes["o5"]["texts"][0] == "cross_entropy reduction='mean'"


def test_highlight_paints_a_node_red_with_its_note():
    loss, x, w, b = small_graph()
    tanh = loss.parents[0].parents[0]
    dot = draw_graph(loss, highlight={tanh: "look at me"})
    nodes, _ = graph_of(dot)
    assert nodes["t5"]["texts"][-1] == "!! look at me"
    assert nodes["t5"]["fills"] == nodes["o5"]["fills"] == {FIRST_BAD_VALUE["fillcolor"]}
    assert nodes["o4"]["fills"] == {"#fff2b3"}
    assert "red: first non-finite value or gradient" in dot.source
    with pytest.raises(ValueError, match=r"draw_graph: a highlighted tensor \(shape \(3,\)\) is "
                                         "not in the graph"):
        draw_graph(loss, highlight={Tensor(np.ones(3)): "elsewhere"})


def test_highlight_replaces_the_automatic_first_mark_and_survives_truncation():
    x = Tensor([0.0, 1.0], requires_grad=True)
    with np.errstate(divide="ignore"):
        y = x.log()
    nodes, _ = graph_of(draw_graph(y, highlight={y: "born here"}))
    assert nodes["t1"]["texts"][-2:] == ["value has 1 -inf", "!! born here"]
    assert "!! first non-finite value here" not in nodes["t1"]["texts"]
    deep = chain(40)
    first = deep
    while first.parents[0].op is not None:
        first = first.parents[0]
    assert "a highlighted node is among them" in draw_graph(
        deep, max_nodes=10, highlight={first: "far away"}).source


def test_a_graph_after_a_recorded_in_place_op_shows_what_each_node_used():
    # `d += 3 * d` gives d a new node; 3 * d used d's old value (its snapshot), so the graph has
    # no edge from the new d back into the multiply that produced its own input (no cycle).
    a = Tensor([2.0], requires_grad=True)
    d = a * 1.5
    d += 3 * d
    order = walk(d)
    index = {id(t): i for i, t in enumerate(order)}
    for i, t in enumerate(order):
        assert all(index[id(p)] < i for p in recorded_parents(t))
    d.backward()
    np.testing.assert_allclose(a.grad, [6.0])
    source = draw_graph(d).source
    assert source.count("label=multiply") == 2 and source.count("label=add") == 1
