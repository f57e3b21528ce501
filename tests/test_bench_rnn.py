"""benchmarks/bench_rnn.py runs end to end in its quick mode, with and without PyTorch.

Checks what the script reports, never how fast anything is: a row per dtype and implementation,
and (with PyTorch) the losses of every step agree.
"""

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_rnn.py"
HAS_TORCH = importlib.util.find_spec("torch") is not None


def run_script(*args, env=None):
    proc = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_quick_run_prints_every_row_and_the_losses_agree(tmp_path):
    out = run_script("--quick", "--steps", "2", "--json", str(tmp_path / "r.json"))
    result = json.loads((tmp_path / "r.json").read_text())
    impls = ["npgrad", "compiled"] + (["torch"] if HAS_TORCH else [])
    expected = {(d, i) for d in ("float64", "float32") for i in impls}
    assert {(r["dtype"], r["impl"]) for r in result["rows"]} == expected
    for dtype, impl in expected:
        assert re.search(rf"^{dtype}\s+{impl}\s+\d+\.\d+\s+\d+\.\d+x", out, re.M)
    assert result["failed"] == [] and "all checks passed" in out
    finals = {(r["dtype"], r["impl"]): r["final"] for r in result["rows"]}
    for dtype in ("float64", "float32"):  # the replayed step: the same bits as eager
        assert finals[dtype, "compiled"] == finals[dtype, "npgrad"]
    if HAS_TORCH:
        assert [a["ok"] for a in result["agreement"]] == [True, True]
        assert out.count("agree with PyTorch's: OK") == 2


def test_runs_without_torch(tmp_path):
    (tmp_path / "torch.py").write_text("raise ImportError('no torch here')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path),
                                                        os.environ.get("PYTHONPATH", "")])}
    out = run_script("--quick", "--steps", "1", "--dtype", "float32",
                     "--json", str(tmp_path / "r.json"), env=env)
    result = json.loads((tmp_path / "r.json").read_text())
    assert [r["impl"] for r in result["rows"]] == ["npgrad", "compiled"]
    assert result["torch"] is None
    assert "PyTorch not installed" in out


def test_agreement_check_catches_a_different_loss():
    spec = importlib.util.spec_from_file_location("bench_rnn", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.agreement([0.5, 2.0], [0.5, 2.0 * (1 + 1e-12)], "float64")[0]
    ok, worst = bench.agreement([0.5, 2.0], [0.5, 2.0 * (1 + 1e-6)], "float64")
    assert not ok and abs(worst - 1e-6) < 1e-9
    assert bench.agreement([0.5, 2.0], [0.5, 2.0 * (1 + 1e-6)], "float32")[0]
    assert not bench.agreement([float("nan")], [0.5], "float32")[0]
