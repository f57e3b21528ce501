"""`python -m autograd SCRIPT`: runs a script and draws the graph of its last backward()."""

import re
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from dot_source import source_graph, source_texts

from autograd.graph import MAX_WIDTH

SCRIPT = """
import sys
from autograd import Tensor
w = Tensor([0.5, -1.0], requires_grad=True, name="weights")
x = Tensor([[1.0, 2.0], [3.0, float(sys.argv[1])]])
((x @ w).tanh() ** 2).sum().backward()
((x @ w).exp()).sum().backward()
print("grad", w.grad)
"""


def run(tmp_path, *args):
    return subprocess.run([sys.executable, "-m", "autograd", *args], capture_output=True,
                          text=True, cwd=tmp_path, timeout=60)


@pytest.mark.needs_dot
def test_draws_the_last_backward_of_the_script(tmp_path):
    (tmp_path / "train.py").write_text(SCRIPT)
    proc = run(tmp_path, "--out", "g.svg", "train.py", "4.0")
    assert proc.returncode == 0, proc.stderr
    assert "grad" in proc.stdout and "wrote g.svg" in proc.stdout
    svg = ET.parse(tmp_path / "g.svg").getroot()
    text = " ".join(t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}text"))
    assert "weights" in text
    assert "exp" in text and "tanh" not in text  # the second backward's graph, not the first
    assert "grad" in text  # values and gradients are shown


def test_script_without_backward_is_an_error(tmp_path):
    (tmp_path / "nothing.py").write_text("x = 1\n")
    proc = run(tmp_path, "--out", "g.svg", "nothing.py")
    assert proc.returncode == 1
    assert "never called backward()" in proc.stderr
    assert not (tmp_path / "g.svg").exists()


def test_gv_output_needs_no_dot(tmp_path):
    (tmp_path / "train.py").write_text(SCRIPT)
    proc = run(tmp_path, "--out", "g.gv", "train.py", "1.0")
    assert proc.returncode == 0, proc.stderr
    source = (tmp_path / "g.gv").read_text()
    assert source.startswith("digraph")
    texts = source_texts(source)
    assert "weights" in texts and "exp" in texts and "tanh" not in texts  # the last backward
    assert any(text.startswith("grad ") for text in texts)


def test_the_scripts_folder_is_importable_as_with_python_script(tmp_path):
    # `python -m autograd examples/x.py` from the repository root failed on the example's
    # own `import _common`
    folder = tmp_path / "examples"
    folder.mkdir()
    (folder / "_helpers.py").write_text("SCALE = 3.0\n")
    (folder / "train.py").write_text("from _helpers import SCALE\n" + SCRIPT.replace(
        "x = Tensor(", "x = SCALE * Tensor("))
    proc = run(tmp_path, "--out", "g.gv", "examples/train.py", "1.0")
    assert proc.returncode == 0, proc.stderr
    assert "import" not in proc.stderr and (tmp_path / "g.gv").exists()


# A 3-8-8-2 network's training step: drawn left to right it was a 960 x 157 px strip whose
# parameters were all labelled "parameter".
NETWORK = """
import numpy as np
import nn
from autograd import Tensor

def main():
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))
    x = Tensor(np.random.default_rng(0).standard_normal((4, 3)))
    loss = ((model(x) - np.ones((4, 2))) ** 2).mean()
    loss.backward()

MAIN
"""
PARAMETERS = [f"layers.{i}.{p}" for i in (0, 2, 4) for p in ("weight", "bias")]


def network(tmp_path, local=False):
    """The network script, its model global (main() runs at import) or local to main()."""
    body = NETWORK.replace("MAIN", "main()" if local else "")
    if not local:  # the model at the top level of the script, as most scripts have it
        body = body.replace("def main():\n", "").replace("\n    ", "\n")
    (tmp_path / "train.py").write_text(body)


def png_size(path):
    """(width, height) in pixels, from the PNG header's IHDR chunk."""
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def parameter_labels(source):
    """The first label line of every parameter node (blue boxes) in a DOT source."""
    nodes, _ = source_graph(source)
    return sorted(node["texts"][0] for node in nodes.values() if "#cfe3ff" in node["fills"])


@pytest.mark.needs_dot
def test_a_network_is_drawn_top_to_bottom_within_the_width_limit(tmp_path):
    network(tmp_path)
    proc = run(tmp_path, "--out", "g.png", "train.py")
    assert proc.returncode == 0, proc.stderr
    width, height = png_size(tmp_path / "g.png")
    assert width <= MAX_WIDTH * 96 and height > width, (width, height)


@pytest.mark.parametrize("local", [False, True])
def test_parameters_are_named_after_the_scripts_modules(tmp_path, local):
    network(tmp_path, local)
    proc = run(tmp_path, "--out", "g.gv", "train.py")
    assert proc.returncode == 0, proc.stderr
    source = (tmp_path / "g.gv").read_text()
    assert re.search(r"\brankdir=TB\b", source) and 'size="10,' in source
    assert parameter_labels(source) == sorted(PARAMETERS)
    assert "layers.0.weight" in source_texts(source)


def test_two_models_name_every_parameter_once(tmp_path):
    # The whole model names its parameters, not `first = model[0]`; a second model whose names
    # collide is prefixed with its variable.
    (tmp_path / "train.py").write_text(
        "import nn\nfrom autograd import Tensor\n"
        "model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))\n"
        "first = model[0]\n"
        "head = nn.Sequential(nn.Linear(1, 1))\n"
        "head(model(Tensor([[1.0, 2.0]]))).sum().backward()\n")
    proc = run(tmp_path, "--out", "g.gv", "train.py")
    assert proc.returncode == 0, proc.stderr
    labels = parameter_labels((tmp_path / "g.gv").read_text())
    assert labels == sorted(["layers.0.weight", "layers.0.bias", "layers.2.weight",
                             "layers.2.bias", "head.layers.0.weight", "head.layers.0.bias"])


def test_left_to_right_and_natural_size_stay_available(tmp_path):
    network(tmp_path)
    proc = run(tmp_path, "--out", "g.gv", "--rankdir", "LR", "--max-width", "0", "train.py")
    assert proc.returncode == 0, proc.stderr
    source = (tmp_path / "g.gv").read_text()
    assert re.search(r"\brankdir=LR\b", source) and not re.search(r"\bsize=", source)
    assert parameter_labels(source) == sorted(PARAMETERS)
