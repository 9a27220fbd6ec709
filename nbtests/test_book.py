"""Build the whole book (as `make book` does) and check the HTML a reader gets."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from nbtests.harness import ROOT, chapter_paths, toc_files


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


@pytest.mark.parametrize("slug", sorted(chapter_paths()))
def test_chapter_page_has_figures_numbers_and_no_errors(built, slug):
    src = chapter_paths()[slug]
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
