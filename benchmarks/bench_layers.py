"""Benchmark: training steps of networks built from npgrad's layers against PyTorch eager.

    .venv/bin/python benchmarks/bench_layers.py                      # everything, a minute or two
    .venv/bin/python benchmarks/bench_layers.py --quick --steps 3    # a smoke run, seconds
    .venv/bin/python benchmarks/bench_layers.py --workloads cnn --dtype float32 --json r.json

Each workload is one training step, built for every implementation from the same weights and fed
the same batches; their losses must agree (exit status 1 if not). Measured: the median ms per
step (the implementations take turns, run after run), npgrad's over PyTorch's, and the peak of
the memory one npgrad step allocates (tracemalloc) over the size of its activations (every array
its graph holds: the input and each op's output). PyTorch is optional: without it, its rows
are left out. Workloads live in WORKLOADS, a name -> builder dict, so more can join.
"""

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clone, uninstalled
sys.path.insert(0, str(Path(__file__).resolve().parent))

import measure as common  # noqa: E402  (timing, memory and machine helpers)
from mlp_workloads import batch_indices, npgrad_sgd_step, torch_sgd_step  # noqa: E402

import nn  # noqa: E402
from autograd import Tensor  # noqa: E402
from autograd.engine import toposort  # noqa: E402

SEED = 0
DTYPES = ("float64", "float32")
RTOL = {"float64": 1e-6, "float32": 1e-3}  # losses must agree to this relative tolerance
MIN_REPEATS, MIN_SAMPLES = 3, 200  # whole runs per implementation, and timed steps at least
MAX_RATIO_TO_TORCH = {"cnn": 1.5}  # issue 20: npgrad's step at most 1.5x PyTorch eager's
MAX_PEAK_OVER_ACTIVATIONS = 2.0  # issue 20: a step's peak at most 2x its activations


@dataclass
class Setup:
    """One workload in one dtype: `builders[impl]()` makes a fresh `step(i) -> loss` from the
    same initial weights; `n_steps` batches; `graph(i)` is npgrad's loss of batch i (its graph
    held, not yet differentiated), to count the activations."""

    name: str
    n_steps: int
    builders: dict
    graph: object
    notes: dict = field(default_factory=dict)


# ---------------------------------------------------------------- the digits CNN
CNN_CHANNELS, CNN_BATCH, CNN_LR = (32, 64), 64, 0.05


def cnn_model(dtype: str) -> nn.Sequential:
    """The network of examples/digits_cnn.py (a test checks that they agree)."""
    c1, c2 = CNN_CHANNELS
    return nn.Sequential(
        nn.Conv2d(1, c1, 3, padding=1, dtype=dtype), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3, padding=1, dtype=dtype), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(c2 * 4, 10, dtype=dtype),
    )


def torch_cnn(torch, dtype: str):
    c1, c2 = CNN_CHANNELS
    t = getattr(torch, dtype)
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, c1, 3, padding=1, dtype=t), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(c1, c2, 3, padding=1, dtype=t), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(c2 * 4, 10, dtype=t),
    )


def make_cnn(dtype: str, max_steps: int | None, torch) -> Setup:
    """One epoch of the digits (standardised, (n, 1, 8, 8)) in batches of 64, plain SGD."""
    digits = load_digits()
    X = (digits.data - digits.data.mean()) / digits.data.std()
    X = X.reshape(-1, 1, 8, 8).astype(dtype)
    labels = digits.target.astype(np.int64)
    idx = batch_indices(len(X), CNN_BATCH, len(X) // CNN_BATCH,
                               np.random.default_rng(SEED))[:max_steps]
    batches = [(X[i], labels[i]) for i in idx]
    nn.manual_seed(SEED)
    weights = [p.data.copy() for p in cnn_model(dtype).parameters()]

    def npgrad_model():
        model = cnn_model(dtype)
        for p, w in zip(model.parameters(), weights):
            p.data[...] = w
        return model

    def npgrad_step():
        model = npgrad_model()
        return npgrad_sgd_step(model, nn.functional.cross_entropy,
                               nn.optim.SGD(model.parameters(), lr=CNN_LR), batches)

    builders = {"npgrad": npgrad_step}
    if torch is not None:
        tbatches = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in batches]

        def torch_step():
            model = torch_cnn(torch, dtype)
            with torch.no_grad():
                for (name, p), w in zip(model.named_parameters(), weights):
                    # npgrad's Linear holds (in, out), PyTorch's (out, in); convolutions agree
                    p.copy_(torch.from_numpy(w.T.copy() if name == "7.weight" else w))
            return torch_sgd_step(model, torch.nn.functional.cross_entropy,
                                  torch.optim.SGD(model.parameters(), lr=CNN_LR), tbatches)

        builders["torch"] = torch_step

    def graph(i):
        x, y = batches[i]
        return nn.functional.cross_entropy(npgrad_model()(x), y)

    return Setup("cnn", len(batches), builders, graph,
                 notes=dict(model="digits_cnn: conv 1-32, pool, conv 32-64, pool, linear",
                            batch=CNN_BATCH))


# Name -> make(dtype, max_steps, torch or None) -> Setup (the LSTM step has its own script,
# bench_rnn.py; a workload here needs only a builder).
WORKLOADS = {"cnn": make_cnn}


# ---------------------------------------------------------------- measuring
def activation_bytes(loss: Tensor) -> int:
    """Bytes of every array the graph of `loss` holds for backward: the data that enters it
    (constants feeding a recorded op) and each recorded op's output; parameters left out."""
    nodes = toposort(loss)
    held = {id(n.data): n.data.nbytes for n in nodes if n.op is not None}
    for n in nodes:
        for p in n.parents:
            if not p.requires_grad:  # the input batch, targets, constants
                held[id(p.data)] = p.data.nbytes
    return sum(held.values())


def step_peak_bytes(setup: Setup) -> float:
    """Peak memory allocated during one npgrad step (model and batch made beforehand)."""
    step = setup.builders["npgrad"]()
    step(0)  # a first step outside the trace: lazily made arrays (optimizer state) exist now
    return common.traced_peak_mb(lambda: step(1 % setup.n_steps)) * 2**20


def run_workload(setup: Setup, dtype: str, repeats: int | None) -> list:
    if repeats is None:
        repeats = max(MIN_REPEATS, -(-MIN_SAMPLES // setup.n_steps))
    timed = common.time_implementations(setup.builders, setup.n_steps, repeats)
    activations = activation_bytes(setup.graph(0))
    peak = step_peak_bytes(setup)
    rows = []
    for impl, (seconds, final) in timed.items():
        row = dict(workload=setup.name, dtype=dtype, impl=impl, seconds=seconds,
                   final=float(final[0]), **setup.notes)
        if impl == "npgrad":
            row.update(activation_mb=activations / 2**20, peak_mb=peak / 2**20,
                       peak_over_activations=peak / activations)
        rows.append(row)
    return rows


def checks(rows: list) -> list:
    """Agreement of the final losses, the speed target and the memory target, per workload."""
    out = []
    for workload, dtype in dict.fromkeys((r["workload"], r["dtype"]) for r in rows):
        group = {r["impl"]: r for r in rows if (r["workload"], r["dtype"]) == (workload, dtype)}
        ours = group["npgrad"]
        check = dict(workload=workload, dtype=dtype,
                     peak_over_activations=ours["peak_over_activations"],
                     memory_ok=ours["peak_over_activations"] <= MAX_PEAK_OVER_ACTIVATIONS)
        if "torch" in group:
            theirs = group["torch"]
            rel = abs(ours["final"] - theirs["final"]) / abs(theirs["final"])
            ratio = ours["seconds"] / theirs["seconds"]
            bound = MAX_RATIO_TO_TORCH.get(workload)
            check.update(max_rel=rel, agree=bool(rel <= RTOL[dtype]), ratio_to_torch=ratio,
                         speed_ok=None if bound is None else bool(ratio <= bound))
        out.append(check)
    return out


def print_report(rows: list, results: list) -> None:
    print(f"{'workload':<10}{'dtype':<9}{'impl':<8}{'ms/step':>9}{'final loss':>13}"
          f"{'activations MB':>16}{'peak MB':>9}{'peak/act':>10}")
    for r in rows:
        memory = (f"{r['activation_mb']:>16.2f}{r['peak_mb']:>9.2f}"
                  f"{r['peak_over_activations']:>9.2f}x" if "peak_mb" in r else "")
        print(f"{r['workload']:<10}{r['dtype']:<9}{r['impl']:<8}{r['seconds'] * 1e3:>9.3f}"
              f"{r['final']:>13.6f}{memory}")
    print()
    for c in results:
        parts = [f"{c['workload']} {c['dtype']}:"]
        if "ratio_to_torch" in c:
            bound = MAX_RATIO_TO_TORCH.get(c["workload"])
            verdict = "" if bound is None else (f" (target <= {bound}x: "
                                                f"{'met' if c['speed_ok'] else 'MISSED'})")
            parts.append(f"npgrad/PyTorch time {c['ratio_to_torch']:.2f}x{verdict};")
            parts.append(f"losses agree to {c['max_rel']:.1e}: "
                         f"{'OK' if c['agree'] else 'MISMATCH'};")
        else:
            parts.append("no PyTorch;")
        parts.append(f"peak/activations {c['peak_over_activations']:.2f}x (target <= "
                     f"{MAX_PEAK_OVER_ACTIVATIONS}x: {'met' if c['memory_ok'] else 'MISSED'})")
        print(" ".join(parts))


# ---------------------------------------------------------------- main
def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dtype", choices=[*DTYPES, "both"], default="both")
    p.add_argument("--workloads", default=",".join(WORKLOADS),
                   help=f"comma-separated, from {','.join(WORKLOADS)} (default: all)")
    p.add_argument("--quick", action="store_true", help="one timed run each: a smoke test")
    p.add_argument("--steps", type=int, default=None, help="at most this many steps per run")
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = p.parse_args(argv)
    args.workloads = [w for w in args.workloads.split(",") if w]
    unknown = [w for w in args.workloads if w not in WORKLOADS]
    if unknown:
        p.error(f"unknown workloads {unknown}; choose from {', '.join(WORKLOADS)}")
    if args.steps is not None and args.steps < 2:
        p.error(f"--steps must be at least 2 (one step is traced after a first), got {args.steps}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    dtypes = DTYPES if args.dtype == "both" else (args.dtype,)
    threads, blas = common.blas_info()
    torch = common.load_torch(threads)
    machine = common.machine_info(threads, blas, torch)
    print(f"CPU: {machine['cpu']}, {machine['cores']} cores | numpy {machine['numpy']} ({blas}, "
          f"{threads} threads) | PyTorch {machine['torch'] or 'not installed'}"
          f"{f' ({threads} threads)' if torch else ''}")
    print("Median wall time per training step; peak = tracemalloc's peak during one npgrad "
          "step; activations = the arrays its graph holds.\n")
    start = common.cpu_snapshot()
    rows = []
    for dtype in dtypes:
        for name in args.workloads:
            common.progress(f"{name} {dtype}")
            setup = WORKLOADS[name](dtype, args.steps, torch)
            rows += run_workload(setup, dtype, 1 if args.quick else None)
    competition = common.other_load(start, common.cpu_snapshot())
    results = checks(rows)
    print_report(rows, results)
    if competition is not None:
        print(f"\nOther processes kept {competition:.2f} of the {machine['cores']} cores busy "
              "during the timings" + (": timings are distorted." if competition > 0.25 else "."))
    failed = [f"{c['workload']} {c['dtype']} losses" for c in results if not c.get("agree", True)]
    if args.json:
        args.json.write_text(json.dumps(dict(machine=machine, other_cores_busy=competition,
                                             rows=rows, checks=results, failed=failed),
                                        indent=2))
    if failed:
        print(f"\nFAILED: {', '.join(failed)}")
        return 1
    print("\nall checks passed: the implementations agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
