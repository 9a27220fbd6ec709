"""``make robustness``: run every chapter at several base seeds and commit what its tests found.

For each chapter and each base seed, the chapter runs in a fresh kernel (``tools.run.run_chapter``
with ``seed=N``) and its verdict and test records are kept: the value, interval and outcome of every test
and of its control. The report, ``robustness/report.json``, is committed; the ledger renders it (the
"across base seeds" lines) and ``nbtests/test_book.py`` checks that it is current: it records the sha256
of each chapter's source, so a chapter changed since its robustness run fails that test until this is run
again for it. The run at the default seed is the chapter at its default parameters; its ``reference_run``
(a digest of everything it glued, with its sources' key and the machine) is what ``make test`` compares its
own execution with, so that the bit-identical rerun check needs no second execution in the test session
(``nbtests/test_reliability.py``).

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
DEFAULT_SEED = 0  # every chapter's default seed: its run here is the chapter at its default parameters


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


def reference(run) -> dict:
    """What the tests compare their own execution at default parameters with (``test_rerun_is_bit_identical``):
    the digest of everything this run glued, with the sources and the machine it depends on."""
    from tools.run import execution_stamp, glue_digest, machine_id, source_key

    return {"source_key": source_key(chapter_paths()[run.slug]), "machine": machine_id(),
            "glue_sha256": glue_digest(run), "values": len(run.texts), "figures": len(run.figures),
            "execution": execution_stamp(run), "recorded_by": "make robustness (its run at the default seed)"}


def current_reference(slug: str) -> dict | None:
    """The chapter's ``reference_run`` from the committed report, if it was recorded from the same sources (the
    chapter, ``dlfn`` and the lock) on the same kind of machine; else None (then a test must execute again)."""
    from tools.run import machine_id, source_key

    if not REPORT.exists():
        return None
    ref = json.loads(REPORT.read_text())["chapters"].get(slug, {}).get("reference_run")
    if ref and ref["source_key"] == source_key(chapter_paths()[slug]) and ref["machine"] == machine_id():
        return ref
    return None


def run_seeds(slug: str, seeds) -> dict:
    from tools.run import ChapterError, run_chapter

    runs, before, ref = {}, source_hash(slug), None
    for seed in seeds:
        t0 = time.time()
        try:
            run = run_chapter(slug) if seed == DEFAULT_SEED else run_chapter(slug, seed=seed)
            runs[str(seed)] = summarise(run)
            if seed == DEFAULT_SEED:
                ref = reference(run)
        except ChapterError as err:  # a chapter that fails at a seed is a finding, recorded as such
            runs[str(seed)] = {"verdict": "failed to run", "met": str(err).splitlines()[0], "tests": {}}
        print(f"{slug} seed {seed}: {runs[str(seed)]['verdict']} ({time.time() - t0:.0f} s)", flush=True)
    if source_hash(slug) != before:
        raise SystemExit(f"{slug} changed while its seeds ran; its runs are not recorded, run it again")
    return {"source_sha256": before, "runs": runs, **({"reference_run": ref} if ref else {})}


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
    from tools.run import install_network_guard

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
