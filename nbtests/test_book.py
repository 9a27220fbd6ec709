"""Build the whole book (as `make book` does) and check the HTML a reader gets."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from dlfn import VERDICTS, verdict_of
from nbtests.harness import ROOT, build_glued, chapter_paths, notebook_paths, toc_files


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.scripts, self.classes, self.pasted = [], [], [], []
        self._in_pasted = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.images.append(a)
        if tag == "script" and a.get("src"):
            self.scripts.append(a["src"])
        cls = a.get("class") or ""
        self.classes += cls.split()
        if "pasted-text" in cls.split():
            self._in_pasted += 1
            self.pasted.append("")

    def handle_endtag(self, tag):
        if tag == "span" and self._in_pasted:
            self._in_pasted -= 1

    def handle_data(self, data):
        if self._in_pasted:
            self.pasted[-1] += data


def parse(path):
    page = Page()
    page.feed(path.read_text())
    return page


def test_a_page_per_toc_entry(built):
    for rel in toc_files():
        assert (built / f"{rel}.html").exists(), f"no page for {rel}"


@pytest.mark.parametrize("slug", sorted(notebook_paths()))
def test_chapter_page_has_figures_numbers_and_no_errors(built, slug):
    src = notebook_paths()[slug]
    text = src.read_text()
    page_path = built / src.relative_to(ROOT).with_suffix(".html")
    page = parse(page_path)
    html = page_path.read_text()
    n_figures = len(re.findall(r"```\{glue:figure\}", text))
    figures = [img for img in page.images if "_images" in img.get("src", "") or img.get("src", "").startswith("data:")]
    assert len(figures) >= n_figures, f"{slug}: {len(figures)} images for {n_figures} glued figures"
    for img in figures:
        assert img.get("alt", "").strip(), f"{slug}: an image without alt text"
        src_attr = img["src"]
        if not src_attr.startswith("data:"):
            assert (page_path.parent / src_attr).resolve().exists(), f"{slug}: missing image {src_attr}"
    n_glued_text = len(re.findall(r"\{glue:text\}`", text)) + len(re.findall(r"\{glue\}`", text))
    assert len(page.pasted) >= n_glued_text, f"{slug}: {len(page.pasted)} glued numbers for {n_glued_text} roles"
    assert all(p.strip() for p in page.pasted), f"{slug}: an empty glued value"
    assert "{glue" not in html, f"{slug}: an unrendered glue role"
    assert "Traceback" not in html and "output traceback" not in html, f"{slug}: an error output"
    assert "output stderr" not in html, f"{slug}: stderr output on the page"


def test_math_is_served_from_the_site_not_a_cdn(built):
    page = parse(built / "book" / "07_inductive_biases.html")
    mathjax = [s for s in page.scripts if "mathjax" in s.lower()]
    assert mathjax, "no MathJax script on a page with equations"
    assert not [s for s in mathjax if s.startswith(("http:", "https:", "//"))], mathjax
    for s in mathjax:
        assert (built / "book" / s.split("?")[0]).resolve().exists(), f"MathJax file missing: {s}"


def _glued_in_build(stem):
    return build_glued(stem)[0]


@pytest.mark.parametrize("slug", sorted(chapter_paths()))
def test_each_chapter_judges_its_claim(built, slug):
    """Every chapter ends with a verdict computed from its criteria (none typed by hand)."""
    import ast

    glued = _glued_in_build(chapter_paths()[slug].stem)
    assert "verdict" in glued, f"{slug}: no verdict glued (call glue_verdict in the Summary)"
    verdict, criteria = ast.literal_eval(glued["verdict"]), ast.literal_eval(glued["verdict_criteria"])
    assert verdict in VERDICTS and criteria, (slug, verdict)
    assert verdict == verdict_of(criteria), f"{slug}: verdict {verdict!r} does not follow from {criteria}"


@pytest.mark.parametrize("page", ["book/intro", "book/ledger"])
def test_intro_and_ledger_show_every_chapters_own_verdict(built, page):
    """The map in the intro and the ledger paste each chapter's verdict from its executed run, in table
    order, so a claim that fails shows "does not hold" (or "partly holds") there while the build succeeds."""
    import ast

    parsed = parse(built / f"{page}.html")
    shown = [p.strip() for p in parsed.pasted if p.strip() in VERDICTS]
    expected = [ast.literal_eval(_glued_in_build(path.stem)["verdict"]) for path in chapter_paths().values()]
    assert shown == expected, f"{page}: verdicts on the page {shown} differ from the chapters' {expected}"
    source = (ROOT / f"{page}.md").read_text()
    for path in chapter_paths().values():
        assert f"{path.name}::verdict:s`" in source, f"{page}: no row for {path.name}"


def test_ledger_is_right_after_the_intro():
    assert toc_files()[:2] == ["book/intro", "book/ledger"]
