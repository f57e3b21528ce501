"""Measuring a step: wall time (implementations taking turns), traced and resident memory,
the machine's other load, and what the machine is. Shared by bench_mlp.py and bench_layers.py.
"""

import ctypes
import gc
import os
import platform
import statistics
import sys
import time
import tracemalloc

import numpy as np


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



def traced_peaks_mb(build, n_steps: int) -> tuple[float, float]:
    """(peak over a whole run, build included; peak during its first call alone), in MB.

    Both are tracemalloc's traced memory (Python objects and numpy arrays), counted from before
    build(): the first call's peak includes the model, so it compares with a run's peak.
    """
    gc.collect()
    tracemalloc.start()
    try:
        step = build()
        built = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        step(0)
        first = tracemalloc.get_traced_memory()[1]
        run_steps(lambda i: step(i + 1), n_steps - 1)  # (the peak is not reset: a run's)
        return max(built, tracemalloc.get_traced_memory()[1]) / 2**20, first / 2**20
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

def progress(what: str) -> None:
    print(f"  timing {what} ...", file=sys.stderr, flush=True)

