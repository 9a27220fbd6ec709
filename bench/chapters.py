"""Per-chapter cost: wall time, peak memory and the share of time spent compiling, at default parameters.

Each chapter runs in its own worker process (``python -m bench.chapters CHAPTER.md OUT.json``), which executes
the notebook with ``nbclient`` the way the book build does (kernel ``python3``, working directory ``book/``,
no ``MPLBACKEND``). The kernel is the worker's child, so after the kernel has exited the worker reads its
peak resident memory from ``getrusage(RUSAGE_CHILDREN)``. Inside the kernel, :mod:`bench.kernel_probe`
(an IPython startup file in a temporary ``IPYTHONDIR``) adds up JAX's compile time and records the
kernel's own peak memory, a cross-check of the first number. Where the tests have a network guard (an
IPython startup file that allows only loopback), the benchmark's kernels get it too.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
SCRATCH = ROOT / "_build" / "bench"


def _cell_seconds(cell) -> float | None:
    """Duration of one executed cell from nbclient's timing metadata (``record_timing``)."""
    timing = cell.get("metadata", {}).get("execution", {})
    start = timing.get("iopub.execute_input") or timing.get("shell.execute_request")
    end = timing.get("shell.execute_reply")
    if not (start and end):
        return None
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def write_network_guard(ipython_dir: Path) -> None:
    """Give kernels started with this ``IPYTHONDIR`` the tests' network guard (only loopback), where
    ``nbtests.harness`` defines one, so that chapters run here exactly as in the tests and the book build."""
    from nbtests import harness

    guard = getattr(harness, "NO_NETWORK_STARTUP", None)
    if guard:
        startup = ipython_dir / "profile_default" / "startup"
        startup.mkdir(parents=True, exist_ok=True)
        (startup / "00-no-network.py").write_text(guard)


def worker(chapter: Path, out: Path) -> None:
    """Execute one chapter and write its measurements to ``out`` (JSON); runs in its own process."""
    import jupytext
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = jupytext.read(chapter)
    client = NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(BOOK)}})
    error = None
    t0 = time.time()
    try:
        client.execute()
    except CellExecutionError as err:
        error = str(err).strip().splitlines()[-1][:300] if str(err).strip() else repr(err)
    except Exception as err:  # a dead kernel or a timeout: report it, do not stop the benchmark
        error = f"{type(err).__name__}: {err}"[:300]
    wall = time.time() - t0
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux: the kernel's peak
    nbformat.write(nb, str(out.with_suffix(".ipynb")))
    cells = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            seconds = _cell_seconds(cell)
            first = next((line for line in cell.source.splitlines() if line.strip() and not line.startswith(":")),
                         "")
            cells.append({"index": i, "seconds": seconds, "first_line": first[:80]})
    out.write_text(json.dumps({"wall_s": wall, "error": error, "rusage_children_maxrss_kib": children,
                               "cells": cells}, indent=1))


def run_chapter(chapter: Path, *, timeout: float = 1800) -> dict:
    """Run ``chapter`` (a ``book/NN_slug.md`` path) in a worker process and return its measurements.

    Returns a dict with ``wall_s`` (kernel start to end, seconds), ``cells_s`` (sum of cell durations),
    ``compile_s`` and ``compile_share`` (JAX tracing + lowering + XLA compilation, union of intervals, and
    its share of ``wall_s``), ``compile_by_event`` (seconds per JAX event, summed), ``peak_rss_mib`` (the
    kernel's peak resident memory), ``slowest_cells`` (the three slowest cells), ``ok`` and ``error``.
    """
    from nbtests.harness import slug_of

    chapter = chapter.resolve()
    slug = slug_of(chapter)
    work = SCRATCH / "chapters"
    work.mkdir(parents=True, exist_ok=True)
    ipython_dir = work / f"ipython-{slug}"
    shutil.rmtree(ipython_dir, ignore_errors=True)
    (ipython_dir / "profile_default" / "startup").mkdir(parents=True)
    shutil.copy(Path(__file__).with_name("kernel_probe.py"),
                ipython_dir / "profile_default" / "startup" / "00-dlfn-bench-probe.py")
    write_network_guard(ipython_dir)
    probe, out = work / f"{slug}.probe.json", work / f"{slug}.json"
    for path in (probe, out):
        path.unlink(missing_ok=True)
    env = dict(os.environ, IPYTHONDIR=str(ipython_dir), DLFN_BENCH_PROBE=str(probe))
    env.pop("MPLBACKEND", None)  # as in the book build: the inline backend draws the figures
    env.pop("JAX_COMPILATION_CACHE_DIR", None)  # a reader's first run compiles everything: time that
    load_before = os.getloadavg()
    t0 = time.time()
    proc = subprocess.run([sys.executable, "-m", "bench.chapters", str(chapter), str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    elapsed = time.time() - t0
    result = json.loads(out.read_text()) if out.exists() else {
        "wall_s": elapsed, "error": f"worker failed: {proc.stderr.strip()[-300:]}", "cells": [],
        "rusage_children_maxrss_kib": None}
    kernel = json.loads(probe.read_text()) if probe.exists() else {}
    wall = result["wall_s"]
    compile_s = kernel.get("compile_s")
    peaks = [v for v in (result["rusage_children_maxrss_kib"], kernel.get("maxrss_kib")) if v]
    timed = [c for c in result["cells"] if c["seconds"] is not None]
    return {
        "slug": slug,
        "file": str(chapter.relative_to(ROOT)),
        "ok": result["error"] is None,
        "error": result["error"],
        "wall_s": round(wall, 2),
        "cells_s": round(sum(c["seconds"] for c in timed), 2),
        "kernel_startup_s": round(kernel["started"] - t0, 2) if kernel else None,
        "compile_s": round(compile_s, 2) if compile_s is not None else None,
        "compile_share": round(compile_s / wall, 3) if compile_s is not None and wall else None,
        "compile_by_event": {k: round(v, 2) for k, v in kernel.get("by_event", {}).items()},
        "compile_events": kernel.get("count", {}),
        "peak_rss_mib": round(max(peaks) / 1024, 1) if peaks else None,
        "peak_rss_mib_kernel_probe": round(kernel["maxrss_kib"] / 1024, 1) if kernel else None,
        "peak_rss_mib_rusage": (round(result["rusage_children_maxrss_kib"] / 1024, 1)
                                if result["rusage_children_maxrss_kib"] else None),
        "slowest_cells": sorted(timed, key=lambda c: -c["seconds"])[:3],
        "load_before": [round(x, 2) for x in load_before],
    }


if __name__ == "__main__":
    worker(Path(sys.argv[1]), Path(sys.argv[2]))
