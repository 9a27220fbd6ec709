"""``make bench``: measure the book and write ``bench/report.json``, ``bench/report.md`` and the README table.

Phases, in this order (each records the machine load while it ran):

1. ``workloads``: the float32 matmul peak, the cost of one jitted call, then the three heaviest training
   workloads, batched (the book's way) against the per-seed Python-loop baseline (:mod:`bench.workloads`);
2. ``chapters``: every notebook page of ``_toc.yml`` (the chapters, and the intro and other pages with code)
   executed in its own process at default parameters, with its wall time, compile share and peak memory
   (:mod:`bench.chapters`);
3. ``build``: the book built cold and warm into a scratch folder (:mod:`bench.build`).

Usage: ``python -m bench.run [--repeats 3] [--only workloads chapters build] [--workloads NAME ...]``. A full run
writes the committed report; a partial run (``--only`` or ``--workloads``) writes ``_build/bench/report.json``
only. Scratch output goes to ``_build/bench/``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "bench" / "report.json"
SCRATCH = ROOT / "_build" / "bench"
PHASES = ("workloads", "chapters", "build")

TARGETS = {  # from the issue "Performance: a benchmark" and the developers' guide; reported, never asserted
    "book_cold_s": 600,
    "chapter_s": 90,
    "chapter_peak_mib": 1024,  # 1 GiB: what Binder guarantees a session
    "warm_rebuild_s": 30,
    "speedup": 5.0,
    "fraction_of_peak_if_compute_bound": 0.25,
}


class CpuMeter:
    """Wall time and how many cores *other* processes used meanwhile: the machine's busy time
    (``/proc/stat``) minus this process's and its reaped children's CPU time, divided by the wall time."""

    def __init__(self):
        self.t0, self.busy0, self.ours0, self.load0 = time.time(), _busy_s(), _ours_s(), os.getloadavg()

    def stop(self) -> dict:
        wall = time.time() - self.t0
        others = (_busy_s() - self.busy0) - (_ours_s() - self.ours0)
        return {"wall_s": round(wall, 1), "load_before": [round(x, 2) for x in self.load0],
                "load_after": [round(x, 2) for x in os.getloadavg()],
                "others_cores": round(max(others, 0.0) / wall, 2) if wall > 0 else None}


def _busy_s() -> float:
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _ours_s() -> float:
    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                 resource.getrusage(resource.RUSAGE_CHILDREN)))


def machine() -> dict:
    import jax
    import jaxlib
    import numpy

    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")),
                 platform.processor())
    mem_kib = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                       if line.startswith("MemTotal")))
    caches = {}
    for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        try:
            level, kind = (index / "level").read_text().strip(), (index / "type").read_text().strip()
            caches[f"L{level} {kind}"] = (index / "size").read_text().strip()
        except OSError:
            pass
    return {"cpu_count": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)), "cpu_model": model,
            "memory_gib": round(mem_kib / 2**20, 1), "caches_per_core_or_shared": caches,
            "python": platform.python_version(), "jax": jax.__version__, "jaxlib": jaxlib.__version__,
            "numpy": numpy.__version__, "jax_backend": jax.default_backend(),
            "jax_compilation_cache_dir": os.environ.get("JAX_COMPILATION_CACHE_DIR")}


def git() -> dict:
    def out(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    return {"commit": out("rev-parse", "HEAD"), "changed_files": len(out("status", "--porcelain").splitlines())}


def run_workloads(names, repeats: int) -> dict:
    from bench.measure import dispatch_us, matmul_peak, relate_to_peak, time_workload
    from bench.workloads import WORKLOADS

    meter = CpuMeter()
    peak = matmul_peak()
    print(f"matmul peak: jax {peak['jax_gflops']} GFLOP/s, numpy {peak['numpy_gflops']} GFLOP/s", flush=True)
    dispatch = dispatch_us()
    print(f"one jitted call: {dispatch} us", flush=True)
    results = []
    for name in names:
        w = WORKLOADS[name]()
        print(f"workload {name}: {w.description}", flush=True)
        r = time_workload(w, repeats=repeats)
        print(f"  batched {r['batched']['median_s']} s, baseline {r['baseline']['median_s']} s, "
              f"speed-up {r['speedup']}x, batched {r['gflops_batched']} GFLOP/s", flush=True)
        results.append(r)
    peak_again = matmul_peak()  # the load may have changed: the fractions use the best of both measurements
    best = max(peak["peak_gflops"], peak_again["peak_gflops"])
    print(f"matmul peak, measured again: {peak_again['peak_gflops']} GFLOP/s; using {best}", flush=True)
    results = [relate_to_peak(r, peak_gflops=best, dispatch=dispatch) for r in results]
    return {"matmul_peak": peak, "matmul_peak_again": peak_again, "peak_gflops": best, "dispatch_us": dispatch,
            "repeats": repeats, "workloads": results, "phase": meter.stop()}


def run_chapters(slugs=None) -> dict:
    from bench.chapters import run_chapter
    from nbtests.harness import is_notebook, slug_of, toc_files

    meter = CpuMeter()
    rows = []
    pages = [ROOT / f"{rel}.md" for rel in toc_files()]  # every executed page: the chapters, the intro, ...
    for path in (p for p in pages if p.exists() and is_notebook(p)):
        slug = slug_of(path)
        if slugs and slug not in slugs:
            continue
        row = run_chapter(path)
        print(f"chapter {slug}: {row['wall_s']} s, compile {row['compile_s']} s, peak {row['peak_rss_mib']} MiB"
              + ("" if row["ok"] else f"  FAILED: {row['error']}"), flush=True)
        rows.append(row)
    return {"chapters": rows, "total_s": round(sum(r["wall_s"] for r in rows), 1), "phase": meter.stop()}


def run_build() -> dict:
    from bench.build import build_times

    meter = CpuMeter()
    result = build_times()
    print(f"book build: cold {result['cold']['seconds']} s ({result['cold']['executed']} notebooks executed), "
          f"warm {result['warm']['seconds']} s ({result['warm']['executed']} executed)", flush=True)
    return {**result, "phase": meter.stop()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each workload implementation")
    parser.add_argument("--only", nargs="+", choices=PHASES, help="run only these phases (a partial report)")
    parser.add_argument("--workloads", nargs="+", help="run only these workloads (a partial report)")
    parser.add_argument("--chapters", nargs="+", help="run only these chapters, by slug (a partial report)")
    args = parser.parse_args(argv)
    from bench.workloads import WORKLOADS

    phases = args.only or PHASES
    partial = bool(args.only or args.workloads or args.chapters)
    SCRATCH.mkdir(parents=True, exist_ok=True)
    meter = CpuMeter()
    report = {"schema": 1, "created": datetime.now(UTC).isoformat(timespec="seconds"),
              "command": "make bench" if not partial else "python -m bench.run " + " ".join(sys.argv[1:]),
              "git": git(), "machine": machine(), "targets": TARGETS}
    progress = SCRATCH / "report-progress.json"  # what has been measured so far, should a later phase fail
    for phase in phases:
        if phase == "workloads":
            report["workloads"] = run_workloads(args.workloads or list(WORKLOADS), args.repeats)
        elif phase == "chapters":
            report["chapters"] = run_chapters(args.chapters)
        else:
            report["build"] = run_build()
        progress.write_text(json.dumps(report, indent=1) + "\n")
    report["run"] = meter.stop()

    from bench.readme import full_report, update_readme

    out = SCRATCH / "report.json" if partial else REPORT
    out.write_text(json.dumps(report, indent=1) + "\n")
    markdown = full_report(report)
    (out.with_suffix(".md")).write_text(markdown)
    print("\n" + markdown)
    print(f"report: {out.relative_to(ROOT)} and {out.with_suffix('.md').relative_to(ROOT)}")
    if not partial:
        update_readme(report)
        print("README.md: table 'How long does it take' rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
