"""Benchmark: an LSTM training step in npgrad against PyTorch eager, from the same weights.

    .venv/bin/python benchmarks/bench_rnn.py                      # the full run, under a minute
    .venv/bin/python benchmarks/bench_rnn.py --quick --steps 3    # a smoke run, seconds
    .venv/bin/python benchmarks/bench_rnn.py --dtype float32 --json results.json

The workload: nn.LSTM(INPUT, 64) over sequences of 20 steps, batch 32, a Linear head on the last
hidden state, mean squared error, one SGD step. Both implementations start from the same weights
and see the same batches, and their losses must agree (exit status 1 if not); the compiled
step (`nn.compile_step`) must give npgrad's losses bit for bit. Reported: the median
milliseconds per step and npgrad's time over each row's. PyTorch is optional.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clone, uninstalled

import nn  # noqa: E402

SEED = 0
BATCH, SEQ, INPUT, HIDDEN = 32, 20, 16, 64
LR = 0.05
STEPS, QUICK_STEPS = 60, 10  # timed steps per repeat
REPEATS = 3
RTOL = {"float64": 1e-8, "float32": 1e-3}  # the losses of every step must agree to this


def batches(steps: int, dtype) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(SEED)
    return [(rng.normal(size=(BATCH, SEQ, INPUT)).astype(dtype),
             rng.normal(size=(BATCH, 1)).astype(dtype)) for _ in range(steps)]


class Model(nn.Module):
    """LSTM (batch_first) and a Linear head on the final hidden state."""

    def __init__(self, dtype):
        self.lstm = nn.LSTM(INPUT, HIDDEN, batch_first=True, rng=np.random.default_rng(SEED),
                            dtype=dtype)
        self.head = nn.Linear(HIDDEN, 1, rng=np.random.default_rng(SEED + 1), dtype=dtype)

    def forward(self, x):
        _, (h_n, _) = self.lstm(x)
        return self.head(h_n[0])


def run_npgrad(data, dtype) -> tuple[list[float], list[float]]:
    """Seconds per step and the loss of each step."""
    model = Model(dtype)
    optimizer = nn.optim.SGD(model.parameters(), lr=LR)
    loss_fn = nn.MSELoss()
    times, losses = [], []
    for x, y in data:
        start = time.perf_counter()
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - start)
        losses.append(loss.item())
    return times, losses


def run_compiled(data, dtype) -> tuple[list[float], list[float]]:
    """The same step as `nn.compile_step` (recorded on the first call, then replayed)."""
    model = Model(dtype)
    step = nn.compile_step(model, nn.MSELoss(), nn.optim.SGD(model.parameters(), lr=LR))
    times, losses = [], []
    for x, y in data:
        start = time.perf_counter()
        losses.append(step(x, y))
        times.append(time.perf_counter() - start)
    return times, losses


def run_torch(torch, data, dtype) -> tuple[list[float], list[float]]:
    """The same model in PyTorch eager, with npgrad's initial weights copied in."""
    ours = Model(dtype)
    tdtype = getattr(torch, dtype)
    lstm = torch.nn.LSTM(INPUT, HIDDEN, batch_first=True, dtype=tdtype)
    head = torch.nn.Linear(HIDDEN, 1, dtype=tdtype)
    with torch.no_grad():
        for name, p in ours.lstm.named_parameters():
            getattr(lstm, name).copy_(torch.from_numpy(p.data))
        head.weight.copy_(torch.from_numpy(ours.head.weight.data.T))  # ours is (in, out)
        head.bias.copy_(torch.from_numpy(ours.head.bias.data))
    optimizer = torch.optim.SGD([*lstm.parameters(), *head.parameters()], lr=LR)
    times, losses = [], []
    for x, y in data:
        x, y = torch.from_numpy(x), torch.from_numpy(y)
        start = time.perf_counter()
        optimizer.zero_grad()
        _, (h_n, _) = lstm(x)
        loss = torch.nn.functional.mse_loss(head(h_n[0]), y)
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - start)
        losses.append(loss.item())
    return times, losses


def agreement(ours: list[float], theirs: list[float], dtype: str) -> tuple[bool, float]:
    """Whether every step's loss agrees within the dtype's tolerance, and the worst difference."""
    worst = float(np.max(np.abs(np.subtract(ours, theirs)) / np.abs(theirs)))
    return bool(worst <= RTOL[dtype]), worst  # (False for nan)


def blas_threads() -> int:
    """numpy's BLAS thread count (threadpoolctl if installed, else the cores)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return os.cpu_count() or 1
    pools = [p for p in threadpool_info() if p["user_api"] == "blas"]
    return pools[0]["num_threads"] if pools else os.cpu_count() or 1


def load_torch(threads: int):
    """PyTorch with numpy's thread count (as bench_mlp.py), or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return torch


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few steps, one repeat")
    parser.add_argument("--steps", type=int, default=None, help="timed steps per repeat")
    parser.add_argument("--dtype", default="float64,float32", help="float64, float32 or both")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args(argv)
    steps = args.steps or (QUICK_STEPS if args.quick else STEPS)
    repeats = 1 if args.quick else REPEATS
    threads = blas_threads()
    torch = load_torch(threads)
    print(f"LSTM training step: batch {BATCH}, sequence {SEQ}, input {INPUT}, hidden {HIDDEN}; "
          f"median of {steps} steps x {repeats} repeats")
    print(f"PyTorch {torch.__version__} eager, {threads} threads" if torch else
          "PyTorch not installed: no PyTorch column (pip install torch)")
    rows, agreements, failed = [], [], []
    print(f"{'dtype':8} {'impl':8} {'ms/step':>8} {'ratio':>7}")
    for dtype in args.dtype.split(","):
        data = batches(steps, dtype)
        results = {"npgrad": run_npgrad, "compiled": run_compiled}
        if torch:
            results["torch"] = lambda data, dtype: run_torch(torch, data, dtype)
        times, losses = {}, {}
        for impl, run in results.items():
            runs = [run(data, dtype) for _ in range(repeats)]
            times[impl] = statistics.median(t for r in runs for t in r[0]) * 1e3
            losses[impl] = runs[0][1]
        for impl in results:
            ratio = times["npgrad"] / times[impl]
            rows.append(dict(dtype=dtype, impl=impl, ms=times[impl], ratio=ratio,
                             final=losses[impl][-1]))
            print(f"{dtype:8} {impl:8} {times[impl]:8.2f} {ratio:6.2f}x")
        if losses["compiled"] != losses["npgrad"]:  # a replay computes the very same bits
            failed.append(f"{dtype} compiled")
        if torch:
            ok, worst = agreement(losses["npgrad"], losses["torch"], dtype)
            agreements.append(dict(dtype=dtype, ok=ok, max_rel=worst))
            print(f"{dtype}: losses of every step agree with PyTorch's: "
                  f"{'OK' if ok else 'MISMATCH'} (max relative difference {worst:.1e})")
            if not ok:
                failed.append(dtype)
    print("ratio: npgrad's median step time over this row's (npgrad's row is 1.00x)")
    if args.json:
        args.json.write_text(json.dumps(dict(rows=rows, agreement=agreements, failed=failed,
                                             torch=torch.__version__ if torch else None),
                                        indent=2))
    print("all checks passed" if not failed else f"FAILED: {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
