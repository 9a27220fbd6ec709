"""Build the whole book (as `make book` does) and check the HTML a reader gets."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tools.book import ROOT, build_values, chapter_paths, notebook_paths, toc_files


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


def _ledger_module():
    """The site's ledger extension (``_ext/dlfn_ledger.py``), which renders the generated pages."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("dlfn_ledger", ROOT / "_ext" / "dlfn_ledger.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _page_text(path) -> str:
    import html as html_lib

    text = re.sub(r"<[^>]+>", " ", path.read_text())
    return re.sub(r"\s+", " ", html_lib.unescape(text))


@pytest.mark.parametrize("page", ["book/intro", "book/ledger"])
def test_intro_and_ledger_show_every_chapters_own_tests_and_verdict(built, page):
    """The intro's map and the ledger are generated, when the book is built, from what each chapter glued:
    every chapter appears in the order of the book with its own verdict, and the ledger shows each of its tests
    with this run's interval, its control's and its outcome, exactly as the chapter glued them. A claim that
    fails shows "does not hold" there while the build succeeds."""
    ledger = _ledger_module()
    text = _page_text(built / f"{page}.html")
    report = ledger.robustness_report(str(ROOT))
    stems = [p.stem for p in chapter_paths().values()]
    if page != "book/ledger":
        at = 0
        for stem in stems:
            found = text.find(build_values(stem)["verdict"], at)
            assert found >= 0, f"{page}: the verdict of {stem} is not shown (in order) on the page"
            at = found
    else:
        # Each test's block starts at its (unique, snake_case) name: its interval, its control's, its spread
        # across base seeds and its outcome must all be in that block, and the blocks come in the book's order.
        # (Searching for each item in order over the whole page let a word such as "passes" match in the next
        # chapter's block and skip past it.)
        tests = [(stem, name) for stem in stems for name in build_values(stem)["verdict_tests"]]
        starts, at = [], 0
        for stem, name in tests:
            found = text.find(name, at)
            assert found >= 0, f"{page}: test {name!r} of {stem} is not shown (in order) on the page"
            starts.append(found)
            at = found + len(name)
        ends = starts[1:] + [len(text)]
        first = {}
        for (stem, name), start, end in zip(tests, starts, ends, strict=True):
            first.setdefault(stem, start)
            rec = build_values(stem)[f"test_{name}"]
            block = text[start:end]
            for item in [ledger.interval_text(rec), ledger.interval_text(rec["control"]),
                         ledger.robustness_text(re.sub(r"^\d+_", "", stem), rec, report), rec["outcome"]]:
                assert " ".join(item.split()) in block, f"{page}: {item!r} of {stem} is not shown in {name}'s block"
        previous_end = 0
        for stem in stems:
            verdict = build_values(stem)["verdict"]
            assert verdict in text[previous_end:first[stem]], \
                f"{page}: the verdict of {stem} is not shown before its tests"
            previous_end = first[stem]
    assert "{dlfn-" in (ROOT / f"{page}.md").read_text(), f"{page} must be generated (dlfn-ledger / dlfn-map)"


def test_robustness_report_is_current(built):
    """``make robustness`` ran every chapter at five or more base seeds since the chapter last changed (the
    report records each chapter's source hash), and its run at the default seed found the same outcomes as
    this build."""
    import hashlib
    import json

    path = ROOT / "robustness" / "report.json"
    assert path.exists(), "no robustness/report.json: run make robustness"
    report = json.loads(path.read_text())["chapters"]
    stale = []
    for slug, src in chapter_paths().items():
        entry = report.get(slug)
        if entry is None or entry["source_sha256"] != hashlib.sha256(src.read_bytes()).hexdigest():
            stale.append(slug)
            continue
        assert len(entry["runs"]) >= 5, f"{slug}: robustness needs at least 5 base seeds"
        values = build_values(src.stem)
        default = entry["runs"].get("0")
        assert default is not None, f"{slug}: the robustness report lacks the default seed 0"
        built_outcomes = {n: values[f"test_{n}"]["outcome"] for n in values["verdict_tests"]}
        assert {n: t["outcome"] for n, t in default["tests"].items()} == built_outcomes, slug
    assert not stale, f"robustness/report.json is older than {stale}: run make robustness CHAPTER=<slug>"


def test_ledger_is_right_after_the_intro():
    assert toc_files()[:2] == ["book/intro", "book/ledger"]


def test_a_new_chapter_is_three_files(built, tmp_path):
    """Adding a chapter takes three files: the chapter, its test and its entry in ``_toc.yml``. In a copy of the
    repository (its tracked files, with this session's kept executions so that only the new chapter executes),
    the template becomes ``book/99_throwaway.md``, ``_toc.yml`` gets one entry and ``nbtests/test_throwaway.py``
    one test; git sees exactly those three changes. The copy's book then builds, and its table of contents,
    ledger and intro map show the new chapter with its verdict, and ``make test CHAPTER=throwaway``'s tests pass
    there."""
    import os
    import shutil
    import subprocess
    import sys

    import yaml

    copy = tmp_path / "repo"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(copy)], check=True)
    for rel in subprocess.run(["git", "ls-files", "--modified", "--others", "--exclude-standard"], cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout.split():
        if (ROOT / rel).is_file():  # the working tree as it is, committed or not
            (copy / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, copy / rel)
    for rel in subprocess.run(["git", "diff", "--name-only", "--diff-filter=D", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout.split():
        (copy / rel).unlink(missing_ok=True)  # deleted since the last commit, staged or not
    subprocess.run(["git", "add", "-A"], cwd=copy, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", "as is",
                    "--allow-empty"], cwd=copy, check=True)
    shutil.copytree(ROOT / "_build" / "executed", copy / "_build" / "executed")  # reused: same sources

    source = (ROOT / "templates" / "chapter_template.md").read_text()
    source = source.replace("(ch-template)=", "(ch-throwaway)=", 1)  # what an author fills in: a label, and
    source = source.replace('where="(the template is not part of the book)"', 'where="Box 1"', 1)  # the place
    (copy / "book" / "99_throwaway.md").write_text(source)
    toc = yaml.safe_load((copy / "_toc.yml").read_text())
    toc["parts"][-1]["chapters"].append({"file": "book/99_throwaway"})
    (copy / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False))
    (copy / "nbtests" / "test_throwaway.py").write_text(
        "from nbtests.verdicts import assert_outcome\n\n\n"
        "def test_a_fitted_model_beats_predicting_the_mean(chapter):\n"
        "    assert_outcome(chapter('throwaway'), 'learns_the_task', 'passes')\n")
    changed = subprocess.run(["git", "status", "--porcelain"], cwd=copy, capture_output=True, text=True,
                             check=True).stdout.split("\n")
    assert sorted(line[3:] for line in changed if line) == ["_toc.yml", "book/99_throwaway.md",
                                                              "nbtests/test_throwaway.py"], changed

    env = dict(os.environ, PYTHONPATH=str(copy))
    env.pop("PYTEST_ADDOPTS", None)
    build = subprocess.run([sys.executable, "-m", "tools.build"], cwd=copy, env=env, capture_output=True,
                           text=True)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    assert "1 notebooks executed" in build.stdout, build.stdout[:500]  # the new chapter only
    html = copy / "_build" / "html"
    title = re.search(r"^# (.+)$", source, re.M).group(1)
    verdict = build_values("99_throwaway", copy / "_build" / "jupyter_execute")["verdict"]
    for page in ("book/intro", "book/ledger", "book/01_three_components"):  # the last: the sidebar's toc
        text = _page_text(html / f"{page}.html")
        assert title.split(":")[0] in text, f"{page} does not show the new chapter"
        if page != "book/01_three_components":
            assert verdict in text.split(title.split(":")[0], 1)[1], f"{page} does not show its verdict"
    tests = subprocess.run([sys.executable, "-m", "pytest", "nbtests", "--chapter", "throwaway", "-q",
                            "-p", "no:cacheprovider"], cwd=copy, env=env, capture_output=True, text=True)
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-3000:]
