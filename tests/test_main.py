"""`python -m autograd SCRIPT`: runs a script and draws the graph of its last backward()."""

import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from dot_source import source_texts

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
