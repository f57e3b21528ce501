"""Run examples/draw_graph.py and examples/hand_derived.py as users do, and check their outputs.

Each runs in a temporary directory (they write to ./out), as a subprocess of this Python.
"""

import importlib.util
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from dot_source import source_graph, svg_graph

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(name, cwd, path=None):
    env = dict(os.environ, PATH=path) if path is not None else None
    done = subprocess.run([sys.executable, "-W", "error", str(EXAMPLES / name)], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def node_texts(path):
    """Each node's label lines, from an SVG picture or from a .gv source."""
    if path.suffix == ".gv":
        return [node["texts"] for node in source_graph(path.read_text())[0].values()]
    return [node["texts"] for node in svg_graph(path.read_bytes())[0].values()]


def check_draw_graph_example(folder, suffix):
    """The 2-3-1 network's graph names its parameters; the one with rules shows each op's
    rules; the blown-up one marks its first -inf."""
    nodes = node_texts(folder / f"graph{suffix}")
    titles = {texts[0] for texts in nodes}
    names = {"layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"}
    assert names | {"root"} <= titles
    weight = next(texts for texts in nodes if texts[0] == "layers.0.weight")
    assert weight[1] == "(2, 3) float64" and weight[2].startswith("value [[")
    assert any(text.startswith("grad [[") for text in weight)
    assert not any("non-finite" in text for texts in nodes for text in texts)

    rules = node_texts(folder / f"graph_rules{suffix}")  # logits, fused loss, show_rules
    assert ["linear", "dx = g @ w.T", "dw = x.T @ g", "db = g summed over the batch"] in rules
    assert ["relu", "dx = g * (x > 0)"] in rules
    assert ["bce_with_logits reduction='mean'", "dx = g * (sigmoid(x) - t) / n",
            "dt = -g * x / n"] in rules

    blown = node_texts(folder / f"graph_nan{suffix}")
    firsts = [texts for texts in blown if "!! first non-finite value here" in texts]
    assert len(firsts) == 1 and any(text.endswith("-inf") for text in firsts[0])


@pytest.mark.needs_dot
def test_draw_graph_example_writes_named_svgs(tmp_path):
    out = run("draw_graph.py", tmp_path)
    assert "wrote out/graph.svg" in out and "wrote out/graph_nan.svg" in out
    assert "wrote out/graph_rules.svg" in out
    check_draw_graph_example(tmp_path / "out", ".svg")
    check_explained(out)
    for name in ("graph.svg", "graph_rules.svg", "graph_nan.svg"):  # within a notebook's width
        width_pt = float(ET.parse(tmp_path / "out" / name).getroot().get("width")[:-2])
        assert width_pt <= 750  # 1,000 px at 96 dpi


def test_draw_graph_example_without_dot_writes_the_source(tmp_path):
    out = run("draw_graph.py", tmp_path, path=str(tmp_path))  # a PATH with no `dot` on it
    assert "graphviz's `dot` program is needed" in out
    assert "dot -Tsvg out/graph.gv -o out/graph.svg" in out
    assert not (tmp_path / "out" / "graph.svg").exists()
    check_draw_graph_example(tmp_path / "out", ".gv")
    check_explained(out)


def check_explained(out):
    """The printed backward pass: four nodes, loss first, each parameter's gradient norm."""
    table = out[out.index("explain_backward: 4 nodes"):].splitlines()
    assert [line.split()[1] for line in table[3:] if line[:1].isdigit()] == [
        "bce_with_logits", "linear", "relu", "linear"]
    assert sum("|grad|" in line for line in table) == 4


@pytest.mark.needs_dot
def test_draw_graph_docs_flag_writes_the_docs_picture(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("draw_graph_example", EXAMPLES / "draw_graph.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(example, "DOCS", tmp_path / "docs")
    (tmp_path / "docs").mkdir()
    example.main(["--docs"])
    for name in ("graph.svg", "graph_rules.svg"):
        assert (tmp_path / "docs" / name).read_bytes() == (tmp_path / "out" / name).read_bytes()


def test_hand_derived_example_passes_catches_mistakes_and_checks_seed_001s_deltas(tmp_path):
    out = run("hand_derived.py", tmp_path)
    reports = out.split("\n\n")
    assert reports[0].startswith("correct derivation:\ncompare_grads: all match, 4 of 4 ok")
    assert "sigmoid_prime(a2) instead of sigmoid_prime(z2)" in reports[1]
    assert "compare_grads: MISMATCH, 0 of 4 ok" in reports[1]
    assert "dW2 instead of W2" in reports[2]
    # Only the first layer is wrong when dW2 stands in for W2.
    assert "compare_grads: MISMATCH, 2 of 4 ok" in reports[2]
    assert reports[2].count("FAIL: values differ") == 2
    # Seed 001's deltas, checked against the engine's intermediate gradients dJ/dz2, dJ/dz1.
    assert reports[3].startswith("seed 001's deltas, for J = 0.5 * sum((out - y)^2):\n"
                                 "compare_grads: all match, 2 of 2 ok")
    assert "sigmoid' at the output" in reports[4] and "MISMATCH, 0 of 2 ok" in reports[4]
    assert "np.mean((out - y)**2)" in reports[5] and "MISMATCH, 0 of 2 ok" in reports[5]
    for delta in ("dJ/dz2", "dJ/dz1"):  # the mean's 1/8 against 0.5 * sum's derivative
        assert f"\n{delta}: all x4 the engine's: " in reports[5]
        assert ("0.5 * sum against a mean loss over 4 samples x 2 outputs = 8 entries?"
                in reports[5])
    assert (tmp_path / "out" / "hand_derived.txt").read_text() in out
