"""Reporting bench_mlp.py's results: the table, the agreement of the final losses, the
targets of the issues (met or MISSED), deepchain memory and the soak.
"""

import numpy as np
from mlp_workloads import LABEL_IMPLS

RTOL = {"float64": 1e-6, "float32": 1e-3}  # final losses must agree to this relative tolerance
CHAIN_LINEARITY = 0.25  # npgrad's graph memory at 10x the ops: 10x, give or take 25%
SOAK_STEPS, SOAK_FIRST, SOAK_TOLERANCE_MB = 5_000, 500, 4.0

# Targets from issue 6 (npgrad), issue 12 (compiled) and issue 22 (deepchain100k, labels):
# median step time over the numpy floor's, at most ...
MAX_RATIO_TO_NUMPY = {"npgrad": {"digits32": 1.3, "moons": 1.3, "digits256": 1.1, "wide": 1.05,
                                 "deepchain100k": 5.0},
                      "compiled": {"digits32": 1.0, "moons": 0.9, "digits256": 1.0},
                      "npgrad-int": {},  # issue 22: labels in a compiled step
                      "compiled-int": {"digits32": 0.9, "digits256": 1.0}}
# ... and PyTorch's median step time over theirs, at least.
MIN_SPEEDUP_OVER_TORCH = {"npgrad": {"digits32": 1.5, "moons": 2.5},
                          "compiled": {"digits32": 3.0, "moons": 3.0},
                          "npgrad-int": {}, "compiled-int": {}}

# Issue 22: the first call of a compiled step (recording, planning, checking, compiling) peaks
# at most this many times the eager run's peak (tracemalloc, same workload and dtype).
MAX_FIRST_CALL_PEAK = 2.0


def relative_difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), np.finfo(np.float64).tiny)))


def agreement(finals: dict, dtype: str) -> tuple[bool, float]:
    """Whether every implementation's final result matches numpy's within RTOL[dtype]."""
    ref = finals["numpy"]
    worst = max((relative_difference(v, ref) for k, v in finals.items() if k != "numpy"),
                default=0.0)
    return bool(worst <= RTOL[dtype]), worst  # a NaN anywhere makes `worst <= ...` False


# ---------------------------------------------------------------- reporting
def print_table(rows: list, checks: list) -> None:
    header = (f"{'workload':<14}{'dtype':<9}{'impl':<13}{'ms/step':>10}{'vs numpy':>10}"
              f"{'peak MB':>9}{'1st MB':>8}{'RSS+ MB':>9}  final loss")
    print(header)
    print("-" * len(header))
    for check in checks:
        for r in rows:
            if (r["workload"], r["dtype"]) != (check["workload"], check["dtype"]):
                continue
            print(f"{r['workload']:<14}{r['dtype']:<9}{r['impl']:<13}{r['seconds'] * 1e3:>10.3f}"
                  f"{r['vs_numpy']:>9.2f}x{_mb(r['traced_mb']):>9}{_first(r):>8}"
                  f"{_mb(r['rss_mb']):>9}"
                  f"  {r['final'][0]:.10g}")
        verdict = "OK" if check["ok"] else "MISMATCH"
        print(f"{'':<36}agreement: {verdict} (max relative difference {check['max_rel']:.1e}, "
              f"rtol {RTOL[check['dtype']]:g})")
    print("peak MB: tracemalloc's peak (Python objects and numpy arrays) over a whole run; n/a for")
    print("  PyTorch, whose allocations tracemalloc cannot see. 1st MB: compiled rows, the same")
    print("  peak during the first call alone (it records, plans, checks and compiles the step).")
    print("  RSS+ MB: growth of peak resident memory (VmHWM) over a whole run, for all of them:")
    print("  coarser (pages, allocator caches).")


def _mb(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _first(row: dict) -> str:
    return "" if row.get("first_mb") is None else f"{row['first_mb']:.2f}"


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


def first_call_checks(rows: list) -> list:
    """The first compiled call's traced peak over the eager run's (npgrad for compiled,
    npgrad-int for compiled-int), at most MAX_FIRST_CALL_PEAK."""
    by_key = {(r["workload"], r["dtype"], r["impl"]): r for r in rows}
    out = []
    for (workload, dtype, impl), r in by_key.items():
        eager = by_key.get((workload, dtype, impl.replace("compiled", "npgrad")))
        if r.get("first_mb") is None or eager is None or not eager["traced_mb"]:
            continue
        ratio = r["first_mb"] / eager["traced_mb"]
        out.append(dict(workload=workload, dtype=dtype, what=f"{impl} 1st call/eager peak <=",
                        bound=MAX_FIRST_CALL_PEAK, value=ratio, met=ratio <= MAX_FIRST_CALL_PEAK))
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
        print("\ntargets (issue 6 for npgrad, issues 12 and 22 for compiled, 22 for deepchain):")
        width = max(19, *(len(t["what"]) for t in targets))
        for t in targets:
            print(f"  {t['workload']:<14}{t['dtype']:<9}{t['what']:<{width}} {t['bound']:<5g}"
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


