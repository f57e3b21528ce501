"""Benchmark: training steps of npgrad against hand-written numpy (the floor) and PyTorch.

    .venv/bin/python benchmarks/bench_mlp.py                     # everything, a few minutes
    .venv/bin/python benchmarks/bench_mlp.py --quick --steps 3   # a smoke run, seconds
    .venv/bin/python benchmarks/bench_mlp.py --workloads digits32,moons --dtype float32 --json x

Every implementation starts from the same weights and sees the same batches in the same order,
and their final losses must agree (exit status 1 if not). PyTorch is optional: without it, its
rows are left out. benchmarks/README.md says what each workload and column means.
"""

import argparse
import ctypes
import gc
import json
import math
import os
import platform
import statistics
import sys
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits, make_moons

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clone, uninstalled

import nn  # noqa: E402
from autograd import Tensor  # noqa: E402

SEED = 0
DTYPES = ("float64", "float32")
IMPLS = ("numpy", "npgrad", "compiled", "npgrad-int", "compiled-int", "torch")
# npgrad and compiled train on one-hot rows; the "-int" rows pass class labels (what fit and most
# users pass), on the cross-entropy workloads only.
LABEL_IMPLS = ("npgrad-int", "compiled-int")
RTOL = {"float64": 1e-6, "float32": 1e-3}  # final losses must agree to this relative tolerance
MIN_REPEATS = 3  # each implementation runs its whole workload at least this often ...
MIN_SAMPLES = 300  # ... and until this many steps are timed (the median is taken over them)
CHAIN_OPS = (10_000, 100_000)  # deepchain lengths (multiply and add alternate)
CHAIN_OPS_QUICK = (1_000, 10_000)
CHAIN_SIZE = 32  # elements in the deepchain vector: small, so per-op overhead dominates
CHAIN_MUL, CHAIN_ADD = 1.00001, 0.001
CHAIN_LINEARITY = 0.25  # npgrad's graph memory at 10x the ops: 10x, give or take 25%
SOAK_STEPS, SOAK_FIRST, SOAK_TOLERANCE_MB = 5_000, 500, 4.0

# Targets from issue 6 (npgrad) and issue 12 (compiled): median step time over the numpy
# floor's, at most ...
MAX_RATIO_TO_NUMPY = {"npgrad": {"digits32": 1.3, "moons": 1.3, "digits256": 1.1, "wide": 1.05},
                      "compiled": {"digits32": 1.0, "moons": 0.9, "digits256": 1.0},
                      "npgrad-int": {},  # issue 22: labels in a compiled step
                      "compiled-int": {"digits32": 0.9, "digits256": 1.0}}
# ... and PyTorch's median step time over theirs, at least.
MIN_SPEEDUP_OVER_TORCH = {"npgrad": {"digits32": 1.5, "moons": 2.5},
                          "compiled": {"digits32": 3.0, "moons": 3.0},
                          "npgrad-int": {}, "compiled-int": {}}


# ---------------------------------------------------------------- workloads
@dataclass
class MLPWorkload:
    """An MLP trained by SGD on fixed batches: `batches` holds (x, labels, targets) per step.

    `targets` has the logits' shape (one-hot rows for cross-entropy, (n, 1) for BCE); `labels`
    holds class indices for cross-entropy (PyTorch's natural input) and is None for BCE.
    """

    name: str
    sizes: list
    activation: str
    loss: str  # "cross_entropy" or "bce"
    lr: float
    batches: list


def batch_indices(n: int, batch: int, steps: int, rng: np.random.Generator) -> list:
    """`steps` index arrays of `batch` rows, epoch after epoch, each epoch shuffled afresh.

    An epoch's incomplete last batch is dropped, so every step costs the same.
    """
    out = []
    while len(out) < steps:
        order = rng.permutation(n)
        out += [order[i:i + batch] for i in range(0, n - batch + 1, batch)]
    return out[:steps]


def classification_batches(X, labels, k, indices, dtype) -> list:
    X = X.astype(dtype)
    onehot = (labels[:, None] == np.arange(k)).astype(dtype)
    return [(X[i], labels[i], onehot[i]) for i in indices]


def make_workloads(names: list, dtype: str, max_steps: int | None) -> list:
    """The selected MLP workloads with their data in `dtype` (deepchain is handled apart)."""
    rng = np.random.default_rng(SEED)
    out = []
    digits = load_digits()
    X_digits, y_digits = digits.data / 16.0, digits.target.astype(np.int64)
    for batch in (32, 256):
        name = f"digits{batch}"
        if name in names:
            steps = len(X_digits) // batch  # one epoch
            idx = batch_indices(len(X_digits), batch, steps, np.random.default_rng(SEED))
            data = classification_batches(X_digits, y_digits, 10, idx, dtype)
            out.append(MLPWorkload(name, [64, 100, 10], "tanh", "cross_entropy", 0.1, data))
    if "moons" in names:
        X, y = make_moons(300, noise=0.2, random_state=0)
        full = (X.astype(dtype), None, y.reshape(-1, 1).astype(dtype))
        out.append(MLPWorkload("moons", [2, 5, 1], "relu", "bce", 0.5, [full] * 500))
    if "wide" in names:
        X = rng.standard_normal((2048, 784))
        labels = rng.integers(0, 10, len(X))
        idx = batch_indices(len(X), 128, 50, rng)
        data = classification_batches(X, labels, 10, idx, dtype)
        out.append(MLPWorkload("wide", [784, 512, 512, 10], "relu", "cross_entropy", 0.01, data))
    for w in out:
        w.batches = w.batches[:max_steps]
    return out


def initial_weights(sizes: list, activation: str) -> list:
    """(W (in, out), b (out,)) per layer in float64, seeded: every implementation copies them.

    He-uniform before a relu, Xavier-uniform otherwise; small random biases, so that the bias
    path is exercised from the first step.
    """
    rng = np.random.default_rng(SEED + 1)
    weights = []
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        relu_next = activation == "relu" and k < len(sizes) - 2
        bound = math.sqrt(6 / n_in) if relu_next else math.sqrt(6 / (n_in + n_out))
        weights.append((rng.uniform(-bound, bound, (n_in, n_out)), rng.uniform(-0.1, 0.1, n_out)))
    return weights


# ---------------------------------------------------------------- the MLP implementations
# Each `*_mlp(work, weights, dtype)` builds a fresh model from the initial weights and returns
# `step(i) -> float`: one SGD step on batch i, returning that step's loss as a Python float.

def npgrad_mlp(work: MLPWorkload, weights: list, dtype: str, labels: bool = False):
    """The loop our users write, through the public API only (`labels`: class labels)."""
    model, loss_fn, opt, batches = _npgrad_parts(work, weights, dtype)

    def step(i):
        x, y, target = batches[i]
        target = y if labels else target
        loss = loss_fn(model(x), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return step


def _npgrad_parts(work: MLPWorkload, weights: list, dtype: str):
    """A fresh model with the initial weights, its loss function, SGD, and the batches."""
    model = nn.MLP(work.sizes, activation=work.activation, dtype=dtype)
    params = model.parameters()
    arrays = [a for layer in weights for a in layer]
    assert [p.shape for p in params] == [a.shape for a in arrays], "MLP parameter layout changed"
    for p, a in zip(params, arrays):
        p.data[...] = a
    loss_fn = (nn.functional.cross_entropy if work.loss == "cross_entropy"
               else nn.functional.bce_with_logits_loss)
    return model, loss_fn, nn.optim.SGD(params, lr=work.lr), work.batches


def compiled_mlp(work: MLPWorkload, weights: list, dtype: str, labels: bool = False):
    """The same loop as one call of `nn.compile_step` (recorded at the first batch)."""
    model, loss_fn, opt, batches = _npgrad_parts(work, weights, dtype)
    step_fn = nn.compile_step(model, loss_fn, opt)

    def step(i):
        x, y, target = batches[i]
        return step_fn(x, y if labels else target)

    return step


def numpy_mlp(work: MLPWorkload, weights: list, dtype: str):
    """Forward, backward and update by hand: the floor an eager numpy engine can reach."""
    params = [(W.astype(dtype), b.astype(dtype)) for W, b in weights]
    activate, derivative = NUMPY_ACTIVATIONS[work.activation]
    lr, last, batches = work.lr, len(params) - 1, work.batches

    def step(i):
        x, _, t = batches[i]
        n = len(x)
        inputs = [x]  # the input of every layer, kept for the backward pass
        for k, (W, b) in enumerate(params):
            z = inputs[-1] @ W
            z += b
            if k < last:
                inputs.append(activate(z))
        if work.loss == "cross_entropy":
            z -= z.max(axis=1, keepdims=True)
            e = np.exp(z)
            s = e.sum(axis=1, keepdims=True)
            # -sum(t * (z - log s)) / n, using that each one-hot row of t sums to 1.
            loss = (np.log(s).sum() - np.vdot(t, z)) / n
            dz = e / s
        else:
            loss = (np.logaddexp(0, z) - z * t).mean()  # log(1 + e^z) - z t, overflow-free
            dz = 0.5 + 0.5 * np.tanh(0.5 * z)  # sigmoid(z), overflow-free
        dz -= t
        dz /= n
        for k in range(last, -1, -1):
            W, b = params[k]
            dW = inputs[k].T @ dz
            db = dz.sum(axis=0)
            if k:
                dz = dz @ W.T
                derivative(dz, inputs[k])
            W -= lr * dW
            b -= lr * db
        return float(loss)

    return step


def _tanh_grad(g, out):
    g *= 1 - out * out


def _relu_grad(g, out):
    g *= out > 0


NUMPY_ACTIVATIONS = {  # name: (in-place forward, in-place gradient given the output)
    "tanh": (lambda z: np.tanh(z, out=z), _tanh_grad),
    "relu": (lambda z: np.maximum(z, 0, out=z), _relu_grad),
}


def torch_mlp(work: MLPWorkload, weights: list, dtype: str):
    """PyTorch eager as its users write it: nn.Linear layers, F losses, optim.SGD."""
    import torch
    import torch.nn.functional as F

    tdtype = getattr(torch, dtype)
    activations = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}
    layers = []
    for k, (W, b) in enumerate(weights):
        linear = torch.nn.Linear(*W.shape, dtype=tdtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W.T))  # PyTorch stores (out, in)
            linear.bias.copy_(torch.from_numpy(b))
        layers.append(linear)
        if k < len(weights) - 1:
            layers.append(activations[work.activation]())
    model = torch.nn.Sequential(*layers)
    if work.loss == "cross_entropy":
        loss_fn = F.cross_entropy
        batches = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y, _ in work.batches]
    else:
        loss_fn = F.binary_cross_entropy_with_logits
        batches = [(torch.from_numpy(x), torch.from_numpy(t)) for x, _, t in work.batches]
    opt = torch.optim.SGD(model.parameters(), lr=work.lr)

    def step(i):
        x, target = batches[i]
        loss = loss_fn(model(x), target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    return step


MLP_BUILDERS = {"numpy": numpy_mlp, "npgrad": npgrad_mlp, "compiled": compiled_mlp,
                "npgrad-int": lambda *a: npgrad_mlp(*a, labels=True),
                "compiled-int": lambda *a: compiled_mlp(*a, labels=True), "torch": torch_mlp}


# ---------------------------------------------------------------- deepchain
# `n_ops` elementwise operations (multiply and add alternating) on one small vector, then the
# gradient of the sum with respect to the input. One "step" is the forward and backward pass;
# it returns (sum of the output, sum of the input's gradient), both checked for agreement.

def _autograd_chain(n_ops: int, x0: np.ndarray, make_leaf):
    """The chain through an autograd library: npgrad and PyTorch differ only in the leaf."""
    def step(_):
        x = make_leaf(x0)
        y = x
        for _ in range(n_ops // 2):
            y = y * CHAIN_MUL
            y = y + CHAIN_ADD
        out = y.sum()
        out.backward()
        return out.item(), float(x.grad.sum())

    return step


def npgrad_chain(n_ops: int, x0: np.ndarray):
    return _autograd_chain(n_ops, x0, lambda a: Tensor(a, requires_grad=True))


def numpy_chain(n_ops: int, x0: np.ndarray):
    def step(_):
        y = x0
        for _ in range(n_ops // 2):
            y = y * CHAIN_MUL
            y = y + CHAIN_ADD
        g = np.ones_like(y)
        for _ in range(n_ops // 2):  # the reverse pass: add passes g through, multiply scales it
            g = g * CHAIN_MUL
        return float(y.sum()), float(g.sum())

    return step


def torch_chain(n_ops: int, x0: np.ndarray):
    import torch

    return _autograd_chain(n_ops, x0, lambda a: torch.tensor(a, requires_grad=True))


CHAIN_BUILDERS = {"numpy": numpy_chain, "npgrad": npgrad_chain, "torch": torch_chain}


# ---------------------------------------------------------------- measuring
def run_steps(step, n_steps: int, times: list | None = None):
    """Run steps 0..n_steps-1, appending each one's wall time to `times`; return the last result."""
    result = None
    for i in range(n_steps):
        start = time.perf_counter()
        result = step(i)
        if times is not None:
            times.append(time.perf_counter() - start)
    return result


def time_implementations(builders: dict, n_steps: int, repeats: int) -> dict:
    """Median seconds per step of each implementation, and its final result.

    `builders[name]()` returns a fresh `step`. After one warm-up run each, the implementations
    take turns, run after run, so that drift on a shared machine hits them all alike.
    """
    for build in builders.values():
        run_steps(build(), n_steps)
    times = {name: [] for name in builders}
    finals = {}
    for _ in range(repeats):
        for name, build in builders.items():
            step = build()
            gc.collect()
            finals[name] = run_steps(step, n_steps, times[name])
    return {name: (statistics.median(times[name]), np.atleast_1d(finals[name]))
            for name in builders}


def traced_peak_mb(run) -> float:
    """Peak of the memory traced by tracemalloc (Python objects and numpy arrays) during run()."""
    gc.collect()
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def cpu_snapshot() -> tuple[float, float, float] | None:
    """(wall seconds, CPU seconds the whole machine was busy, this process's CPU seconds)."""
    try:
        with open("/proc/stat") as f:
            jiffies = [int(v) for v in f.readline().split()[1:9]]
    except OSError:
        return None
    busy = sum(jiffies) - jiffies[3] - jiffies[4]  # all but idle and iowait
    own = os.times()
    return time.perf_counter(), busy / os.sysconf("SC_CLK_TCK"), own.user + own.system


def other_load(start, end) -> float | None:
    """How many cores other processes kept busy, on average, between two cpu_snapshot()s."""
    if start is None or end is None:
        return None
    wall, busy, own = (b - a for a, b in zip(start, end))
    return max(busy - own, 0.0) / wall


def status_mb(field: str) -> float | None:
    """A memory line of /proc/self/status (VmRSS, VmHWM) in MB, or None off Linux."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def release_freed_memory() -> None:
    """Hand freed heap pages back to the OS (glibc's malloc_trim), so that RSS counts live memory.

    Otherwise new allocations reuse pages freed earlier, and the RSS does not move.
    """
    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: RSS growth may read low
        pass


def rss_growth_mb(run) -> float | None:
    """How far peak resident memory rose above its level before run(), or None if unknown.

    The one measure that sees PyTorch's allocations too. Writing 5 to clear_refs resets the
    peak (VmHWM) to the current RSS (Linux only).
    """
    release_freed_memory()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return None
    before = status_mb("VmRSS")
    run()
    peak = status_mb("VmHWM")
    return None if before is None or peak is None else max(peak - before, 0.0)


def memory_mb(name: str, build, n_steps: int) -> dict:
    """Traced peak (None for PyTorch, which tracemalloc cannot see) and RSS growth of a run."""
    run = lambda: run_steps(build(), n_steps)
    return dict(traced_mb=None if name == "torch" else traced_peak_mb(run),
                rss_mb=rss_growth_mb(run))


def relative_difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), np.finfo(np.float64).tiny)))


def agreement(finals: dict, dtype: str) -> tuple[bool, float]:
    """Whether every implementation's final result matches numpy's within RTOL[dtype]."""
    ref = finals["numpy"]
    worst = max((relative_difference(v, ref) for k, v in finals.items() if k != "numpy"),
                default=0.0)
    return bool(worst <= RTOL[dtype]), worst  # a NaN anywhere makes `worst <= ...` False


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


# ---------------------------------------------------------------- machine and torch
def blas_info() -> tuple[int, str]:
    """numpy's BLAS thread count and a description (threadpoolctl if installed)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return os.cpu_count() or 1, "unknown (threadpoolctl not installed)"
    pools = [p for p in threadpool_info()
             if p["user_api"] == "blas" and "numpy" in p.get("filepath", "")]
    if not pools:
        return os.cpu_count() or 1, "unknown"
    p = pools[0]
    return p["num_threads"], f"{p['internal_api']} {p['version']}"


def load_torch(threads: int):
    """PyTorch set to use numpy's BLAS thread count, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)  # its lazy imports, now
    return torch


def machine_info(blas_threads: int, blas: str, torch) -> dict:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f
                        if line.startswith("model name")), cpu)
    except OSError:
        cpu = platform.processor() or cpu
    return dict(cpu=cpu, cores=os.cpu_count(), python=platform.python_version(),
                numpy=np.__version__, blas=blas, blas_threads=blas_threads,
                torch=torch.__version__ if torch else None,
                torch_threads=torch.get_num_threads() if torch else None)


# ---------------------------------------------------------------- reporting
def print_table(rows: list, checks: list) -> None:
    header = (f"{'workload':<14}{'dtype':<9}{'impl':<13}{'ms/step':>10}{'vs numpy':>10}"
              f"{'peak MB':>9}{'RSS+ MB':>9}  final loss")
    print(header)
    print("-" * len(header))
    for check in checks:
        for r in rows:
            if (r["workload"], r["dtype"]) != (check["workload"], check["dtype"]):
                continue
            print(f"{r['workload']:<14}{r['dtype']:<9}{r['impl']:<13}{r['seconds'] * 1e3:>10.3f}"
                  f"{r['vs_numpy']:>9.2f}x{_mb(r['traced_mb']):>9}{_mb(r['rss_mb']):>9}"
                  f"  {r['final'][0]:.10g}")
        verdict = "OK" if check["ok"] else "MISMATCH"
        print(f"{'':<36}agreement: {verdict} (max relative difference {check['max_rel']:.1e}, "
              f"rtol {RTOL[check['dtype']]:g})")
    print("peak MB: tracemalloc's peak (Python objects and numpy arrays) over a whole run; n/a for")
    print("  PyTorch, whose allocations tracemalloc cannot see. RSS+ MB: growth of peak resident")
    print("  memory (VmHWM) over a whole run, for all of them: coarser (pages, allocator caches).")


def _mb(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def speedups(rows: list) -> list:
    """npgrad and compiled against the others, per workload and dtype."""
    by_key = {(r["workload"], r["dtype"], r["impl"]): r for r in rows}
    out = []
    for (workload, dtype, impl), r in by_key.items():
        if impl not in ("npgrad", "compiled", *LABEL_IMPLS):
            continue
        numpy_row = by_key[(workload, dtype, "numpy")]
        torch_row = by_key.get((workload, dtype, "torch"))
        out.append(dict(workload=workload, dtype=dtype, impl=impl,
                        ratio_to_numpy=r["seconds"] / numpy_row["seconds"],
                        speedup_over_torch=torch_row["seconds"] / r["seconds"]
                        if torch_row else None))
    return out


def target_checks(summary: list) -> list:
    out = []
    for s in summary:
        impl = s["impl"]
        bound = MAX_RATIO_TO_NUMPY[impl].get(s["workload"])
        if bound is not None:
            out.append(dict(workload=s["workload"], dtype=s["dtype"], what=f"{impl}/numpy <=",
                            bound=bound, value=s["ratio_to_numpy"],
                            met=s["ratio_to_numpy"] <= bound))
        bound = MIN_SPEEDUP_OVER_TORCH[impl].get(s["workload"])
        if bound is not None and s["speedup_over_torch"] is not None:
            out.append(dict(workload=s["workload"], dtype=s["dtype"], what=f"torch/{impl} >=",
                            bound=bound, value=s["speedup_over_torch"],
                            met=s["speedup_over_torch"] >= bound))
    return out


def chain_memory(rows: list) -> list:
    """Memory per 1,000 ops between the two deepchain lengths, per dtype and implementation.

    Linear growth shows as `ratio` (long / short) close to the ratio of the lengths; npgrad's
    traced ratio must lie within CHAIN_LINEARITY of it (`linear`, None for the others).
    """
    lengths = sorted({int(r["workload"][9:-1]) for r in rows if r["workload"].startswith("deep")})
    if len(lengths) < 2:
        return []
    short, long = lengths[0], lengths[-1]
    by_key = {(r["workload"], r["dtype"], r["impl"]): r for r in rows}
    out = []
    for (workload, dtype, impl), r in by_key.items():
        if workload != f"deepchain{long}k":
            continue
        entry = dict(dtype=dtype, impl=impl, lengths=(short, long))
        for kind in ("traced_mb", "rss_mb"):
            small, big = by_key[(f"deepchain{short}k", dtype, impl)][kind], r[kind]
            if small is None or big is None:
                entry[kind] = None
                continue
            entry[kind] = dict(short=small, long=big, per_1k_ops=(big - small) / (long - short),
                               ratio=big / small if small > 0.01 else None)
        traced = entry["traced_mb"]
        entry["linear"] = None
        if impl == "npgrad" and traced is not None:
            entry["linear"] = (traced["ratio"] is not None and
                               abs(traced["ratio"] * short / long - 1) <= CHAIN_LINEARITY)
        out.append(entry)
    return out


def _growth(m: dict | None) -> str:
    if m is None:
        return "n/a"
    ratio = f"x{m['ratio']:.1f}" if m["ratio"] is not None else "-"
    per_1k = round(m["per_1k_ops"], 3) + 0.0  # no "-0.000"
    return f"{m['short']:8.2f} ->{m['long']:8.2f} {ratio:>6}{per_1k:8.3f}"


def print_summary(summary, targets, memory, soak_result) -> None:
    print()
    for s in summary:
        torch_part = ("no PyTorch" if s["speedup_over_torch"] is None
                      else f"{s['speedup_over_torch']:.2f}x faster than PyTorch"
                      if s["speedup_over_torch"] >= 1
                      else f"{1 / s['speedup_over_torch']:.2f}x slower than PyTorch")
        print(f"{s['workload']:<14}{s['dtype']:<9}{s['impl'] + ':':<14}{torch_part}, "
              f"{s['ratio_to_numpy']:.2f}x the numpy floor's time")
    if memory:
        short, long = memory[0]["lengths"]
        print(f"\ndeepchain memory, {short}k -> {long}k ops (x{long // short}): MB, growth, "
              "MB per 1,000 ops")
        print(f"{'':<19}{'peak (tracemalloc)':>34}{'RSS+':>34}")
        for m in memory:
            verdict = {None: "", True: "  linear: OK", False: "  NOT LINEAR"}[m["linear"]]
            print(f"  {m['dtype']:<9}{m['impl']:<8}{_growth(m['traced_mb']):>34}"
                  f"{_growth(m['rss_mb']):>34}{verdict}")
    if targets:
        print("\ntargets (issue 6 for npgrad, issues 12 and 22 for compiled):")
        for t in targets:
            print(f"  {t['workload']:<11}{t['dtype']:<9}{t['what']:<19} {t['bound']:<5g}"
                  f"measured {t['value']:.2f}  {'met' if t['met'] else 'MISSED'}")
    if soak_result:
        s = soak_result
        if s["growth_mb"] is None:
            print("\nsoak: resident memory unknown on this platform")
        else:
            print(f"\nsoak ({SOAK_STEPS:,} npgrad steps on digits32, {s['dtype']}): RSS "
                  f"{s['rss_first_mb']:.1f} MB at step {SOAK_FIRST}, {s['rss_last_mb']:.1f} MB at "
                  f"step {SOAK_STEPS:,}: growth {s['growth_mb']:+.1f} MB, "
                  f"{'flat: OK' if s['ok'] else 'GROWING'}")


# ---------------------------------------------------------------- main
def progress(what: str) -> None:
    print(f"  timing {what} ...", file=sys.stderr, flush=True)


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
    targets = target_checks(summary)
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
