"""Tests for autograd/explorer (the data and the page, without a browser): the backward steps are
the engine's, in its order, with its gradients; nothing is left in `.grad`; module boxes, source
lines and non-finite marks; the page is self-contained; the layout without `dot`; notebooks.
The same pages in a real browser: tests/test_explore_browser.py.
"""

import html
import re
from pathlib import Path

import graphviz
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
import nn
from autograd import Tensor, detect_anomaly, explain_backward, explore, save_graph
from autograd.explorer.trace import collect, describe, source_of


def mlp_step(record=True, sizes=(4, 5, 3), seed=0):
    """A 2-layer tanh MLP's loss on 6 samples, its model and data."""
    nn.manual_seed(seed)
    model = nn.MLP(list(sizes), activation="tanh")
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(6, sizes[0])), rng.integers(0, sizes[-1], size=6)
    if record:
        with explore.record():
            loss = nn.CrossEntropyLoss()(model(X), y)  # the line the explorer shows
    else:
        loss = nn.CrossEntropyLoss()(model(X), y)
    return loss, model


def parse(text):
    """The numbers of numpy's printing of a small (untruncated) array."""
    return np.array([float(v) for v in re.findall(r"[-+]?(?:\d+\.?\d*(?:e[-+]?\d+)?|nan|inf)",
                                                    text)])


def assert_shown(text, array):
    """`text` is numpy's printing of `array`: 5 decimals, or 5 significant digits in e-notation."""
    np.testing.assert_allclose(parse(text), np.ravel(array), rtol=1e-4, atol=6e-6)


def position(order, t):
    return next(i for i, u in enumerate(order) if u is t)


def node_of(ex, order, t):
    return ex.nodes[position(order, t)]


def test_backward_steps_follow_explain_backward_and_carry_the_engines_gradients():
    loss, model = mlp_step()
    ex = explore(loss, model=model)
    order = autograd.graph.walk(loss)
    expected = [step.node for step in explain_backward(loss)]
    assert [order[s["node"]] for s in ex.backward] == expected
    assert [order[s["node"]].op.name for s in ex.backward] == [
        "cross_entropy_labels", "linear", "tanh", "linear"]

    loss.backward(retain_grads=True)  # the reference: backward's own gradients
    for step in ex.backward:
        t = order[step["node"]]
        arriving = t.grad if t is not loss else np.ones(())
        assert_shown(step["g"]["text"], arriving)
        assert ex.nodes[step["node"]]["grad"]["text"] == step["g"]["text"]
    for name, p in model.named_parameters():
        shown = node_of(ex, order, p)
        assert shown["label"] == name and shown["kind"] == "parameter"
        assert_shown(shown["grad"]["text"], p.grad)
    data = node_of(ex, order, order[0])
    assert data["kind"] == "constant" and data["grad"] is None  # data gets no gradient


def test_each_input_gets_its_rule_filled_in_and_the_gradient_sent_to_it():
    w = Tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True, name="w")
    x = Tensor([[1.0, 2.0]])
    y = x @ w
    out = (y * y).sum()
    ex = explore(out)
    order = autograd.graph.walk(out)
    matmul = next(s for s in ex.backward if order[s["node"]] is y)
    g = 2 * (x.data @ w.data)  # d(sum(y*y))/dy
    data_in, weight_in = matmul["inputs"]
    assert weight_in["rule"] == "dy = x.T @ g" and weight_in["symbol"] == "y"
    assert weight_in["filled"] == "d[w] = [constant].T @ g"
    np.testing.assert_allclose(parse(weight_in["sent"]["text"]), (x.data.T @ g).ravel())
    assert data_in["sent"] is None  # x needs no gradient: backward skips its VJP
    square = next(s for s in ex.backward if order[s["node"]].op.name == "multiply")
    # y * y: both inputs are y, each receives g * y, and y's gradient is their sum.
    assert [f["node"] for f in square["inputs"]] == [position(order, y)] * 2
    np.testing.assert_allclose(parse(square["inputs"][0]["sent"]["text"]), g.ravel() / 2)
    np.testing.assert_allclose(parse(ex.nodes[position(order, y)]["grad"]["text"]), g.ravel())


OPS = {
    "add": lambda a, b: a + b, "mul": lambda a, b: a * b, "sub": lambda a, b: a - b,
    "tanh": lambda a, b: a.tanh(), "sum": lambda a, b: a.sum(axis=0) * b.mean(),
}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(sorted(OPS)), st.integers(0, 20), st.integers(0, 20)),
                min_size=1, max_size=8))
def test_random_graphs_step_in_the_engines_order_with_its_gradients(program):
    """Diamonds, reuse (x * x), broadcasting (3,) against (2, 3) and constants, at random."""
    rng = np.random.default_rng(len(program))
    pool = [Tensor(rng.normal(size=(2, 3)), requires_grad=True), Tensor(rng.normal(size=3),
            requires_grad=True), Tensor(rng.normal(size=(2, 3)))]
    leaves = pool[:2]
    for name, i, j in program:
        pool.append(OPS[name](pool[i % len(pool)], pool[j % len(pool)]))
    root = pool[-1].sum()
    order, nodes, _, backward = collect(root)
    if not root.requires_grad:
        assert backward == []
        return
    assert [order[s["node"]] for s in backward] == [s.node for s in explain_backward(root)]
    expected = autograd.grad(root, leaves, allow_unused=True)
    for leaf, g in zip(leaves, expected):
        shown = [n for n, t in zip(nodes, order) if t is leaf]
        if g is None:  # not in the graph, or reached by no gradient
            assert not shown or shown[0]["grad"] is None
        else:
            assert_shown(shown[0]["grad"]["text"], g.data)


def test_exploring_leaves_every_grad_alone():
    loss, model = mlp_step()
    before = [p.grad for p in model.parameters()]
    explore(loss, model=model)
    assert [p.grad for p in model.parameters()] == before == [None] * 4
    loss.backward()
    grads = [p.grad.copy() for p in model.parameters()]
    explore(loss, model=model)
    for p, g in zip(model.parameters(), grads):
        np.testing.assert_array_equal(p.grad, g)


def test_forward_steps_are_the_ops_in_creation_order():
    loss, _ = mlp_step()
    ex = explore(loss)
    order = autograd.graph.walk(loss)
    seqs = [order[i].seq for i in ex.forward]
    assert seqs == sorted(seqs) and len(seqs) == sum(t.op is not None for t in order)
    assert [order[i].op.name for i in ex.forward] == [
        "linear", "tanh", "linear", "cross_entropy_labels"]


def test_modules_box_their_parameters_and_ops_and_record_adds_parameter_free_ones():
    loss, model = mlp_step(record=False)
    ex = explore(loss, model=model)
    order = autograd.graph.walk(loss)
    labels = [g["label"] for g in ex.groups]
    assert labels == ["layers.0: Linear(4, 5)", "layers.2: Linear(5, 3)"]
    boxed = {g["label"]: sorted(order[i].op.name if order[i].op else ex.nodes[i]["label"]
                                for i in g["members"]) for g in ex.groups}
    assert boxed["layers.0: Linear(4, 5)"] == ["layers.0.bias", "layers.0.weight", "linear"]
    tanh = next(n for n, t in zip(ex.nodes, order) if t.op is not None and t.op.name == "tanh")
    assert "group" not in tanh  # no parameter, and no record(): no box to put it in

    loss, model = mlp_step(record=True)
    ex = explore(loss, model=model)
    assert [g["label"] for g in ex.groups] == [
        "layers.0: Linear(4, 5)", "layers.1: Tanh()", "layers.2: Linear(5, 3)"]
    cross_entropy = ex.nodes[-1]
    assert "group" not in cross_entropy  # the loss module is not the model's


def test_nested_modules_nest_their_boxes():
    class Block(nn.Module):
        def __init__(self):
            self.inner = nn.Sequential(nn.Linear(3, 3), nn.Tanh())
            self.head = nn.Linear(3, 1)

        def forward(self, x):
            return self.head(self.inner(x))

    nn.manual_seed(1)
    model = Block()
    with explore.record():
        loss = model(np.ones((2, 3))).sum()
    ex = explore(loss, model=model)
    by_label = {g["label"].split(":")[0]: g for g in ex.groups}
    assert set(by_label) == {"inner", "inner.layers.0", "inner.layers.1", "head"}
    inner = ex.groups.index(by_label["inner"])
    assert by_label["inner.layers.0"]["parent"] == inner
    assert by_label["inner.layers.1"]["parent"] == inner and by_label["head"]["parent"] is None
    assert all(f'<g id="{g["id"]}" class="cluster"' in ex.html for g in ex.groups)


def test_source_lines_come_from_record_only():
    loss, _ = mlp_step(record=True)
    ex = explore(loss)
    sources = [n["source"] for n in ex.nodes if n["op"]]
    assert all(s and "test_explore.py" in s and "loss = nn.CrossEntropyLoss()(model(X), y)" in s
               for s in sources)
    assert all(n["source"] is None for n in ex.nodes if not n["op"])  # leaves are not made
    loss, _ = mlp_step(record=False)
    assert all(n["source"] is None for n in explore(loss).nodes)


def test_record_restores_the_previous_watcher_and_keeps_feeding_it():
    x = Tensor([4.0], requires_grad=True)
    with pytest.raises(autograd.NonFiniteError), np.errstate(all="ignore"):
        with detect_anomaly():
            with explore.record():
                (x - 4.0).log()  # log(0) = -inf: detect_anomaly still sees it inside record
    assert autograd.engine.watcher is None

    @explore.record()
    def f(t):
        return (t * 2).sum()

    out = f(x)
    assert source_of(out)[0].endswith("return (t * 2).sum()")
    assert autograd.engine.watcher is None


def test_non_finite_values_are_marked_where_they_are_born():
    x = Tensor([-1.0, 4.0], requires_grad=True, name="x")
    with np.errstate(all="ignore"):
        logged = x.log()
        loss = (logged * 2.0).sum()
        ex = explore(loss)
    order = autograd.graph.walk(loss)
    born = node_of(ex, order, logged)
    assert born["bad"] == "value born" and "born here (1 nan)" in born["note"]
    assert node_of(ex, order, loss)["bad"] == "value"  # inherited, not born
    assert "bad" not in node_of(ex, order, x)  # its gradient, 2 / x, is finite
    assert ex.notes == ["Non-finite numbers: born at #3 log (red)."]


def test_a_non_finite_gradient_is_marked_at_the_op_whose_rule_made_it():
    x = Tensor([0.0, 4.0], requires_grad=True, name="x")
    root = x.sqrt()
    loss = root.sum()
    with np.errstate(all="ignore"):  # the gradient of sqrt at 0 is inf
        ex = explore(loss)
    order = autograd.graph.walk(loss)
    sqrt = node_of(ex, order, root)
    assert sqrt["bad"] == "grad born" and "sends 1 +inf to input 0" in sqrt["note"]
    assert node_of(ex, order, x)["bad"] == "grad"
    assert node_of(ex, order, x)["grad"]["bad"] == "1 +inf"
    assert "bad" not in node_of(ex, order, loss)


def test_a_gradient_sum_that_overflows_is_marked_where_it_overflows():
    """Two finite gradients of 1e308 reach x; their sum is inf: born at x, not at a rule."""
    x = Tensor([0.25], requires_grad=True, name="x")
    y = x * 1.0
    z = y * 1.0 + y * 1.0  # y gets a gradient from each of two consumers...
    loss = (z * 1e308).sum()  # ...of 1e308 each: finite apart, inf summed at y
    with np.errstate(all="ignore"):
        ex = explore(loss)
    order = autograd.graph.walk(loss)
    assert all(n["value"]["finite"] for n in ex.nodes)  # the forward pass is finite
    shown = node_of(ex, order, y)
    assert shown["bad"] == "grad born" and "overflowed" in shown["note"]
    assert not any(n.get("bad") == "grad born" for n in ex.nodes if n is not shown)
    assert node_of(ex, order, x)["bad"] == "grad"


@pytest.mark.parametrize("array, text", [
    (np.float32(1.5), "1.5"), (np.zeros((0, 3)), "[]"), (np.arange(4.0), "[0. 1. 2. 3.]"),
])
def test_arrays_print_as_numpy_prints_them(array, text):
    shown = describe(np.asarray(array))
    assert shown["text"] == text and shown["finite"]


def test_large_arrays_are_truncated_as_numpy_truncates_them():
    shown = describe(np.arange(10000.0).reshape(100, 100))
    assert "..." in shown["text"] and len(shown["text"]) < 600
    assert shown["text"] == np.array2string(np.arange(10000.0).reshape(100, 100), threshold=64,
                                            edgeitems=3, precision=5, max_line_width=88)
    assert "mean 5000 " in shown["stats"] and "max 9999" in shown["stats"]
    huge = describe(np.array([1e300, -1e300, 3.0], dtype=np.float64))
    assert huge["finite"] and "norm 1.414e+300" in huge["stats"]  # no overflow on the way
    assert "std 8.165e+299" in huge["stats"]
    top = describe(np.array([1e308, 1e308]))
    assert "mean 1e+308" in top["stats"] and "norm 1.414e+308" in top["stats"]


def test_the_page_is_one_self_contained_file(tmp_path):
    loss, model = mlp_step()
    ex = explore(loss, tmp_path / "step.html", model=model)
    page = (tmp_path / "step.html").read_text()
    assert page == ex.html and page.startswith("<!DOCTYPE html>")
    assert not re.search(r"<script[^>]+src=|<link|@import|url\(|https?://(?!www\.w3\.org/)", page)
    assert page.count("<svg") == 1 and 'id="t0"' in page and 'id="e3_0"' in page


def test_names_cannot_break_out_of_the_page():
    x = Tensor([1.0], requires_grad=True, name="</script><b>x")
    ex = explore((x * 2).sum())
    assert ex.html.count("</script>") == 2  # the two script elements' own ends
    assert "\\u003c/script>\\u003cb>x" in ex.html


def test_a_root_without_grad_shows_its_forward_pass_and_says_there_is_no_backward():
    x = Tensor([1.0, 2.0])
    ex = explore((x * 3).sum())
    assert ex.backward == [] and len(ex.forward) == 0  # nothing recorded without grad
    assert ex.notes == ["The root does not require grad: there is no backward pass to play."]


def test_a_non_scalar_root_needs_grad_as_backward_does():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"not a scalar \(shape \(2,\)\); pass grad="):
        explore(x * 3)
    ex = explore(x * 3, grad=np.array([1.0, -1.0]))
    np.testing.assert_allclose(parse(ex.nodes[0]["grad"]["text"]), [3.0, -3.0])


def test_a_leaf_root_receives_the_seed_and_has_no_steps():
    x = Tensor(3.0, requires_grad=True)
    ex = explore(x)
    assert ex.backward == [] and ex.forward == [] and ex.nodes[0]["grad"]["text"] == "1."


def test_graphs_of_gradients_explore_like_any_other():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (g,) = autograd.grad((x ** 3).sum(), x, create_graph=True)  # 3 x^2, with a graph
    root = g.sum()
    ex = explore(root)
    assert [n["label"] for n in ex.nodes if n["kind"] == "parameter"] == ["parameter"]
    shown = node_of(ex, autograd.graph.walk(root), x)
    assert_shown(shown["grad"]["text"], 6 * x.data)  # d(sum 3x^2)/dx


def test_autograd_never_imports_nn():
    folder = Path(autograd.__file__).resolve().parent / "explorer"
    for path in folder.glob("*.py"):
        assert not re.search(r"^\s*(from|import) nn\b", path.read_text(), re.M), path.name


def test_float32_graphs_keep_their_dtype():
    x = Tensor(np.ones((2, 2), np.float32), requires_grad=True)
    ex = explore((x * 2).sum())
    assert {n["dtype"] for n in ex.nodes} == {"float32"}
    assert ex.nodes[0]["grad"]["text"] == "[[2. 2.]\n [2. 2.]]"


def test_without_dot_a_layered_layout_is_drawn_and_the_page_says_how_to_get_dot(monkeypatch):
    def missing(*args, **kwargs):
        raise graphviz.ExecutableNotFound(["dot"])

    monkeypatch.setattr(graphviz.Digraph, "pipe", missing)
    loss, model = mlp_step()
    ex = explore(loss, model=model)
    assert 'id="notice"' in ex.html and "apt-get install graphviz" in ex.html
    ids = set(re.findall(r'<g id="(\w+)" class="(?:node|edge|cluster)"', ex.html))
    order = autograd.graph.walk(loss)
    expected = {f"t{i}" for i in range(len(order))} | {f"o{i}" for i, t in enumerate(order) if t.op}
    expected |= {f"r{i}" for i, t in enumerate(order) if t.op} | {g["id"] for g in ex.groups}
    expected |= {f"e{i}_{k}" for i, t in enumerate(order) for k in range(len(t.parents))}
    assert ids == expected


@pytest.mark.needs_dot
def test_with_dot_every_node_edge_and_box_has_its_id():
    loss, model = mlp_step()
    ex = explore(loss, model=model)
    assert 'id="notice"' not in ex.html
    ids = set(re.findall(r'<g id="(\w+)" class="(?:node|edge|cluster)"', ex.html))
    order = autograd.graph.walk(loss)
    assert {f"t{i}" for i in range(len(order))} <= ids
    assert {g["id"] for g in ex.groups} <= ids and "e3_0" in ids and "r3" in ids


def test_in_a_notebook_it_is_an_iframe_holding_the_page_and_tensors_stay_plain():
    loss, _ = mlp_step()
    ex = explore(loss)
    shown = ex._repr_html_()
    srcdoc = re.search(r'<iframe srcdoc="([^"]*)" sandbox="allow-scripts"', shown).group(1)
    assert html.unescape(srcdoc) == ex.html
    assert "4 backward steps" in shown and "4 backward steps" in repr(ex)
    assert not hasattr(loss, "_repr_html_")  # no surprise pictures for a tensor


def test_save_graph_writes_the_explorer_for_html(tmp_path):
    loss, model = mlp_step()
    path = save_graph(loss, tmp_path / "graph.html", params=model)
    page = path.read_text()
    assert 'id="data"' in page and "layers.0: Linear(4, 5)" in page
    path = save_graph(loss, tmp_path / "graph.page", format="html")
    assert 'id="data"' in path.read_text()
    with pytest.raises(TypeError, match="show_rules"):
        save_graph(loss, tmp_path / "graph.html", show_rules=True)


def test_the_page_template_ships_with_the_package():
    """Every file of the template is package data, so wheels and sdists carry it (a check
    of the built wheel itself is too slow for every run; `pip wheel .` lists them)."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    root = Path(autograd.__file__).resolve().parent.parent
    config = tomllib.loads((root / "pyproject.toml").read_text())
    shipped = set(config["tool"]["setuptools"]["package-data"]["autograd.explorer"])
    template = {p.name for p in (root / "autograd" / "explorer").iterdir()
                if p.is_file() and p.suffix != ".py"}
    assert template == shipped == {"page.html", "page.css", "page.js"}
