"""benchmarks/bench_mlp.py runs end to end in its quick mode, with and without PyTorch.

Checks what the script reports, never how fast anything is: every workload, dtype and
implementation gets a row, the final losses agree, and the agreement check can fail.
"""

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_mlp.py"
HAS_TORCH = importlib.util.find_spec("torch") is not None


def run_script(*args, env=None):
    proc = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=120, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def load_script():
    spec = importlib.util.spec_from_file_location("bench_mlp", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_run_prints_every_row_and_the_losses_agree(tmp_path):
    out = run_script("--quick", "--steps", "3", "--json", str(tmp_path / "r.json"))
    result = json.loads((tmp_path / "r.json").read_text())

    impls = ["numpy", "npgrad"] + (["torch"] if HAS_TORCH else [])
    workloads = ["digits32", "digits256", "moons", "wide", "deepchain1k", "deepchain10k"]
    expected = {(w, d, i) for w in workloads for d in ("float64", "float32") for i in impls}
    # A compiled step is a training step: the MLP workloads have one, the deepchains none.
    expected |= {(w, d, "compiled") for w in workloads[:4] for d in ("float64", "float32")}
    # Integer-label rows (npgrad-int, compiled-int) where the loss is cross-entropy.
    expected |= {(w, d, i) for w in ("digits32", "digits256", "wide")
                 for d in ("float64", "float32") for i in ("npgrad-int", "compiled-int")}
    assert {(r["workload"], r["dtype"], r["impl"]) for r in result["rows"]} == expected
    for workload, dtype, impl in expected:  # and each is a line of the printed table
        assert re.search(rf"^{workload}\s+{dtype}\s+{impl}\s+\d+\.\d+\s+\d+\.\d+x", out, re.M)

    assert len(result["agreement"]) == len(workloads) * 2
    assert all(c["ok"] for c in result["agreement"])
    assert out.count("agreement: OK") == len(workloads) * 2 and "MISMATCH" not in out
    assert result["failed"] == [] and "all checks passed" in out
    # Three steps from the same weights on the same batches: the very same loss.
    finals = {(r["workload"], r["dtype"], r["impl"]): r["final"] for r in result["rows"]}
    for workload, dtype, impl in expected:
        if impl in ("npgrad", "compiled", "npgrad-int", "compiled-int"):
            np.testing.assert_allclose(finals[workload, dtype, impl],
                                       finals[workload, dtype, "numpy"], rtol=1e-5)
        if impl.startswith("compiled"):  # the same bits as the eager loop
            eager = impl.replace("compiled", "npgrad")
            assert finals[workload, dtype, impl] == finals[workload, dtype, eager]
    # npgrad's graph grows with the chain: ten times the ops, about ten times the memory.
    rows = {(r["workload"], r["dtype"], r["impl"]): r for r in result["rows"]}
    for dtype in ("float64", "float32"):
        assert rows["deepchain10k", dtype, "npgrad"]["traced_mb"] > \
            7 * rows["deepchain1k", dtype, "npgrad"]["traced_mb"] > 0
    memory = {(m["dtype"], m["impl"]): m["linear"] for m in result["deepchain_memory"]}
    assert memory["float64", "npgrad"] is memory["float32", "npgrad"] is True
    assert out.count("linear: OK") == 2
    assert "soak" not in out and result["soak"] is None  # --quick leaves the soak out
    assert ("PyTorch 2." in out) == HAS_TORCH


def test_runs_without_torch(tmp_path):
    # A module named torch that fails to import, found before the real one.
    (tmp_path / "torch.py").write_text("raise ImportError('no torch here')\n")
    path = os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    out = run_script("--quick", "--steps", "2", "--workloads", "moons", "--dtype", "float64",
                     "--json", str(tmp_path / "r.json"), env=env)
    result = json.loads((tmp_path / "r.json").read_text())
    assert {r["impl"] for r in result["rows"]} == {"numpy", "npgrad", "compiled"}
    assert "not installed" in out and "no PyTorch" in out
    assert result["agreement"] == [dict(workload="moons", dtype="float64", ok=True,
                                        max_rel=result["agreement"][0]["max_rel"])]
    assert result["agreement"][0]["max_rel"] < 1e-6


def test_agreement_check_catches_a_different_loss():
    bench = load_script()
    close = {"numpy": np.array([0.5]), "npgrad": np.array([0.5 * (1 + 1e-9)])}
    ok, worst = bench.agreement(close, "float64")
    assert ok and np.isclose(worst, 1e-9)
    off = {"numpy": np.array([0.5, 2.0]), "npgrad": np.array([0.5, 2.0 * (1 + 1e-5)])}
    ok, worst = bench.agreement(off, "float64")
    assert not ok and np.isclose(worst, 1e-5)
    assert bench.agreement(off, "float32")[0]  # within float32's tolerance
    nan = {"numpy": np.array([0.5]), "torch": np.array([np.nan])}
    assert not bench.agreement(nan, "float32")[0]
