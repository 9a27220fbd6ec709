"""Timing primitives: the machine's float32 matmul peak, the cost of one jitted call, and the side-by-side
timing of a workload's two implementations (:mod:`bench.workloads`)."""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from bench.workloads import Workload, xla_step_flops

SCRATCH = Path(__file__).resolve().parent.parent / "_build" / "bench"


def matmul_peak(sizes=(1024, 2048), repeats: int = 7) -> dict:
    """Best float32 matmul rate, in GFLOP/s, of ``jnp`` (XLA) and of NumPy, for square ``(n, n) @ (n, n)``
    products (``2 n^3`` FLOPs), best of ``repeats`` timings per size. ``peak_gflops`` is the best of all."""
    out = {"sizes": list(sizes), "repeats": repeats, "jax": {}, "numpy": {}}
    rng = np.random.default_rng(0)
    matmul = jax.jit(jnp.matmul)
    for n in sizes:
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        ja, jb = jnp.asarray(a), jnp.asarray(b)
        for name, fn in (("jax", lambda ja=ja, jb=jb: matmul(ja, jb).block_until_ready()),
                         ("numpy", lambda a=a, b=b: a @ b)):
            fn()
            best = min(_seconds(fn) for _ in range(repeats))
            out[name][str(n)] = round(2 * n**3 / best / 1e9, 1)
    out["jax_gflops"] = max(out["jax"].values())
    out["numpy_gflops"] = max(out["numpy"].values())
    out["peak_gflops"] = max(out["jax_gflops"], out["numpy_gflops"])
    return out


def dispatch_us(n_calls: int = 3000) -> float:
    """Microseconds per call of a jitted function that does almost nothing to a 4-array pytree (the floor of
    any Python-loop-over-steps implementation); median of 5 batches of calls."""
    params = {"w1": jnp.ones((64, 32)), "b1": jnp.ones(32), "w2": jnp.ones((32, 10)), "b2": jnp.ones(10)}
    step = jax.jit(lambda p, i: jax.tree_util.tree_map(lambda x: x * 0.999 + 0.001, p))

    def loop():
        p = params
        for i in range(n_calls):
            p = step(p, i)
        jax.block_until_ready(p)

    loop()
    return round(1e6 * statistics.median(_seconds(loop) for _ in range(5)) / n_calls, 1)


def _seconds(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def time_workload(workload: Workload, *, repeats: int = 3) -> dict:
    """Time the batched and the baseline implementation of ``workload``, ``repeats`` times each, alternating
    (so that a change of machine load hits both), after compiling each once (timed separately).

    Returns times (seconds), medians, the speed-up (median baseline / median batched, and the same including
    compilation), FLOPs (analytic and XLA's), achieved GFLOP/s, the agreement of the two implementations'
    loss curves, and ``diagnosis`` where the workload has one. :func:`relate_to_peak` adds the rest.
    """
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    inputs = jax.block_until_ready(workload.prepare())
    prepare_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    compiled = workload.batched.lower(inputs).compile()
    batched_compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for fn, args, _ in workload.step_fns(inputs):
        jax.block_until_ready(fn(*args))
    baseline_compile_s = time.perf_counter() - t0

    batched_s, baseline_s = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        batched_out = jax.block_until_ready(compiled(inputs))
        batched_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        baseline_curves = workload.baseline(inputs)  # returns NumPy: every run has finished
        baseline_s.append(time.perf_counter() - t0)
    batched_curves = workload.curves(batched_out)
    np.savez(SCRATCH / f"curves-{workload.name}.npz", batched=batched_curves, baseline=baseline_curves,
             labels=np.asarray(workload.labels or []))

    med_batched, med_baseline = statistics.median(batched_s), statistics.median(baseline_s)
    flops_xla = xla_step_flops(workload, inputs)
    diagnosis = workload.diagnose(inputs) if workload.diagnose is not None else None
    return {
        "name": workload.name,
        "chapter": workload.chapter,
        "description": workload.description,
        "runs": workload.n_runs,
        "steps": workload.n_steps,
        "shapes": workload.shapes,
        "prepare_s": round(prepare_s, 2),
        "batched": {"compile_s": round(batched_compile_s, 2), "times_s": [round(t, 3) for t in batched_s],
                    "median_s": round(med_batched, 3),
                    "ms_per_scan_step": round(1e3 * med_batched / workload.n_steps, 3)},
        "baseline": {"compile_s": round(baseline_compile_s, 2), "times_s": [round(t, 3) for t in baseline_s],
                     "median_s": round(med_baseline, 3),
                     "us_per_step": round(1e6 * med_baseline / (workload.n_runs * workload.n_steps), 1)},
        "speedup": round(med_baseline / med_batched, 2),
        "speedup_incl_compile": round((med_baseline + baseline_compile_s) / (med_batched + batched_compile_s), 2),
        "flops": {"analytic": workload.flops, "formula": workload.flops_formula, "xla": flops_xla,
                  "analytic_as_xla_counts": workload.flops_xla_comparable or workload.flops,
                  "xla_over_analytic": round(flops_xla / (workload.flops_xla_comparable or workload.flops), 3),
                  "per_run_step": workload.flops_per_run_step},
        "gflops_batched": round(workload.flops / med_batched / 1e9, 2),
        "gflops_baseline": round(workload.flops / med_baseline / 1e9, 2),
        "agreement": agreement(batched_curves, baseline_curves),
        "agreement_by_group": _by_group(workload.labels, batched_curves, baseline_curves),
        "agreement_note": workload.agreement_note,
        "diagnosis": diagnosis,
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
    }


def _by_group(labels, a, b):
    """:func:`agreement` for each group of runs (``labels``: a group name per run), or None without labels."""
    if not labels:
        return None
    labels = np.asarray(labels)
    return {str(g): agreement(a[labels == g], b[labels == g]) for g in dict.fromkeys(labels.tolist())}


def agreement(a: np.ndarray, b: np.ndarray) -> dict:
    """How closely two sets of loss curves, shape ``(n_runs, n_points)``, agree, judged on the final losses by
    the relative difference ``|a - b| / max(|a|, |b|)``: over *stable* runs (in both, finite, ending below the
    first loss and never above 1.5 times it) its maximum and median and the number of runs above 1e-3; over all
    runs the same maximum, and the number of runs finite in only one. (In unstable runs, e.g. a too-large
    learning rate, float32 rounding differences between the vmapped and the unbatched program grow chaotically,
    so they are not comparable.)"""
    fa, fb = a[:, -1].astype(np.float64), b[:, -1].astype(np.float64)
    finite = np.isfinite(fa) & np.isfinite(fb)
    with np.errstate(invalid="ignore"):
        calm = (np.nanmax(a, axis=1) <= 1.5 * a[:, 0]) & (np.nanmax(b, axis=1) <= 1.5 * b[:, 0])
    stable = finite & calm & (fa < a[:, 0]) & (fb < b[:, 0])
    rel = np.abs(fa - fb) / np.maximum(np.maximum(np.abs(fa), np.abs(fb)), 1e-12)
    return {"runs": int(len(fa)), "stable_runs": int(stable.sum()),
            "stable_max_rel_diff": float(rel[stable].max()) if stable.any() else None,
            "stable_median_rel_diff": float(np.median(rel[stable])) if stable.any() else None,
            "stable_runs_above_1e-3": int((rel[stable] > 1e-3).sum()),
            "all_max_rel_diff": float(rel[finite].max()) if finite.any() else None,
            "finite_mismatch": int((np.isfinite(fa) != np.isfinite(fb)).sum())}


def relate_to_peak(result: dict, *, peak_gflops: float, dispatch: float) -> dict:
    """Add to a :func:`time_workload` result what depends on the machine's peak and dispatch cost:
    ``fraction_of_peak_*``; ``run_step_at_peak_us``, one run's step at the matmul peak; ``bound``, "compute" when
    that takes at least one jitted call's time (``dispatch`` microseconds), else "overhead"; and
    ``speedup_ceiling``, the baseline's time over the whole workload's time at the peak, the largest speed-up
    any implementation could reach."""
    flops = result["flops"]["analytic"]
    at_peak_us = 1e6 * result["flops"]["per_run_step"] / (peak_gflops * 1e9)
    return {**result,
            "fraction_of_peak_batched": round(result["gflops_batched"] / peak_gflops, 4),
            "fraction_of_peak_baseline": round(result["gflops_baseline"] / peak_gflops, 4),
            "run_step_at_peak_us": round(at_peak_us, 2), "dispatch_us": dispatch,
            "bound": "compute" if at_peak_us >= dispatch else "overhead",
            "speedup_ceiling": round(result["baseline"]["median_s"] / (flops / (peak_gflops * 1e9)), 2)}
