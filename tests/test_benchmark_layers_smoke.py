"""benchmarks/bench_layers.py runs end to end in its quick mode, with and without PyTorch.

Checks what the script reports, never how fast anything is: every workload and dtype gets its
rows, npgrad and PyTorch reach the same losses from the same weights, the activations and the
peak are measured, and the benchmark's CNN is the example's.
"""

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "bench_layers.py"
HAS_TORCH = importlib.util.find_spec("torch") is not None


def run_script(*args, env=None):
    proc = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_run_reports_every_row_and_the_losses_agree(tmp_path):
    out = run_script("--quick", "--steps", "3", "--json", str(tmp_path / "r.json"))
    result = json.loads((tmp_path / "r.json").read_text())
    impls = ["npgrad"] + (["torch"] if HAS_TORCH else [])
    expected = {("cnn", d, i) for d in ("float64", "float32") for i in impls}
    assert {(r["workload"], r["dtype"], r["impl"]) for r in result["rows"]} == expected
    for _, dtype, impl in expected:
        assert re.search(rf"^cnn\s+{dtype}\s+{impl}\s+\d+\.\d+\s+\d+\.\d+", out, re.M)
    assert result["failed"] == [] and "all checks passed" in out
    for c in result["checks"]:
        assert 0.5 < c["peak_over_activations"] < 10  # measured, and of a sensible size
        if HAS_TORCH:
            assert c["agree"] and c["ratio_to_torch"] > 0
            assert f"losses agree to {c['max_rel']:.1e}: OK" in out
    rows = {(r["dtype"], r["impl"]): r for r in result["rows"]}
    # float32 halves the activations: the count follows the arrays, not a constant
    assert np.isclose(rows["float32", "npgrad"]["activation_mb"] * 2,
                      rows["float64", "npgrad"]["activation_mb"], rtol=0.05)
    if HAS_TORCH:
        np.testing.assert_allclose(rows["float64", "npgrad"]["final"],
                                   rows["float64", "torch"]["final"], rtol=1e-9)


def test_runs_without_torch(tmp_path):
    (tmp_path / "torch.py").write_text("raise ImportError('no torch here')\n")
    path = os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])
    out = run_script("--quick", "--steps", "2", "--dtype", "float64",
                     "--json", str(tmp_path / "r.json"), env={**os.environ, "PYTHONPATH": path})
    result = json.loads((tmp_path / "r.json").read_text())
    assert [r["impl"] for r in result["rows"]] == ["npgrad"]
    assert "not installed" in out and "no PyTorch" in out


def test_the_benchmarks_cnn_is_the_examples(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    example = load(ROOT / "examples" / "digits_cnn.py", "example_digits_cnn")
    bench = load(SCRIPT, "bench_layers")
    assert repr(bench.cnn_model("float64")) == repr(example.make_model())


def test_activations_count_each_array_of_the_graph_once():
    bench = load(SCRIPT, "bench_layers")
    from autograd import Tensor

    x = Tensor(np.ones((4, 3)))
    w = Tensor(np.ones((3, 2)), requires_grad=True)
    h = x @ w  # 4 x 2 doubles, and the input's 4 x 3
    loss = (h * h).sum()  # h read twice: counted once; the product and the sum: 8 + 1 more
    assert bench.activation_bytes(loss) == 8 * (12 + 8 + 8 + 1)
