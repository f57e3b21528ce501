"""Benchmark: the gradient functions users hand to scipy.optimize, eager against compiled.

    .venv/bin/python benchmarks/bench_functions.py             # the full run, about a minute
    .venv/bin/python benchmarks/bench_functions.py --quick     # a smoke run, seconds
    .venv/bin/python benchmarks/bench_functions.py --json results.json

The functions: examples/scipy_minimize.py's (`nn.utils.value_and_grad` and
`hessian_vector_product` of its 2-2-1 sigmoid network with biases on XOR) and
examples/gaussian_process.py's (`autograd.transforms.value_and_grad` of the negative log
marginal likelihood of 120 points). Each is called at the same arguments eagerly
(`compile=False`) and compiled, in interleaved rounds; every compiled result must have the
eager bits (exit status 1 if not). Reported: the median microseconds per call, and the wall
time of each whole example (`main()`, pictures included) with its COMPILE off and on, and the
load average around the run. The GP's time goes mostly to BLAS (Cholesky, solves and their
VJPs): on a busy machine its threads contend, so quote it with OPENBLAS_NUM_THREADS=1 too.
"""

import argparse
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a clone, uninstalled
sys.path.insert(0, str(ROOT / "examples"))  # the examples import their _common

import nn  # noqa: E402
from autograd.transforms import value_and_grad  # noqa: E402
from nn.utils import hessian_vector_product, parameters_to_vector  # noqa: E402

CALLS, QUICK_CALLS = 2000, 50  # timed calls per round
ROUNDS, QUICK_ROUNDS = 5, 1
GP_CALLS = 200  # the GP's calls cost milliseconds: fewer of them
POINTS = 120  # the GP example's


def load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", ROOT / "examples" /
                                                  f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def functions():
    """{name: (eager function, compiled function, list of argument tuples)}."""
    example = load("scipy_minimize")
    rng = np.random.default_rng(0)
    made = {}
    for what, make in (("scipy_minimize value_and_grad", nn.utils.value_and_grad),
                       ("scipy_minimize hessp", hessian_vector_product)):
        pair = []
        for compile in (False, True):
            model = example.make_model(bias=True)
            pair.append(make(model, nn.MSELoss(reduction="sum"), example.X, example.XOR_Y,
                             compile=compile))
        theta = parameters_to_vector(example.make_model(bias=True))
        thetas = [theta + 0.1 * rng.standard_normal(theta.size) for _ in range(8)]
        args = ([(t,) for t in thetas] if "hessp" not in what else
                [(t, rng.standard_normal(t.size)) for t in thetas])
        made[what] = (*pair, args)
    gp = load("gaussian_process")
    x, y = gp.make_data(POINTS, np.random.default_rng(gp.SEED))

    def nlml(params):
        return gp.negative_log_marginal_likelihood(params, x, y)
    made["gaussian_process value_and_grad"] = (
        value_and_grad(nlml), value_and_grad(nlml, compile=True),
        [(gp.TRUE_LOG_PARAMS + 0.3 * rng.standard_normal(3),) for _ in range(8)])
    return made


def same_bits(a, b):
    if isinstance(a, tuple):
        return all(same_bits(x, y) for x, y in zip(a, b))
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def per_call(f, args, calls):
    """Median seconds per call over `calls` calls cycling through `args`."""
    times = []
    for k in range(calls):
        a = args[k % len(args)]
        start = time.perf_counter()
        f(*a)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def example_time(name, compile, quick):
    module = load(name)
    module.COMPILE = compile
    with tempfile.TemporaryDirectory() as out, redirect_stdout(StringIO()):
        start = time.perf_counter()
        module.main(quick, Path(out))
        return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    calls, rounds = (QUICK_CALLS, QUICK_ROUNDS) if args.quick else (CALLS, ROUNDS)
    results, ok = {}, True
    load = os.getloadavg()[0]
    for name, (eager, fast, arguments) in functions().items():
        for a in arguments:  # record, confirm, and check every argument tuple's bits
            if not same_bits(eager(*a), fast(*a)):
                print(f"{name}: the compiled result differs from eager at {a}")
                ok = False
        if not fast.compiled:
            print(f"{name}: runs eagerly ({fast.eager_reason})")
            ok = False
        n = min(calls, GP_CALLS) if name.startswith("gaussian") else calls
        times = {"eager": [], "compiled": []}
        for _ in range(rounds):
            times["eager"].append(per_call(eager, arguments, n))
            times["compiled"].append(per_call(fast, arguments, n))
        e, c = (statistics.median(times[k]) * 1e6 for k in ("eager", "compiled"))
        results[name] = {"eager_us": e, "compiled_us": c, "speedup": e / c}
    for name in ("scipy_minimize", "gaussian_process"):
        walls = {"eager": [], "compiled": []}
        for _ in range(rounds if not args.quick else 1):
            walls["eager"].append(example_time(name, False, args.quick))
            walls["compiled"].append(example_time(name, True, args.quick))
        e, c = (statistics.median(walls[k]) for k in ("eager", "compiled"))
        results[f"{name} example"] = {"eager_s": e, "compiled_s": c, "speedup": e / c}
    print(f"{'function':<36} {'eager':>12} {'compiled':>12} {'speed-up':>9}")
    for name, r in results.items():
        if "eager_us" in r:  # per call
            e, c = f"{r['eager_us']:.1f} us", f"{r['compiled_us']:.1f} us"
        else:  # a whole example
            e, c = f"{r['eager_s']:.2f} s", f"{r['compiled_s']:.2f} s"
        print(f"{name:<36} {e:>12} {c:>12} {r['speedup']:>8.2f}x")
    print(f"load average (1 min) {load:.2f} before, {os.getloadavg()[0]:.2f} after; "
          f"{os.cpu_count()} cores; OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
