"""``make bench``: measure the book and write ``bench/report.json``, ``bench/report.md`` and the README table.

Phases, in this order (each records the machine load while it ran):

1. ``chapters``: every notebook page of ``_toc.yml`` (the chapters, and the intro and other pages with code)
   executed through the book's runner in its own process at default parameters, with its wall time, compile
   share and peak memory; for chapters with a probe (``bench/probes/``), the chapter's own program timed against
   what a reader would otherwise run, in the chapter's kernel (:mod:`bench.chapters`);
2. ``build``: the book built cold and warm into a scratch folder (:mod:`bench.build`).

Usage: ``python -m bench.run [--only chapters build] [--chapters SLUG ...]``. ``make bench`` runs everything and
rewrites the committed report; ``--chapters`` (``make bench CHAPTER=slug``) measures those chapters only and
replaces their rows of the committed report (noting the date), so that a new or changed chapter needs no
full run; ``--only`` writes ``_build/bench/report.json`` only. Scratch output goes to ``_build/bench/``.
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
PHASES = ("chapters", "build")

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


def run_chapters(slugs=None) -> dict:
    from bench.chapters import measure_chapter
    from tools.book import is_notebook, slug_of, toc_files

    meter = CpuMeter()
    rows = []
    pages = [ROOT / f"{rel}.md" for rel in toc_files()]  # every executed page: the chapters, the intro, ...
    for path in (p for p in pages if p.exists() and is_notebook(p)):
        slug = slug_of(path)
        if slugs and slug not in slugs:
            continue
        row = measure_chapter(slug)
        print(f"chapter {slug}: {row['wall_s']} s, compile {row['compile_s']} s, peak {row['peak_rss_mib']} MiB"
              + ("" if row["ok"] else f"  FAILED: {row['error']}"), flush=True)
        if row["probe"]:
            p = row["probe"]
            print(f"  probe: book {p['book_us_per_step']:.3g} us per {p['unit']}, baseline "
                  f"{1e6 * p['baseline_s_per_step']:.3g} us: {p['ratio']:.0f}x", flush=True)
        rows.append(row)
    return {"chapters": rows, "total_s": round(sum(r["wall_s"] for r in rows), 1), "phase": meter.stop()}


def run_build() -> dict:
    from bench.build import build_times

    meter = CpuMeter()
    result = build_times()
    print(f"book build: cold {result['cold']['seconds']} s ({result['cold']['executed']} notebooks executed), "
          f"warm {result['warm']['seconds']} s ({result['warm']['executed']} executed)", flush=True)
    return {**result, "phase": meter.stop()}


def merge_rows(report: dict, rows: list[dict], command: str) -> dict:
    """The committed report with these chapters' rows replaced (or added, in the book's order) and a dated note
    saying which were measured again."""
    from tools.book import notebook_paths

    old = {r["slug"]: r for r in report["chapters"]["chapters"]}
    old.update({r["slug"]: r for r in rows})
    order = list(notebook_paths())
    report["chapters"]["chapters"] = [old[s] for s in order if s in old]
    report["chapters"]["total_s"] = round(sum(r["wall_s"] for r in report["chapters"]["chapters"]), 1)
    report["targets"] = TARGETS
    report.setdefault("remeasured", []).append({"date": datetime.now(UTC).date().isoformat(), "command": command,
                                                "chapters": [r["slug"] for r in rows]})
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=PHASES, help="run only these phases (a partial report)")
    parser.add_argument("--chapters", nargs="+", help="measure only these chapters, by slug, and replace their "
                                                      "rows of the committed report")
    args = parser.parse_args(argv)
    from bench.readme import full_report, update_readme

    SCRATCH.mkdir(parents=True, exist_ok=True)
    if args.chapters:
        from tools.book import notebook_paths

        unknown = set(args.chapters) - set(notebook_paths())
        if unknown:
            parser.error(f"no notebooks {sorted(unknown)}; they are {list(notebook_paths())}")
        measured = run_chapters(args.chapters)
        failed = [r["slug"] for r in measured["chapters"] if not r["ok"]]
        if failed:
            print(f"not merged into {REPORT.relative_to(ROOT)}: {failed} failed", file=sys.stderr)
            return 1
        report = merge_rows(json.loads(REPORT.read_text()), measured["chapters"],
                            "make bench CHAPTER=" + " ".join(args.chapters))
        out = REPORT
    else:
        phases = args.only or PHASES
        meter = CpuMeter()
        report = {"schema": 2, "created": datetime.now(UTC).isoformat(timespec="seconds"),
                  "command": "make bench" if not args.only else "python -m bench.run " + " ".join(sys.argv[1:]),
                  "git": git(), "machine": machine(), "targets": TARGETS}
        progress = SCRATCH / "report-progress.json"  # what has been measured so far, should a later phase fail
        for phase in phases:
            report[phase] = run_chapters() if phase == "chapters" else run_build()
            progress.write_text(json.dumps(report, indent=1) + "\n")
        report["run"] = meter.stop()
        if REPORT.exists():  # dated findings of earlier runs, kept from report to report
            report["notes"] = json.loads(REPORT.read_text()).get("notes", [])
        out = SCRATCH / "report.json" if args.only else REPORT
    out.write_text(json.dumps(report, indent=1) + "\n")
    markdown = full_report(report)
    (out.with_suffix(".md")).write_text(markdown)
    print("\n" + markdown)
    print(f"report: {out.relative_to(ROOT)} and {out.with_suffix('.md').relative_to(ROOT)}")
    if out == REPORT:
        update_readme(report)
        print("README.md: table 'How long does it take' rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
