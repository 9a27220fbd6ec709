"""``make robustness``: run every chapter at several base seeds and commit what its tests found.

For each chapter and each base seed, the chapter runs in a fresh kernel (``nbtests.harness.run_chapter``
with ``seed=N``) and its verdict and test records are kept: the value, interval and outcome of every test
and of its control. The report, ``robustness/report.json``, is committed; the ledger renders it (the
"across base seeds" lines) and ``nbtests/test_book.py`` checks that it is current: it records the sha256
of each chapter's source, so a chapter changed since its robustness run fails that test until this is run
again for it.

Usage::

    python -m tools.robustness                      # every chapter, seeds 0-4 (about an hour on 2 cores)
    python -m tools.robustness --chapters slug ...  # only these chapters; the others' entries are kept
    python -m tools.robustness --seeds 0 1 2 3 4 5 6

CI runs the default seed only (``make test``); this is the slower, wider check, run when a chapter changes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime

from tools.book import ROOT, chapter_paths

REPORT = ROOT / "robustness" / "report.json"
DEFAULT_SEEDS = (0, 1, 2, 3, 4)


def source_hash(slug: str) -> str:
    return hashlib.sha256(chapter_paths()[slug].read_bytes()).hexdigest()


def summarise(run) -> dict:
    """What the report keeps of one run: the verdict and, per test, its value, interval and outcome."""
    tests = {}
    for name in run["verdict_tests"]:
        rec = run[f"test_{name}"]
        tests[name] = {"value": rec["value"], "ci": rec["ci"], "outcome": rec["outcome"],
                       "control_value": rec["control"]["value"], "control_met": rec["control"]["met"]}
    return {"verdict": run["verdict"], "met": run["verdict_met"], "tests": tests}


def run_seeds(slug: str, seeds) -> dict:
    from nbtests.harness import ChapterError, run_chapter

    runs, before = {}, source_hash(slug)
    for seed in seeds:
        t0 = time.time()
        try:
            runs[str(seed)] = summarise(run_chapter(slug, seed=seed))
        except ChapterError as err:  # a chapter that fails at a seed is a finding, recorded as such
            runs[str(seed)] = {"verdict": "failed to run", "met": str(err).splitlines()[0], "tests": {}}
        print(f"{slug} seed {seed}: {runs[str(seed)]['verdict']} ({time.time() - t0:.0f} s)", flush=True)
    if source_hash(slug) != before:
        raise SystemExit(f"{slug} changed while its seeds ran; its runs are not recorded, run it again")
    return {"source_sha256": before, "runs": runs}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chapters", nargs="+", help="slugs (default: every chapter)")
    parser.add_argument("--seeds", nargs="+", type=int, default=list(DEFAULT_SEEDS))
    args = parser.parse_args(argv)
    slugs = args.chapters or list(chapter_paths())
    unknown = set(slugs) - set(chapter_paths())
    if unknown:
        parser.error(f"no chapters {sorted(unknown)}; chapters are {list(chapter_paths())}")
    if len(args.seeds) < 2:
        parser.error("robustness needs at least 2 base seeds")
    from nbtests.harness import install_network_guard

    install_network_guard(ROOT / "_build" / "ipython-no-network")
    report = json.loads(REPORT.read_text()) if REPORT.exists() else {"chapters": {}}
    for slug in slugs:
        report["chapters"][slug] = run_seeds(slug, args.seeds)
        report["chapters"][slug]["date"] = datetime.now(UTC).date().isoformat()
        report["chapters"] = {s: report["chapters"][s] for s in chapter_paths() if s in report["chapters"]}
        report["machine"] = f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        REPORT.write_text(json.dumps(report, indent=1, sort_keys=False) + "\n")  # after each chapter
    print(f"wrote {REPORT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
