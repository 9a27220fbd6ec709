"""Tables from the benchmark's report: the README's "How long does it take" table and ``bench/report.md``.

``python -m bench.readme`` rewrites the README table (between ``<!-- bench-table:start -->`` and
``<!-- bench-table:end -->``) and ``bench/report.md`` from ``bench/report.json``, without measuring anything;
``make bench`` measures first.
"""

from __future__ import annotations

import json
import re
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
    phases = {name: report[name]["phase"] for name in ("workloads", "chapters", "build") if name in report}
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


def _sweep(diagnosis) -> tuple[str, list[dict], dict]:
    """The sweep as a sentence, its plain ``vmap N`` entries by width, and the other entries."""
    res = diagnosis["results"]
    text = ", ".join(f"{name}: {r['ms_per_run_step']:.3g} ms" for name, r in res.items())
    plain = sorted((r for name, r in res.items() if re.fullmatch(r"vmap \d+", name)), key=lambda r: r["runs"])
    others = {name: r for name, r in res.items() if not re.fullmatch(r"vmap \d+", name)}
    return f"{diagnosis['what']} ({diagnosis['steps']} steps): {text}.", plain, others


def explain(w: dict, report: dict) -> str:
    """Why a workload reaches the speed-up and FLOP rate it does, from its measured numbers."""
    target = report["targets"]
    head = (f"One run's step is {w['flops']['per_run_step'] / 1e6:.2f} MFLOP, {w['run_step_at_peak_us']:.1f} us at "
            f"the matmul peak, against {w['dispatch_us']:.0f} us for one (trivial) jitted call. ")
    diagnosis = w.get("diagnosis")
    sweep, widths, others = _sweep(diagnosis) if diagnosis else ("", [], {})
    if w["bound"] == "overhead":
        text = head + f"**Overhead-bound**: the baseline spends {w['baseline']['us_per_step']:.0f} us per step"
        if widths:
            alone = 1e3 * widths[0]["ms_per_run_step"]
            text += (f", of which only {alone:.0f} us is the step itself (one run inside a compiled scan); the rest "
                     f"is the Python loop's per-call cost (dispatch, argument handling), so batching pays "
                     f"({w['speedup']}x). {sweep} Batched in the book's program, a run's step costs "
                     f"{1e3 * widths[-1]['ms_per_run_step']:.0f} us instead of {alone:.0f} us")
        text += (f". The book's program reaches {_pct(w['fraction_of_peak_batched'])} of peak: it is bound by the "
                 f"many tiny operations of each step ({w['shapes']}), which XLA:CPU executes one after another, too "
                 f"small to keep the matmul units or both cores busy.")
        return text
    text = head + (f"**Compute-bound**: {_pct(w['fraction_of_peak_batched'])} of peak in the book's program, "
                   f"{_pct(w['fraction_of_peak_baseline'])} in the baseline. ")
    if w["speedup_ceiling"] < target["speedup"]:
        text += (f"The baseline already spends most of its time computing, so no implementation could be more "
                 f"than {w['speedup_ceiling']}x faster than it (its time over the workload's FLOPs at the peak): "
                 f"the {target['speedup']:.0f}x target cannot be met. ")
    elif w["speedup"] < target["speedup"] and len(widths) > 1 and \
            min(r["ms_per_run_step"] for r in widths[1:]) > widths[0]["ms_per_run_step"]:
        text += (f"Why the {target['speedup']:.0f}x target is missed: the baseline calls the same compiled step "
                 f"the book's program runs, so the book can only save the baseline's per-call overhead (worth "
                 f"{w['speedup']}x here: a step's work dwarfs one call's cost) or make a run's step cheaper by "
                 f"batching runs, and batching makes it dearer (below). A {target['speedup']:.0f}x speed-up would "
                 f"need the step itself to get {target['speedup'] / w['speedup']:.1f}x faster, and the baseline, "
                 f"calling that same step, would get faster with it. ")
    frac = target["fraction_of_peak_if_compute_bound"]
    if widths:
        text += sweep + " "
        one = widths[0]["ms_per_run_step"]
        best = min(r["ms_per_run_step"] for r in widths[1:]) if len(widths) > 1 else one
        peak = report["workloads"]["peak_gflops"]
        one_frac = diagnosis.get("flops_per_run_step", w["flops"]["per_run_step"]) / (one * 1e6) / peak
        if best > 1.1 * one:
            text += (f"Batching does not pay here: one run's step has enough work to hide the dispatch, and batched "
                     f"runs cost more per step ({best / one:.1f}x at best), likely because their intermediates no "
                     f"longer fit in the caches")
            if "patches_mib_per_run" in diagnosis:
                text += (f" (the second convolution's im2col patches alone: {diagnosis['patches_mib_per_run']} MiB "
                         f"per run, {diagnosis['patches_mib_per_run'] * widths[-1]['runs']:.0f} MiB for "
                         f"{widths[-1]['runs']} runs; L2 "
                         f"{report['machine']['caches_per_core_or_shared'].get('L2 Unified', '?')} per core, L3 "
                         f"{report['machine']['caches_per_core_or_shared'].get('L3 Unified', '?')})")
            text += ". "
        else:
            text += "Batching leaves the cost of a run's step about unchanged: the work itself is the cost. "
        for name, r in others.items():
            text += f"With {name}, a run's step costs {r['ms_per_run_step'] / one:.2f}x what it costs alone. "
        text += f"One run alone computes at {_pct(one_frac)} of peak"
        if diagnosis.get("products"):
            text += ", while its products alone, in a compiled loop, run at " + ", ".join(
                f"{p['gflops']} GFLOP/s ({_pct(p['gflops'] / peak)} of peak) for {p['shape']}"
                for p in diagnosis["products"])
        if one_frac < frac and diagnosis.get("where_time_goes"):
            text += f": {diagnosis['where_time_goes']}"
        text += ". "
    met = w["fraction_of_peak_batched"] >= frac
    text += f"{'Meets' if met else 'Misses'} the {_pct(frac)}-of-peak target."
    return text


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
    if "workloads" in report:
        for w in report["workloads"]["workloads"]:
            out.append((f"{w['name']}: book >= {t['speedup']:.0f}x the per-seed baseline", f"{w['speedup']}x",
                        w["speedup"] >= t["speedup"]))
            if w["bound"] == "compute":
                frac = t["fraction_of_peak_if_compute_bound"]
                out.append((f"{w['name']} (compute-bound): >= {_pct(frac)} of matmul peak",
                            _pct(w["fraction_of_peak_batched"]), w["fraction_of_peak_batched"] >= frac))
            else:
                out.append((f"{w['name']} (overhead-bound): say why", "see the workload notes", None))
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
    if "workloads" in report:
        wl = report["workloads"]
        peak = wl["matmul_peak"]
        lines += ["", "## Training workloads: the book's implementation against a per-seed Python loop", "",
                  f"Float32 matmul peak of this machine, best of {peak['repeats']} repeats at sizes {peak['sizes']}: "
                  f"XLA {peak['jax_gflops']} GFLOP/s, NumPy {peak['numpy_gflops']} GFLOP/s (measured again after the "
                  f"workloads: {wl['matmul_peak_again']['peak_gflops']}); fractions below use "
                  f"{wl['peak_gflops']} GFLOP/s. One jitted call costs {wl['dispatch_us']} us. Times are medians of "
                  f"{wl['repeats']} runs, compilation excluded (given separately).", "",
                  "| Workload | Book (s) | Baseline (s) | Speed-up | incl. compile | GFLOP | Book GFLOP/s "
                  "| % of peak | Baseline % of peak | Bound |",
                  "|---|--:|--:|--:|--:|--:|--:|--:|--:|---|"]
        for w in wl["workloads"]:
            lines.append(f"| `{w['name']}` | {w['batched']['median_s']:.1f} | {w['baseline']['median_s']:.1f} | "
                         f"{w['speedup']}x | {w['speedup_incl_compile']}x | {w['flops']['analytic'] / 1e9:.0f} | "
                         f"{w['gflops_batched']:.1f} | {_pct(w['fraction_of_peak_batched'])} | "
                         f"{_pct(w['fraction_of_peak_baseline'])} | {w['bound']} |")
        for w in wl["workloads"]:
            a = w["agreement"]
            lines += ["", f"### `{w['name']}` ({w['chapter']})", "", f"{w['description']}.", "",
                      f"- Times (s): book {w['batched']['times_s']} after {w['batched']['compile_s']} s compiling; "
                      f"baseline {w['baseline']['times_s']} after {w['baseline']['compile_s']} s compiling.",
                      f"- FLOPs: {w['flops']['analytic']:.3e} analytic ({w['flops']['formula']}). XLA's cost "
                      f"analysis of one step times the number of steps: {w['flops']['xla']:.3e}, "
                      f"{w['flops']['xla_over_analytic']}x the analytic count taken the way XLA counts (every inner "
                      f"loop body once; XLA also counts elementwise operations).",
                      f"- Same results: in the {a['stable_runs']} of {a['runs']} runs that train stably (final loss "
                      f"below the first, never above 1.5 times it), the final losses of the two implementations "
                      f"differ by at most "
                      f"{_sci(a['stable_max_rel_diff'])} (relative; median {_sci(a['stable_median_rel_diff'])}; "
                      f"{a['stable_runs_above_1e-3']} above 1e-3)"
                      + (" [" + "; ".join(f"{g}: {x['stable_runs']} stable, max {_sci(x['stable_max_rel_diff'])}"
                                          for g, x in w["agreement_by_group"].items()) + "]"
                         if w.get("agreement_by_group") else "")
                      + (f". The {a['runs'] - a['stable_runs']} unstable runs (too large a learning rate) differ by up "
                         f"to {_sci(a['all_max_rel_diff'])}: there, float32 rounding differences between the vmapped "
                         f"and the unbatched program grow chaotically" if a["runs"] > a["stable_runs"] else "")
                      + f"; {a['finite_mismatch']} runs finite in only one."
                      + (f" {w['agreement_note']}" if w.get("agreement_note") else ""),
                      f"- {explain(w, report)}"]
    if "build" in report:
        b = report["build"]
        lines += ["", "## Book build", "", f"`{b['command']}`", ""]
        for kind in ("cold", "warm"):
            r = b[kind]
            lines.append(f"- {kind}: {r['seconds']:.0f} s, {r['executed']} notebooks executed ({r['executed_s']:.0f} s "
                         f"of execution), {r['from_cache']} from the cache, "
                         f"{'ok' if r['ok'] else 'FAILED: ' + str(r['failed_reports'] or r['warnings'][:3])}.")
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
