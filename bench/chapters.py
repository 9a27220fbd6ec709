"""Per-chapter cost: wall time, peak memory and the share of time spent compiling, at default parameters; and,
for the chapters that have a probe (``bench/probes/<slug>.py``), the chapter's own program timed against what a
reader would otherwise run.

Each chapter runs in its own worker process (``python -m bench.chapters SLUG OUT.json``) through the book's one
runner, :func:`tools.run.run_chapter`, the way the tests and the book build run it (kernel ``python3``, working
directory ``book/``, the network guard), but with no compilation cache: a reader's first run compiles
everything. Inside the kernel, :mod:`bench.kernel_probe` (an IPython startup file) adds up JAX's compile time
and records the kernel's peak memory after every cell. A chapter's probe is appended to its run as one more
cell; the chapter's row stops at the chapter's own last cell, so the probe changes none of its numbers. The
probe glues ``bench_probe``: its timings, and its check that the program it timed reproduced the chapter's
result (it raises otherwise, which fails the row).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = ROOT / "_build" / "bench"
PROBES = Path(__file__).resolve().parent / "probes"


def _cell_seconds(cell) -> float | None:
    """Duration of one executed cell, from the metadata papermill records."""
    return cell.get("metadata", {}).get("papermill", {}).get("duration")


def probe_source(slug: str) -> str | None:
    path = PROBES / f"{slug}.py"
    return path.read_text() if path.exists() else None


def worker(slug: str, out: Path) -> None:
    """Execute one chapter (and its probe) and write its measurements to ``out`` (JSON); runs in its own
    process, whose only child is the chapter's kernel."""
    from tools.run import ChapterError, run_chapter

    probe = probe_source(slug)
    error, run = None, None
    t0 = time.time()
    try:
        run = run_chapter(slug, extra_cells=(probe,) if probe else (), out=out.with_suffix(".ipynb"))
    except ChapterError as err:
        error = str(err).splitlines()[0][:300]
    except Exception as err:  # a dead kernel or a timeout: report it, do not stop the benchmark
        error = f"{type(err).__name__}: {err}"[:300]
    wall = time.time() - t0
    cells = []
    if run is not None:
        code = [c for c in run.notebook.cells if c.cell_type == "code"]
        for i, cell in enumerate(run.notebook.cells):
            if cell.cell_type == "code" and not (probe and cell is code[-1]):
                first = next((line for line in cell.source.splitlines() if line.strip() and not line.startswith(":")),
                             "")
                cells.append({"index": i, "seconds": _cell_seconds(cell), "first_line": first[:80]})
    out.write_text(json.dumps({"wall_s": wall, "error": error, "cells": cells,
                               "probe": run.values.get("bench_probe") if run is not None else None,
                               "rusage_children_maxrss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss},
                              indent=1))


def measure_chapter(slug: str, *, timeout: float = 1800) -> dict:
    """Run the chapter ``slug`` in a worker process and return its measurements.

    Returns a dict with ``wall_s`` (kernel start to the end of the chapter's last cell, seconds), ``cells_s``
    (sum of cell durations), ``compile_s`` and ``compile_share`` (JAX tracing + lowering + XLA compilation,
    union of intervals, and its share of ``wall_s``), ``compile_by_event`` (seconds per JAX event, summed),
    ``peak_rss_mib`` (the kernel's peak resident memory at the end of the chapter), ``slowest_cells`` (the
    three slowest), ``probe`` (what the chapter's probe measured, or None), ``ok`` and ``error``.
    """
    from tools.book import ROOT as BOOK_ROOT
    from tools.run import NETWORK_GUARD, find_chapter, without_compilation_cache

    chapter = find_chapter(slug)
    work = SCRATCH / "chapters"
    work.mkdir(parents=True, exist_ok=True)
    ipython_dir = work / f"ipython-{slug}"
    shutil.rmtree(ipython_dir, ignore_errors=True)
    startup = ipython_dir / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-no-network.py").write_text(NETWORK_GUARD)  # as in the tests and the book build
    shutil.copy(Path(__file__).with_name("kernel_probe.py"), startup / "01-dlfn-bench-probe.py")
    kernel_json, out = work / f"{slug}.probe.json", work / f"{slug}.json"
    for path in (kernel_json, out):
        path.unlink(missing_ok=True)
    env = dict(os.environ, IPYTHONDIR=str(ipython_dir), DLFN_BENCH_PROBE=str(kernel_json))
    env.pop("MPLBACKEND", None)  # as in the book build: the inline backend draws the figures
    without_compilation_cache(env)  # a reader's first run compiles everything: time that
    load_before = os.getloadavg()
    t0 = time.time()
    proc = subprocess.run([sys.executable, "-m", "bench.chapters", slug, str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    elapsed = time.time() - t0
    result = json.loads(out.read_text()) if out.exists() else {
        "wall_s": elapsed, "error": f"worker failed: {proc.stderr.strip()[-300:]}", "cells": [], "probe": None,
        "rusage_children_maxrss_kib": None}
    kernel = json.loads(kernel_json.read_text()) if kernel_json.exists() else {}
    # the chapter's own end: the snapshot after its last cell (the probe, if any, is the cell after it)
    snapshots = kernel.get("cells", [])
    has_probe = probe_source(slug) is not None and result["probe"] is not None
    end = snapshots[-2] if has_probe and len(snapshots) >= 2 else (snapshots[-1] if snapshots else kernel)
    wall = (end["t"] - kernel["started"]) if end and "t" in end else result["wall_s"]
    compile_s = end.get("compile_s") if end else None
    peak_kib = end.get("maxrss_kib") if end else None
    if not has_probe and result["rusage_children_maxrss_kib"]:  # the kernel seen from outside, a cross-check
        peak_kib = max(peak_kib or 0, result["rusage_children_maxrss_kib"])
    timed = [c for c in result["cells"] if c["seconds"] is not None]
    return {
        "slug": slug,
        "file": str(chapter.relative_to(BOOK_ROOT)),
        "ok": result["error"] is None,
        "error": result["error"],
        "wall_s": round(wall, 2),
        "cells_s": round(sum(c["seconds"] for c in timed), 2),
        "kernel_startup_s": round(kernel["started"] - t0, 2) if kernel else None,
        "compile_s": round(compile_s, 2) if compile_s is not None else None,
        "compile_share": round(compile_s / wall, 3) if compile_s is not None and wall else None,
        "compile_by_event": {k: round(v, 2) for k, v in (end or {}).get("by_event", {}).items()},
        "compile_events": (end or {}).get("count", {}),
        "peak_rss_mib": round(peak_kib / 1024, 1) if peak_kib else None,
        "slowest_cells": sorted(timed, key=lambda c: -c["seconds"])[:3],
        "probe": result["probe"],
        "load_before": [round(x, 2) for x in load_before],
    }


if __name__ == "__main__":
    worker(sys.argv[1], Path(sys.argv[2]))
