"""The ledger, the intro's map of the book, and the robustness table, generated from what the chapters glued.

Registered in ``_config.yml`` next to ``dlfn_site``. Two directives, each with no content:

``{dlfn-ledger}``
    For every chapter of ``_toc.yml``, in order: its claim, where the paper makes it, its verdict, and for each
    of its tests (the records ``dlfn.hypothesis_test`` glued) what the cited study reported, this run's value
    with its interval and rule, the control's value, and the outcome; then the values and verdicts of the same
    tests at several base seeds, from the committed ``robustness/report.json`` (``make robustness``).
``{dlfn-map}``
    One row per chapter: claim, where in the paper, chapter, verdict (the intro's map).

Nothing here is typed: every value comes from a chapter's glue file (myst-nb's ``<page>.glue.json``, written
when the chapter executes) or from the robustness report. So that the chapters' glue exists when the pages
that hold these directives are read, those pages are read last, and re-read in every build.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

LOGGER = logging.getLogger(__name__)
DIRECTIVES = ("dlfn-ledger", "dlfn-map")
ROBUSTNESS = Path("robustness") / "report.json"


def _tools(srcdir: str):
    if srcdir not in sys.path:
        sys.path.insert(0, srcdir)
    from tools import book

    return book


# ------------------------------------------------------------------------------------------ the data


def chapter_data(srcdir: str, glue_folder: str) -> list[dict]:
    """Everything the generated pages show about each chapter, in the order of ``_toc.yml``."""
    book = _tools(srcdir)
    chapters = []
    for number, (slug, path) in enumerate(book.chapter_paths(Path(srcdir)).items(), start=1):
        glue_path = Path(glue_folder) / "book" / f"{path.stem}.glue.json"
        entry = {"number": number, "slug": slug, "stem": path.stem, "label": book.chapter_label(path),
                 "glue_path": glue_path, "missing": None}
        if not glue_path.exists():
            entry["missing"] = f"{glue_path} does not exist (the chapter did not execute)"
            chapters.append(entry)
            continue
        texts, _ = book.read_glue_file(glue_path)
        values = {k: book.parse_glued_text(v) for k, v in texts.items()}
        needed = ["verdict", "verdict_met", "verdict_tests", "chapter_claim", "chapter_where"]
        lacking = [k for k in needed if k not in values]
        lacking += [f"test_{t}" for t in values.get("verdict_tests", []) if f"test_{t}" not in values]
        if lacking:
            entry["missing"] = f"it glued no {', '.join(lacking)} (call dlfn.glue_verdict in its closing cell)"
            chapters.append(entry)
            continue
        entry.update(claim=values["chapter_claim"], where=values["chapter_where"], verdict=values["verdict"],
                     met=values["verdict_met"], tests=[values[f"test_{t}"] for t in values["verdict_tests"]])
        chapters.append(entry)
    return chapters


def robustness_report(srcdir: str) -> dict | None:
    path = Path(srcdir) / ROBUSTNESS
    return json.loads(path.read_text()) if path.exists() else None


# ----------------------------------------------------------------------------------------- rendering


def cell(text) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def one_line(text) -> str:
    return " ".join(str(text).split())


def num(x) -> str:
    return f"{x:.3g}"


def interval_text(r: dict) -> str:
    lo, hi = r["ci"]
    return f"{num(r['value'])} [{num(lo)}, {num(hi)}]"


def published_text(rec: dict) -> str:
    pub = rec.get("published")
    if not pub:
        return "*No published number.* The threshold: " + rec["source"]
    parts = [f"*Cited study* ({{footcite:t}}`{pub['cite']}`):" if pub.get("cite") else "*Cited study:*",
             pub["value"]]
    if pub.get("setup"):
        parts.append(f"Setup: {pub['setup']}")
    if pub.get("differences"):
        parts.append(f"This book differs: {pub['differences']}")
    return " ".join(p.rstrip(".") + ("" if p.endswith(":") else ".") for p in parts)


def this_run_text(rec: dict) -> str:
    return (f"*This run:* {rec['statistic']}: {interval_text(rec)} ({100 * rec['ci_level']:g}% CI, "
            f"n = {rec['n']} {rec['unit']}); rule: {rec['rule']['text']}.")


def control_text(rec: dict) -> str:
    c = rec["control"]
    return (f"*Control* ({c['condition']}): {interval_text(c)}, "
            f"{'meets the rule too' if c['met'] else 'fails the rule, as it must'}.")


def robustness_text(slug: str, rec: dict, report: dict | None) -> str:
    runs = (report or {}).get("chapters", {}).get(slug, {}).get("runs", {})
    found = [(seed, run["tests"].get(rec["name"])) for seed, run in runs.items()]
    found = [(seed, t) for seed, t in found if t is not None]
    if not found:
        return "not yet run at other seeds (`make robustness`)"
    values = [t["value"] for _, t in found]
    passes = sum(t["outcome"] == "passes" for _, t in found)
    return (f"{num(min(values))} to {num(max(values))} over base seeds "
            f"{', '.join(str(s) for s, _ in found)}; passes at {passes} of {len(found)}")


def verdicts_across_seeds(slug: str, report: dict | None) -> str:
    runs = (report or {}).get("chapters", {}).get(slug, {}).get("runs", {})
    if not runs:
        return "Not yet run at other base seeds (`make robustness`)."
    return "Verdict at base seeds " + "; ".join(f"{seed}: {run['verdict']}" for seed, run in runs.items()) + "."


def ledger_markdown(chapters: list[dict], report: dict | None) -> str:
    """A summary table (one short row per chapter), then each chapter's tests as nested lists: a list reads
    at any width, where a table of sentences would need sideways scrolling."""
    lines = ["| Chapter | Claim | Where in the paper | Verdict |", "|---|---|---|---|"]
    for ch in chapters:
        lines.append(f"| {ch['number']}. {{ref}}`{ch['label']}` | {cell(ch['claim'])} | {cell(ch['where'])} | "
                     f"**{ch['verdict']}** ({cell(ch['met'])}) |")
    for ch in chapters:
        lines += ["", f"**{ch['number']}. {{ref}}`{ch['label']}`: {ch['verdict']}** ({one_line(ch['met'])}). "
                      f"{one_line(verdicts_across_seeds(ch['slug'], report))}", ""]
        for rec in ch["tests"]:
            lines += [f"- **{one_line(rec['name'])}**, *{rec['outcome']}*: {one_line(rec['claim'])}.",
                      f"  - {one_line(this_run_text(rec))}",
                      f"  - {one_line(control_text(rec))}",
                      f"  - {one_line(published_text(rec))}",
                      f"  - *Across base seeds:* {one_line(robustness_text(ch['slug'], rec, report))}."]
    return "\n".join(lines) + "\n"


def map_markdown(chapters: list[dict]) -> str:
    lines = ["| Claim of the paper | Where in the paper | Chapter | Verdict of this run |", "|---|---|---|---|"]
    for ch in chapters:
        lines.append(f"| {cell(ch['claim'])} | {cell(ch['where'])} | {ch['number']}. {{ref}}`{ch['label']}` | "
                     f"{ch['verdict']} |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------- directives


class _Generated(SphinxDirective):
    has_content = False

    def markdown(self, chapters, report) -> str:
        raise NotImplementedError

    def run(self):
        srcdir, folder = self.env.srcdir, self.env.mystnb_config.output_folder
        chapters = chapter_data(str(srcdir), folder)
        report = robustness_report(str(srcdir))
        for ch in chapters:
            if ch["glue_path"].exists():
                self.env.note_dependency(str(ch["glue_path"]))
        if (Path(srcdir) / ROBUSTNESS).exists():
            self.env.note_dependency(str(Path(srcdir) / ROBUSTNESS))
        missing = [ch for ch in chapters if ch["missing"]]
        for ch in missing:
            LOGGER.warning(f"{self.name}: chapter {ch['slug']!r} is left out: {ch['missing']}",
                           location=(self.env.docname, self.lineno))
        container = nodes.container(classes=["dlfn-generated", self.name])
        text = self.markdown([ch for ch in chapters if not ch["missing"]], report)
        self.state.nested_parse(StringList(text.splitlines(), source=f"<{self.name}>"), self.content_offset,
                                container)
        return [container]


class LedgerDirective(_Generated):
    def markdown(self, chapters, report):
        return ledger_markdown(chapters, report)


class MapDirective(_Generated):
    def markdown(self, chapters, report):
        return map_markdown(chapters)


# ---------------------------------------------------------------------------------- reading order


def _generated_pages(env) -> list[str]:
    pages = []
    for docname in sorted(env.found_docs):
        try:
            text = Path(env.doc2path(docname)).read_text(encoding="utf-8")
        except OSError:
            continue
        if any(f"{{{d}}}" in text for d in DIRECTIVES):
            pages.append(docname)
    return pages


def reread_generated_pages(app: Sphinx, env, added, changed, removed) -> list[str]:
    """The generated pages depend on every chapter's run: read them again in every build."""
    return [p for p in _generated_pages(env) if p not in added and p not in changed]


def read_generated_pages_last(app: Sphinx, env, docnames: list[str]) -> None:
    """Read the generated pages after every chapter, so that the chapters' glue files are this build's."""
    pages = _generated_pages(env)
    for page in pages:
        if page in docnames:
            docnames.remove(page)
    docnames.extend(pages)


def setup(app: Sphinx) -> dict:
    for name, directive in (("dlfn-ledger", LedgerDirective), ("dlfn-map", MapDirective)):
        app.add_directive(name, directive)
    app.connect("env-get-outdated", reread_generated_pages)
    app.connect("env-before-read-docs", read_generated_pages_last)
    return {"version": "1.0", "parallel_read_safe": False, "parallel_write_safe": True}
