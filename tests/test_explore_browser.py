"""The explorer page in a real browser: headless Chromium (Debian's `chromium` package) driven by
Playwright's Python package, with no browser download. It steps a 2-layer MLP's backward pass and
checks the highlighted nodes follow explain_backward's order and the gradients shown are `.grad`;
clicks nodes and module boxes; checks a graph with a NaN, the demo's page and a 1,000-node graph.

Needs the `browser` extra (pip install -e ".[browser]") and chromium (apt-get install chromium);
skipped with the reason without them, except under CI=true, which installs both.
"""

import importlib.util
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import graphviz
import numpy as np
import pytest
from test_explore import assert_shown, mlp_step, position

import autograd
import nn
from autograd import Tensor, explain_backward, explore

try:
    from playwright.sync_api import sync_playwright
except ImportError:
    sync_playwright = None

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module, with a fresh profile; no network is used."""
    missing = ("Playwright's Python package is not installed (pip install -e '.[browser]')"
               if sync_playwright is None else
               "chromium is not installed (apt-get install chromium)" if CHROMIUM is None else None)
    if missing:
        (pytest.fail if os.environ.get("CI") else pytest.skip)(missing)
    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        context = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=FLAGS,
            viewport={"width": 1300, "height": 800})
        yield context
        context.close()


class Page:
    """A browser tab holding one explorer page; `messages` collects its console and errors."""

    def __init__(self, browser, tmp_path):
        self.tab = browser.new_page()
        self.messages = []
        self.tab.on("console", lambda m: self.messages.append(f"{m.type}: {m.text}"))
        self.tab.on("pageerror", lambda e: self.messages.append(f"error: {e}"))
        self.tmp_path = tmp_path

    def open(self, explorer, name="page.html"):
        path = explorer.save(self.tmp_path / name)
        start = time.perf_counter()
        self.tab.goto(path.as_uri())
        self.tab.wait_for_selector("body[data-ready=true]")
        return time.perf_counter() - start

    def current(self):
        """Indices of the tensors outlined as current (their op and result both are)."""
        ids = self.tab.eval_on_selector_all("g.node.current", "els => els.map(e => e.id)")
        return sorted({int(i[1:]) for i in ids}), sorted(ids)

    def panel_arrays(self):
        return self.tab.eval_on_selector_all("#panel pre.values",
                                             "els => els.map(e => e.textContent)")

    def text(self, selector):
        return self.tab.inner_text(selector)


@pytest.fixture
def page(browser, tmp_path):
    tab = Page(browser, tmp_path)
    yield tab
    tab.tab.close()


def test_stepping_the_backward_pass_follows_the_engine_and_shows_its_gradients(page):
    loss, model = mlp_step()
    order = autograd.graph.walk(loss)
    expected = [position(order, step.node) for step in explain_backward(loss)]
    page.open(explore(loss, model=model))
    loss.backward(retain_grads=True)  # after the page is made: the reference gradients
    params = dict(model.named_parameters())

    seen = []
    for n in range(len(expected)):
        page.tab.keyboard.press("ArrowRight")
        (i,), ids = page.current()
        assert ids == [f"o{i}", f"t{i}"]
        seen.append(i)
        assert page.text("#counter") == f"backward step {n + 1} / {len(expected)}"
        arrays = page.panel_arrays()
        t = order[i]
        assert_shown(arrays[0], t.grad if t is not loss else np.ones(()))  # g arriving
        for flow, shown in zip((p for p in t.parents if p.requires_grad), arrays[1:]):
            if flow.op is None:  # a parameter, used once: what it receives is its .grad
                assert_shown(shown, flow.grad)
        done = page.tab.eval_on_selector_all("g.node.done", "els => els.map(e => e.id)")
        assert sorted(done) == sorted(f"{k}{j}" for j in seen[:-1] for k in "ot")
    assert seen == expected
    assert "layers.0.weight" in page.text("#panel")  # the last step: the first layer's linear

    page.tab.keyboard.press("ArrowRight")  # past the end: stays on the last step
    assert page.current()[0] == [expected[-1]]
    page.tab.keyboard.press("ArrowLeft")  # stepping back unmarks what it passes
    page.tab.keyboard.press("ArrowLeft")
    done = page.tab.eval_on_selector_all("g.node.done", "els => els.map(e => e.id)")
    assert page.current()[0] == [expected[-3]]
    assert sorted(done) == sorted(f"{k}{j}" for j in expected[:-3] for k in "ot")
    page.tab.keyboard.press("Home")
    assert page.current()[0] == [] and "Backward pass" in page.text("#panel")
    assert page.tab.eval_on_selector_all("g.node.done, g.node.received", "els => els.length") == 0
    page.tab.keyboard.press("End")
    assert page.current()[0] == [expected[-1]]
    # Every parameter has received its gradient, or is receiving it at this last step.
    received = page.tab.eval_on_selector_all("g.node.received", "els => els.map(e => e.id)")
    inputs = page.tab.eval_on_selector_all("g.node.input", "els => els.map(e => e.id)")
    first_layer = {f"t{position(order, p)}" for p in model.layers[0].parameters()}
    assert set(inputs) == first_layer  # not the data: it needs no gradient
    assert {f"t{position(order, p)}" for p in params.values()} - first_layer <= set(received)
    assert page.messages == []


def test_play_runs_every_step_then_stops(page):
    loss, model = mlp_step()
    page.open(explore(loss, model=model))
    page.tab.click("#play")
    assert page.text("#play") == "pause"
    page.tab.wait_for_function("document.getElementById('play').textContent === 'play'",
                               timeout=15000)
    assert page.text("#counter") == "backward step 4 / 4"
    assert page.messages == []


def test_clicking_a_node_shows_its_value_gradient_rule_and_source_line(page):
    loss, model = mlp_step()
    order = autograd.graph.walk(loss)
    page.open(explore(loss, model=model))
    loss.backward(retain_grads=True)
    weight = model.layers[0].weight

    page.tab.click(f"#t{position(order, weight)}")
    assert page.text("#panel h2") == "layers.0.weight"
    assert "parameter, (4, 5) float64" in page.text("#panel")
    value, grad = page.panel_arrays()
    assert_shown(value, weight.data)
    assert_shown(grad, weight.grad)
    assert "source line unknown" in page.text("#panel")  # a leaf is made by no line of code

    tanh = next(t for t in order if t.op is not None and t.op.name == "tanh")
    page.tab.click(f"#o{position(order, tanh)}")
    panel = page.text("#panel")
    assert page.text("#panel h2") == "#3 tanh"
    assert "intermediate made by tanh, (6, 5) float64" in panel
    assert "dx = g * (1 - out^2)" in panel and "d[#4 linear] = g * (1 - out^2)" in panel
    assert "test_explore.py" in panel and "loss = nn.CrossEntropyLoss()(model(X), y)" in panel
    value, grad = page.panel_arrays()
    assert_shown(value, tanh.data)
    assert_shown(grad, tanh.grad)
    assert page.tab.get_attribute(f"#o{position(order, tanh)}", "class") == "node selected"
    assert page.messages == []


def test_the_forward_pass_replays_in_creation_order(page):
    loss, model = mlp_step()
    ex = explore(loss, model=model)
    page.open(ex)
    page.tab.click("#mode-forward")
    seen = []
    for _ in ex.forward:
        page.tab.click("#next")
        seen.extend(page.current()[0])
    order = autograd.graph.walk(loss)
    assert seen == ex.forward and [order[i].op.name for i in seen] == [
        "linear", "tanh", "linear", "cross_entropy_labels"]
    assert "forward step 4: #1 cross_entropy_labels" in page.text("#panel h2")
    assert page.messages == []


def test_a_nan_is_red_where_it_was_born(page):
    x = Tensor([-1.0, 4.0], requires_grad=True, name="x")
    with np.errstate(all="ignore"):
        logged = x.log()
        loss = (logged * Tensor([2.0, 3.0], requires_grad=True, name="w")).sum()
        ex = explore(loss)
    order = autograd.graph.walk(loss)
    page.open(ex)
    born = f"t{position(order, logged)}"
    assert page.tab.eval_on_selector_all("g.node.bad-born", "els => els.map(e => e.id)") == [born]
    fill = page.tab.eval_on_selector(f"#{born} polygon, #{born} path, #{born} rect",
                                     "e => getComputedStyle(e).fill")
    assert fill == "rgb(255, 140, 140)"
    assert "born at #3 log" in page.text("#panel")  # the opening panel says where to look
    page.tab.click(f"#{born}")
    assert "non-finite value born here (1 nan)" in page.text("#panel")
    assert "(1 nan)" in page.text("#panel .stats")
    later = page.tab.eval_on_selector_all("g.node.bad", "els => els.map(e => e.id)")
    assert f"t{len(order) - 1}" in later  # the loss inherits it: marked, not as born
    assert page.messages == []


def test_module_boxes_collapse_and_expand(page):
    loss, model = mlp_step()
    order = autograd.graph.walk(loss)
    ex = explore(loss, model=model)
    page.open(ex)
    box = ex.groups[0]  # layers.0: Linear(4, 5)
    page.tab.click(f"#{box['id']} text")
    assert "collapsed" in page.tab.get_attribute(f"#{box['id']}", "class")
    weight = position(order, model.layers[0].weight)
    assert not page.tab.is_visible(f"#t{weight}")
    page.tab.keyboard.press("End")  # the last step is inside the box: the box is outlined
    assert "current" in page.tab.get_attribute(f"#{box['id']}", "class")
    page.tab.click("#expand")
    assert page.tab.is_visible(f"#t{weight}")
    assert "collapsed" not in page.tab.get_attribute(f"#{box['id']}", "class")
    page.tab.click("#collapse")
    hidden = page.tab.eval_on_selector_all("g.node.hidden", "els => els.length")
    assert hidden == sum(2 if order[i].op else 1 for g in ex.groups for i in g["members"])
    assert page.messages == []


def test_without_dot_the_layered_layout_steps_the_same_way(page, monkeypatch):
    def missing(*args, **kwargs):
        raise graphviz.ExecutableNotFound(["dot"])

    monkeypatch.setattr(graphviz.Digraph, "pipe", missing)
    loss, model = mlp_step()
    order = autograd.graph.walk(loss)
    page.open(explore(loss, model=model))
    assert "apt-get install graphviz" in page.text("#notice")
    seen = []
    for _ in range(4):
        page.tab.keyboard.press("ArrowRight")
        seen.extend(page.current()[0])
    assert seen == [position(order, step.node) for step in explain_backward(loss)]
    assert page.messages == []


def load_example(name, monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_demo_step_page_is_under_a_megabyte_and_plays_without_console_messages(
        page, tmp_path, monkeypatch, capsys):
    digits, demo = load_example("digits", monkeypatch), load_example("demo", monkeypatch)
    nn.manual_seed(digits.SEED)
    X_train, _, y_train, _ = digits.load()
    model = digits.make_model()
    path = demo.explore_step(model, X_train[:demo.STEP_IMAGES], y_train[:demo.STEP_IMAGES],
                             tmp_path / "demo_step.html")
    assert f"wrote {path.resolve()}" in capsys.readouterr().out
    assert path.stat().st_size < 1_000_000
    page.tab.goto(path.as_uri())
    page.tab.wait_for_selector("body[data-ready=true]")
    page.tab.keyboard.press("End")
    page.tab.click("#mode-forward")
    page.tab.keyboard.press("End")
    page.tab.click("#collapse")
    assert "examples/demo.py" in page.text("#panel")  # record() saw the demo's own line
    assert page.messages == []


def big_graph(layers):
    """A chain of `layers` tanh layers: 8 drawn nodes each (x @ w + b, tanh; w and b)."""
    rng = np.random.default_rng(0)
    h = Tensor(rng.normal(size=(4, 6)))
    for k in range(layers):
        w = Tensor(rng.normal(size=(6, 6)) * 0.4, requires_grad=True, name=f"w{k}")
        b = Tensor(np.zeros(6), requires_grad=True, name=f"b{k}")
        h = (h @ w + b).tanh()
    return (h * h).sum()


def test_a_graph_of_a_thousand_nodes_loads_and_steps_without_freezing(page):
    loss = big_graph(125)
    start = time.perf_counter()
    ex = explore(loss)
    build = time.perf_counter() - start
    drawn = sum(2 if n["op"] else 1 for n in ex.nodes)
    assert drawn >= 1000
    load = page.open(ex)
    step_ms = page.tab.evaluate("""() => {
        document.getElementById("last").click();  // the slowest steps: the end of the pass
        const start = performance.now();
        for (let k = 0; k < 20; k++) document.getElementById("prev").click();
        return (performance.now() - start) / 20; }""")
    start = time.perf_counter()
    for _ in range(20):
        page.tab.keyboard.press("ArrowRight")
    key_ms = (time.perf_counter() - start) / 20 * 1000
    print(f"\n{drawn} drawn nodes ({len(ex.html) / 1e6:.1f} MB): explore() {build:.2f} s, "
          f"page load {load:.2f} s, one step {step_ms:.1f} ms in the page, "
          f"{key_ms:.0f} ms per arrow key from Python", file=sys.stderr)
    # Bounds far above what is measured (see the README): they catch a page that freezes.
    assert load < 20 and step_ms < 250
    assert page.messages == []


def test_the_notebook_display_runs_the_page_inside_its_sandboxed_iframe(page, tmp_path):
    """What Jupyter (trusted output) and VS Code put in a cell: the _repr_html_ fragment."""
    loss, model = mlp_step()
    order = autograd.graph.walk(loss)
    ex = explore(loss, model=model)
    host = tmp_path / "notebook_cell.html"
    host.write_text(f"<!DOCTYPE html><html><body><p>a cell</p>{ex._repr_html_()}</body></html>")
    page.tab.goto(host.as_uri())
    frame = page.tab.frame_locator("iframe")
    frame.locator("body[data-ready=true]").wait_for()
    frame.locator("#next").click()
    frame.locator("#next").click()
    current = frame.locator("g.node.current").evaluate_all("els => els.map(e => e.id)")
    second = position(order, explain_backward(loss)[1].node)
    assert sorted(current) == [f"o{second}", f"t{second}"]
    assert "backward step 2 / 4" in frame.locator("#counter").inner_text()
    assert page.messages == []
