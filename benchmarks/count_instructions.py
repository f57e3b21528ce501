"""Instructions per training step, counted by callgrind: a clock-free measure of eager cost.

On a shared machine wall time drifts; the number of instructions a step executes does not.
This script runs bench_mlp's workloads (the same builders, from mlp_workloads.py) under
valgrind's callgrind twice, once with N steps and once with none, after the same warm-up, and
reports the difference / N:

    PYTHONPATH=$PWD .venv/bin/python benchmarks/count_instructions.py
    PYTHONPATH=$PWD .venv/bin/python benchmarks/count_instructions.py \\
        --workloads digits32,moons --dtypes float64 --impls numpy,npgrad --steps 200

`deepchain` is one forward and backward pass through CHAIN_OPS elementwise ops (bench_mlp's
deepchain, shorter: the cost per op is what counts, and it does not depend on the length).
Each measurement runs this file's `run` mode in a child process as

    OPENBLAS_NUM_THREADS=1 PYTHONHASHSEED=0 valgrind --tool=callgrind \\
        --callgrind-out-file=DIR/NAME.cg python count_instructions.py run ...

and keeps the callgrind files in --out (default /tmp/count_instructions), to read with
`callgrind_annotate`. Needs valgrind; a run takes about a minute per row (valgrind is slow).
"""

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHAIN_OPS = 10_000
WARMUP = 5  # steps run before counting starts, in both runs: caches, first-call costs


def build_step(workload: str, dtype: str, impl: str):
    """`(step(i), number of distinct batches)` for one of bench_mlp's implementations."""
    sys.path.insert(0, str(HERE))
    import mlp_workloads as bench
    import numpy as np

    if workload == "deepchain":
        x0 = np.random.default_rng(bench.SEED).uniform(-1, 1, bench.CHAIN_SIZE).astype(dtype)
        return bench.CHAIN_BUILDERS[impl](CHAIN_OPS, x0), 1
    (work,) = bench.make_workloads([workload], dtype, None)
    weights = bench.initial_weights(work.sizes, work.activation)
    return bench.MLP_BUILDERS[impl](work, weights, dtype), len(work.batches)


def run(args) -> None:
    """The child: build the step, warm it up, then run `args.steps` more steps."""
    step, n_batches = build_step(args.workload, args.dtype, args.impl)
    for i in range(WARMUP + args.steps):
        step(i % n_batches)


def callgrind_total(path: Path) -> int:
    """The total instruction count in a callgrind output file."""
    match = re.search(r"^(?:summary|totals):\s*(\d+)", path.read_text(), re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no instruction total in {path}")
    return int(match.group(1))


def measure(workload: str, dtype: str, impl: str, steps: int, out: Path) -> int:
    """Instructions of `steps` steps: a run with them minus a run without (same warm-up)."""
    totals = []
    for n in (0, steps):
        cg = out / f"{workload}.{dtype}.{impl}.{n}.cg"
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONHASHSEED="0")
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={cg}", sys.executable,
               __file__, "run", "--workload", workload, "--dtype", dtype, "--impl", impl,
               "--steps", str(n)]
        done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True)
        if done.returncode:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
        totals.append(callgrind_total(cg))
    return totals[1] - totals[0]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="mode")
    child = sub.add_parser("run", help="(internal) run the steps that valgrind counts")
    child.add_argument("--workload", required=True)
    child.add_argument("--dtype", required=True)
    child.add_argument("--impl", required=True)
    child.add_argument("--steps", type=int, required=True)
    p.add_argument("--workloads", default="digits32,moons,deepchain")
    p.add_argument("--dtypes", default="float64,float32")
    p.add_argument("--impls", default="numpy,npgrad")
    p.add_argument("--steps", type=int, default=200, help="steps counted (deepchain: 10)")
    p.add_argument("--out", type=Path, default=Path("/tmp/count_instructions"))
    args = p.parse_args(argv)
    if args.mode == "run":
        run(args)
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"{'workload':<11}{'dtype':<9}{'impl':<9}{'instructions/step':>18}{'per op':>10}")
    for workload in args.workloads.split(","):
        steps = 10 if workload == "deepchain" else args.steps
        for dtype in args.dtypes.split(","):
            for impl in args.impls.split(","):
                per_step = measure(workload, dtype, impl, steps, args.out) / steps
                per_op = f"{per_step / CHAIN_OPS:10.0f}" if workload == "deepchain" else ""
                print(f"{workload:<11}{dtype:<9}{impl:<9}{per_step:18,.0f}{per_op}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
