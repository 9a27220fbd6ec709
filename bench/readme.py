"""Tables from the benchmark's report: the README's "How long does it take" table and ``bench/report.md``.

``python -m bench.readme`` rewrites the README table (between ``<!-- bench-table:start -->`` and
``<!-- bench-table:end -->``) and ``bench/report.md`` from ``bench/report.json``, without measuring anything;
``make bench`` measures first.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "bench" / "report.json"
README = ROOT / "README.md"
START, END = "<!-- bench-table:start -->", "<!-- bench-table:end -->"
BUSY_CORES = 0.3  # other processes using more than this many cores on average: say the timings are inflated


def _fmt_s(seconds) -> str:
    return "-" if seconds is None else f"{seconds:.0f}" if seconds >= 10 else f"{seconds:.1f}"


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.0f}%" if x >= 0.1 else f"{100 * x:.1f}%"


def _sci(x) -> str:
    return "-" if x is None else f"{x:.1e}"


def _minutes(seconds) -> str:
    return f"{seconds / 60:.1f} min"


def load_note(report: dict) -> str:
    """A sentence on how busy the machine was with other work while the benchmark ran."""
    phases = {name: report[name]["phase"] for name in ("chapters", "build") if name in report}
    if not phases:
        return ""
    busy = {name: p["others_cores"] for name, p in phases.items() if p.get("others_cores") is not None}
    cores = report["machine"]["usable_cores"]
    worst = max(busy.values(), default=0.0)
    detail = ", ".join(f"{cores_used:.1f} ({name})" for name, cores_used in busy.items())
    if worst > BUSY_CORES:
        return (f"The machine was shared while this ran: other processes used on average {detail} of its "
                f"{cores} cores, so these times are inflated.")
    return f"The machine was otherwise idle: other processes used on average {detail} of its {cores} cores."


def chapter_rows(report: dict) -> list[str]:
    targets = report["targets"]
    rows = ["| Chapter | Time (s) | Compiling | Peak memory (MiB) | Within budget |", "|---|--:|--:|--:|---|"]
    for c in report["chapters"]["chapters"]:
        over = []
        if not c["ok"]:
            over.append(f"failed: {c['error']}")
        if c["wall_s"] > targets["chapter_s"]:
            over.append(f"no: over {targets['chapter_s']} s")
        if c["peak_rss_mib"] and c["peak_rss_mib"] > targets["chapter_peak_mib"]:
            over.append(f"no: over {targets['chapter_peak_mib'] / 1024:.0f} GiB")
        rows.append(f"| `{c['file']}` | {_fmt_s(c['wall_s'])} | {_pct(c['compile_share'])} | "
                    f"{c['peak_rss_mib']:.0f} | {'; '.join(over) or 'yes'} |")
    return rows


def readme_table(report: dict) -> str:
    """The README block: a caption and the per-chapter table."""
    m, t = report["machine"], report["targets"]
    parts = [f"Measured by `{report['command']}` on {report['created'][:10]}: {m['usable_cores']} cores "
             f"({m['cpu_model']}), {m['memory_gib']} GiB, JAX {m['jax']} on CPU. Each chapter runs at its default "
             f"parameters in a fresh kernel; time is wall time from kernel start, *compiling* is the share of it "
             f"spent tracing, lowering and compiling with XLA, memory is the kernel's peak resident set. Budget: "
             f"{t['chapter_s']} s and {t['chapter_peak_mib'] / 1024:.0f} GiB per chapter."]
    for again in report.get("remeasured", []):  # chapters rerun alone since (python -m bench.run --only chapters)
        parts.append(f"Remeasured on {again['date']} with `{again['command']}`: {', '.join(again['chapters'])}.")
    if "build" in report:
        cold, warm = report["build"]["cold"], report["build"]["warm"]
        parts.append(f"Whole book (`make book`, every chapter executed): {_minutes(cold['seconds'])} "
                     f"(budget {t['book_cold_s'] // 60} min); rebuild with nothing changed: {warm['seconds']:.0f} s "
                     f"(budget {t['warm_rebuild_s']} s).")
    note = load_note(report)
    if note:
        parts.append(note)
    total = report["chapters"]["total_s"]
    return "\n".join([" ".join(parts), "", *chapter_rows(report), f"| **all chapters** | **{total:.0f}** | | | |"])


def _short(v) -> str:
    """Numbers to three significant digits, in dicts too."""
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_short(x)}" for k, x in v.items()) + "}"
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def probe_rows(report: dict) -> list[str]:
    """The probes' table: each chapter's own program against what a reader would otherwise run."""
    rows = ["| Chapter | The book's program | µs per unit | What a reader would otherwise run | µs per unit | "
            "Ratio | Unit |", "|---|---|--:|---|--:|--:|---|"]
    for c in report["chapters"]["chapters"]:
        p = c.get("probe")
        if p:
            rows.append(f"| `{c['slug']}` | {p['program']} ({p['book_runs']} runs x {p['book_steps']}, "
                        f"{p['book_s']:.2f} s) | {p['book_us_per_step']:.3g} | {p['baseline']} | "
                        f"{1e6 * p['baseline_s_per_step']:.3g} | {p['ratio']:.0f}x | {p['unit']} |")
    return rows


def probe_notes(report: dict) -> list[str]:
    lines, target = [], report["targets"]["speedup"]
    for c in report["chapters"]["chapters"]:
        p = c.get("probe")
        if not p:
            continue
        a = p["agreement"]
        same = "; ".join(f"{k} {_short(v)}" for k, v in a.items() if k != "what")
        by_rule = p.get("baseline_us_per_step_by_rule")
        lines.append(f"- `{c['slug']}`: the timed program reproduced the chapter's result exactly (the probe "
                     f"asserts it)." + (f" The book's time {p['book_note']}." if p.get("book_note") else "")
                     + (f" Baseline, µs per update by rule: {_short(by_rule)}." if by_rule else "")
                     + f" Measured elsewhere: {p['published_baseline']}. Cross-check, {a['what']}: {same}."
                     + (f" **Below the {target:.0f}x target**: one update of one run costs the NumPy loop "
                        f"{1e6 * p['baseline_s_per_step']:.3g} µs and the book's batched program "
                        f"{p['book_us_per_step']:.3g} µs (an upper bound, with its evaluations). The probe does not "
                        f"measure why; the copy-based benchmark this replaced found this chapter's program bound by "
                        f"the many small operations of each step, not by arithmetic."
                        if p["ratio"] < target else ""))
    return lines


def verdicts(report: dict) -> list[tuple[str, str, bool | None]]:
    """``(target, measured, met)`` for every target of the issue that the report covers."""
    t, out = report["targets"], []
    if "build" in report:
        cold, warm = report["build"]["cold"], report["build"]["warm"]
        out.append((f"whole book cold <= {t['book_cold_s'] // 60} min", f"{_minutes(cold['seconds'])}"
                    + ("" if cold["ok"] else " (build failed)"), cold["seconds"] <= t["book_cold_s"]))
        out.append((f"warm rebuild <= {t['warm_rebuild_s']} s, no chapter executed",
                    f"{warm['seconds']:.0f} s, {warm['executed']} notebooks executed",
                    warm["seconds"] <= t["warm_rebuild_s"] and warm["executed"] == 0))
    if "chapters" in report:
        rows = report["chapters"]["chapters"]
        slow = [f"{c['slug']} {c['wall_s']:.0f} s" for c in rows if c["wall_s"] > t["chapter_s"]]
        big = [f"{c['slug']} {c['peak_rss_mib']:.0f} MiB" for c in rows
               if c["peak_rss_mib"] and c["peak_rss_mib"] > t["chapter_peak_mib"]]
        out.append((f"each chapter <= {t['chapter_s']} s", ", ".join(slow) or
                    f"slowest {max(c['wall_s'] for c in rows):.0f} s", not slow))
        out.append((f"peak memory <= {t['chapter_peak_mib'] / 1024:.0f} GiB per chapter", ", ".join(big) or
                    f"largest {max(c['peak_rss_mib'] or 0 for c in rows):.0f} MiB", not big))
        for c in rows:
            p = c.get("probe")
            if p:
                out.append((f"{c['slug']}: the book's program >= {t['speedup']:.0f}x what a reader would otherwise "
                            f"run", f"{p['ratio']:.0f}x", p["ratio"] >= t["speedup"]))
    return out


def full_report(report: dict) -> str:
    """``bench/report.md``: every table of the report, with the reasons for missed targets."""
    m = report["machine"]
    lines = ["# Benchmark report", "",
             f"`{report['command']}`, {report['created']}, commit {report['git']['commit'][:10]} "
             f"({report['git']['changed_files']} files changed), {report['run']['wall_s'] / 60:.1f} min in all. "
             f"Machine: {m['usable_cores']} cores ({m['cpu_model']}), {m['memory_gib']} GiB, JAX {m['jax']}, "
             f"caches {m['caches_per_core_or_shared']}. {load_note(report)}", ""]
    lines += ["## Targets", "", "| Target | Measured | Met |", "|---|---|---|"]
    lines += [f"| {name} | {value} | {'-' if met is None else 'yes' if met else '**no**'} |"
              for name, value, met in verdicts(report)]
    if "chapters" in report:
        lines += ["", "## Chapters", "", readme_table(report), "",
                  "Compile time, summed per JAX event (seconds), and the slowest cells:", ""]
        for c in report["chapters"]["chapters"]:
            cells = "; ".join(f"cell {x['index']} {x['seconds']:.1f} s `{x['first_line'][:50]}`"
                              for x in c["slowest_cells"])
            lines.append(f"- `{c['slug']}`: {c['compile_by_event']}; {cells}")
    if "chapters" in report and any(c.get("probe") for c in report["chapters"]["chapters"]):
        lines += ["", "## The book's programs against what a reader would otherwise run", "",
                  "Each probe (`bench/probes/<slug>.py`) runs in the chapter's kernel after the chapter, times the "
                  "chapter's own compiled program warm, and times an independent implementation in the style "
                  "of a course notebook or a published replication on the same sizes.", "",
                  *probe_rows(report), "", *probe_notes(report)]
    if "notes" in report:
        lines += ["", "## Earlier findings", "", *[f"- {n}" for n in report["notes"]]]
    if "build" in report:
        b = report["build"]
        lines += ["", "## Book build", "", f"`{b['command']}`", ""]
        for kind in ("cold", "warm"):
            r = b[kind]
            execution = r.get("execution") or (f"{r['executed']} notebooks executed" if "executed" in r else "")
            lines.append(f"- {kind}: {r['seconds']:.0f} s; {execution or 'no execution summary'}; "
                         f"{'ok' if r['ok'] else 'FAILED: ' + str(r.get('problems', r.get('warnings', []))[:3])}.")
    return "\n".join(lines) + "\n"


def update_readme(report: dict, readme: Path = README) -> None:
    """Replace the text between the bench-table markers of the README with :func:`readme_table`."""
    text = readme.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"{readme.name}: no '{START}' ... '{END}' markers; add them where the table belongs")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{readme_table(report)}\n{END}{tail}")


def main() -> int:
    report = json.loads(REPORT.read_text())
    update_readme(report)
    REPORT.with_suffix(".md").write_text(full_report(report))
    print(f"rewrote the table in {README.name} and {REPORT.with_suffix('.md').relative_to(ROOT)} "
          f"from {REPORT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
