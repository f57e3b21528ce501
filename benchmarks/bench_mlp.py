"""Benchmark: training steps of npgrad against hand-written numpy (the floor) and PyTorch.

    .venv/bin/python benchmarks/bench_mlp.py                     # everything, a few minutes
    .venv/bin/python benchmarks/bench_mlp.py --quick --steps 3   # a smoke run, seconds
    .venv/bin/python benchmarks/bench_mlp.py --workloads digits32,moons --dtype float32 --json x

Every implementation starts from the same weights and sees the same batches in the same order,
and their final losses must agree (exit status 1 if not). PyTorch is optional: without it, its
rows are left out. benchmarks/README.md says what each workload and column means.
"""

import argparse
import gc
import json
import math
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # its modules, when loaded by path

from measure import (  # noqa: E402
    blas_info,
    cpu_snapshot,
    load_torch,
    machine_info,
    other_load,
    progress,
    release_freed_memory,
    rss_growth_mb,
    run_steps,
    status_mb,
    time_implementations,
    traced_peak_mb,
    traced_peaks_mb,
)
from mlp_report import (  # noqa: E402
    SOAK_FIRST,
    SOAK_STEPS,
    SOAK_TOLERANCE_MB,
    agreement,
    chain_memory,
    first_call_checks,
    print_summary,
    print_table,
    speedups,
    target_checks,
)
from mlp_workloads import (  # noqa: E402, F401 - count_instructions.py reads the builders here
    CHAIN_BUILDERS,
    CHAIN_SIZE,
    LABEL_IMPLS,
    MLP_BUILDERS,
    SEED,
    MLPWorkload,
    initial_weights,
    make_workloads,
    npgrad_mlp,
)

DTYPES = ("float64", "float32")
IMPLS = ("numpy", "npgrad", "compiled", "npgrad-int", "compiled-int", "torch")
MIN_REPEATS = 3  # each implementation runs its whole workload at least this often ...
MIN_SAMPLES = 300  # ... and until this many steps are timed (the median is taken over them)
CHAIN_OPS = (10_000, 100_000)  # deepchain lengths (multiply and add alternate)
CHAIN_OPS_QUICK = (1_000, 10_000)


def memory_mb(name: str, build, n_steps: int) -> dict:
    """Traced peak (None for PyTorch, which tracemalloc cannot see) and RSS growth of a run;
    for compiled steps also the traced peak of the first call alone (recording, planning,
    checking and compiling; None for the others)."""
    run = lambda: run_steps(build(), n_steps)  # noqa: E731
    first = None
    if name == "torch":
        traced = None
    elif name.startswith("compiled"):
        traced, first = traced_peaks_mb(build, n_steps)
    else:
        traced = traced_peak_mb(run)
    return dict(traced_mb=traced, first_mb=first, rss_mb=rss_growth_mb(run))


# ---------------------------------------------------------------- running the benchmark
def benchmark_mlp(work: MLPWorkload, dtype: str, impls: list, repeats: int | None) -> list:
    weights = initial_weights(work.sizes, work.activation)
    if work.loss != "cross_entropy":
        impls = [i for i in impls if i not in LABEL_IMPLS]
    builders = {name: (lambda b=MLP_BUILDERS[name]: b(work, weights, dtype)) for name in impls}
    n_steps = len(work.batches)
    if repeats is None:
        repeats = max(MIN_REPEATS, math.ceil(MIN_SAMPLES / n_steps))
    timed = time_implementations(builders, n_steps, repeats)
    return [dict(workload=work.name, dtype=dtype, impl=name, seconds=timed[name][0],
                 final=timed[name][1], **memory_mb(name, builders[name], n_steps))
            for name in impls]


def benchmark_chain(n_ops: int, dtype: str, impls: list, repeats: int) -> list:
    x0 = np.random.default_rng(SEED).uniform(-1, 1, CHAIN_SIZE).astype(dtype)
    impls = [impl for impl in impls if impl in CHAIN_BUILDERS]  # a chain is no training step
    builders = {name: (lambda b=CHAIN_BUILDERS[name]: b(n_ops, x0)) for name in impls}
    timed = time_implementations(builders, 1, repeats)
    name = f"deepchain{n_ops // 1000}k"
    return [dict(workload=name, dtype=dtype, impl=impl, seconds=timed[impl][0],
                 final=timed[impl][1], **memory_mb(impl, builders[impl], 1))
            for impl in impls]


def soak(dtype: str) -> dict:
    """5,000 npgrad steps on digits32: resident memory must stay flat (no graph kept alive)."""
    (work,) = make_workloads(["digits32"], dtype, None)
    step = npgrad_mlp(work, initial_weights(work.sizes, work.activation), dtype)
    n = len(work.batches)
    rss = {}
    release_freed_memory()
    for i in range(1, SOAK_STEPS + 1):
        step((i - 1) % n)
        if i in (SOAK_FIRST, SOAK_STEPS):
            release_freed_memory()  # what stays resident is memory still in use
            rss[i] = status_mb("VmRSS")
    if None in rss.values():
        return dict(dtype=dtype, rss_first_mb=None, rss_last_mb=None, growth_mb=None, ok=True)
    growth = rss[SOAK_STEPS] - rss[SOAK_FIRST]
    return dict(dtype=dtype, rss_first_mb=rss[SOAK_FIRST], rss_last_mb=rss[SOAK_STEPS],
                growth_mb=growth, ok=growth <= SOAK_TOLERANCE_MB)


WORKLOADS = ("digits32", "digits256", "moons", "wide", "deepchain")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dtype", choices=[*DTYPES, "both"], default="both")
    p.add_argument("--workloads", default=",".join(WORKLOADS),
                   help=f"comma-separated, from {','.join(WORKLOADS)} (default: all)")
    p.add_argument("--quick", action="store_true",
                   help="one timed run each, short deepchains, no soak: a smoke test")
    p.add_argument("--steps", type=int, default=None,
                   help="train for at most this many steps per run (MLP workloads)")
    p.add_argument("--soak", action=argparse.BooleanOptionalAction, default=None,
                   help=f"{SOAK_STEPS:,} npgrad steps watching resident memory (default: on "
                        "unless --quick)")
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = p.parse_args(argv)
    args.workloads = [w for w in args.workloads.split(",") if w]
    unknown = [w for w in args.workloads if w not in WORKLOADS]
    if unknown:
        p.error(f"unknown workloads {unknown}; choose from {', '.join(WORKLOADS)}")
    if args.steps is not None and args.steps < 1:
        p.error(f"--steps must be at least 1, got {args.steps}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    dtypes = DTYPES if args.dtype == "both" else (args.dtype,)
    threads, blas = blas_info()
    torch = load_torch(threads)
    impls = [i for i in IMPLS if i != "torch" or torch is not None]
    # Move every object alive now (PyTorch's modules above all) out of the collector's sight:
    # otherwise each full collection walks them all, costing whichever step triggers it.
    gc.freeze()
    machine = machine_info(threads, blas, torch)
    print(f"CPU: {machine['cpu']}, {machine['cores']} cores | Python {machine['python']} | "
          f"numpy {machine['numpy']} ({blas}, {threads} threads) | PyTorch "
          f"{machine['torch'] or 'not installed: its rows are left out'}"
          f"{f' ({threads} threads)' if torch else ''}")
    print("Median wall time per training step over all timed steps; 'vs numpy' divides by the "
          "hand-written numpy floor of the same run.\n")

    repeats = 1 if args.quick else None
    start = cpu_snapshot()
    rows = []
    for dtype in dtypes:
        for work in make_workloads(args.workloads, dtype, args.steps):
            progress(f"{work.name} {dtype}")
            rows += benchmark_mlp(work, dtype, impls, repeats)
        if "deepchain" in args.workloads:
            for n_ops in CHAIN_OPS_QUICK if args.quick else CHAIN_OPS:
                progress(f"deepchain {n_ops:,} ops {dtype}")
                rows += benchmark_chain(n_ops, dtype, impls, repeats or MIN_REPEATS)

    competition = other_load(start, cpu_snapshot())
    by_key = {(r["workload"], r["dtype"], r["impl"]): r for r in rows}
    for r in rows:
        r["vs_numpy"] = r["seconds"] / by_key[(r["workload"], r["dtype"], "numpy")]["seconds"]
    checks = []
    for workload, dtype in dict.fromkeys((r["workload"], r["dtype"]) for r in rows):
        finals = {r["impl"]: r["final"] for r in rows
                  if (r["workload"], r["dtype"]) == (workload, dtype)}
        ok, worst = agreement(finals, dtype)
        checks.append(dict(workload=workload, dtype=dtype, ok=ok, max_rel=worst))
    print_table(rows, checks)
    if competition is not None:
        print(f"Other processes kept {competition:.2f} of the {os.cpu_count()} cores busy, on "
              "average, during the timings" + (": timings are distorted, above all those of "
              "multi-threaded BLAS and OpenMP (PyTorch)" if competition > 0.25 else "."))

    summary = speedups(rows)
    targets = target_checks(summary) + first_call_checks(rows)
    memory = chain_memory(rows)
    run_soak = args.soak if args.soak is not None else not args.quick
    if run_soak:
        progress(f"soak: {SOAK_STEPS:,} npgrad steps")
    soak_result = soak(dtypes[0]) if run_soak else None
    print_summary(summary, targets, memory, soak_result)

    failed = [f"{c['workload']} {c['dtype']}" for c in checks if not c["ok"]]
    failed += [f"deepchain memory {m['dtype']}" for m in memory if m["linear"] is False]
    if soak_result and not soak_result["ok"]:
        failed.append("soak")
    if args.json:
        for r in rows:
            r["final"] = r["final"].tolist()
        args.json.write_text(json.dumps(dict(
            machine=machine, other_cores_busy=competition, rows=rows, agreement=checks,
            summary=summary, targets=targets, deepchain_memory=memory, soak=soak_result,
            failed=failed), indent=2))
    if failed:
        print(f"\nFAILED: {', '.join(failed)}")
        return 1
    print("\nall checks passed: the implementations agree"
          + (", npgrad's graph memory grows linearly" if memory else "")
          + (", the soak's memory stays flat" if soak_result else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
