"""What a reader gets besides the pages: notebook downloads, Binder launch links, the student edition.

Uses the session's book builds: ``built`` (``_build/html``, as ``make book``) and ``student_built``
(``_build/student/html``, as ``make book-student``, which reads the regular build's execution cache).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlparse

import nbformat
import pytest
import yaml

from tools.book import ROOT, chapter_paths
from tools.run import read_notebook

CHAPTERS = chapter_paths()
TEMPLATE = ROOT / "templates" / "chapter_template.md"
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
FASTEST = "learning_dynamics"  # the chapter whose clean download is executed end to end (~10 s)


# --- reading pages -----------------------------------------------------------------------------------


class Links(HTMLParser):
    """Every ``<a>`` of a page: (href, classes)."""

    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            a = dict(attrs)
            self.links.append((a.get("href") or "", (a.get("class") or "").split()))


class Text(HTMLParser):
    """A page's text content (code included, tags dropped, entities decoded)."""

    def __init__(self):
        super().__init__()
        self.parts = []

    def handle_data(self, data):
        self.parts.append(data)


def links(page: Path) -> list[tuple[str, list[str]]]:
    parser = Links()
    parser.feed(page.read_text())
    return parser.links


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def page_text(path: Path) -> str:
    """What a file of the site shows or holds, whitespace collapsed: an HTML page's text, a notebook's cell
    sources and text outputs, any other text file as it is."""
    if path.suffix == ".html":
        parser = Text()
        parser.feed(path.read_text(errors="replace"))
        return squash("".join(parser.parts))
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text())
        parts = []
        for cell in nb["cells"]:
            parts.append("".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"])
            for out in cell.get("outputs", []):
                for value in [out.get("text", "")] + list(out.get("data", {}).values()):
                    parts.append("".join(value) if isinstance(value, list) else str(value))
        return squash("\n".join(parts))
    return squash(path.read_text(errors="replace"))


def page_of(html: Path, src: Path) -> Path:
    return html / src.relative_to(ROOT).with_suffix(".html")


def button(page: Path, label: str) -> Path:
    """The file a header button (by its theme label) of ``page`` links to."""
    hrefs = [href for href, classes in links(page) if f"btn-{label}" in classes]
    assert len(hrefs) == 1, f"{page.name}: {len(hrefs)} '{label}' links"
    return (page.parent / hrefs[0]).resolve()


def code_sources(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "code"]


# --- downloads -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", sorted(CHAPTERS))
def test_chapter_page_offers_executed_and_clean_notebooks(built, slug):
    src = CHAPTERS[slug]
    page = page_of(built, src)
    executed_path = button(page, "download-notebook-button")
    clean_path = button(page, "download-clean-notebook-button")
    assert executed_path != clean_path
    chapter_code = code_sources(read_notebook(src))

    executed = nbformat.read(executed_path, as_version=4)
    nbformat.validate(executed)
    assert executed.nbformat == 4
    assert code_sources(executed) == chapter_code, f"{slug}: the executed download is not this chapter"
    outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"], f"{slug}: an error output in the download"
    figures = [o for o in outputs if "image/png" in o.get("data", {})]
    n_glued_figures = len(re.findall(r"```\{glue:figure\}", src.read_text()))
    assert outputs and len(figures) >= n_glued_figures, \
        f"{slug}: {len(outputs)} outputs, {len(figures)} figures for {n_glued_figures} glued figures"
    assert not [k for o in outputs for k in o.get("data", {}) if k.startswith("application/papermill")], \
        f"{slug}: glued outputs left in a form a notebook viewer does not show"

    clean = nbformat.read(clean_path, as_version=4)
    nbformat.validate(clean)
    assert clean.nbformat == 4 and clean.metadata.kernelspec.name == "python3"
    assert code_sources(clean) == chapter_code, f"{slug}: the clean download's code differs from the chapter"
    assert all(not c.outputs and c.execution_count is None for c in clean.cells if c.cell_type == "code"), \
        f"{slug}: the clean download has outputs"


def test_a_clean_download_runs_in_a_plain_kernel(built, tmp_path):
    """The clean notebook runs top to bottom in a python3 kernel, in a folder of its own (not book/)."""
    from nbclient import NotebookClient

    if FASTEST not in CHAPTERS:
        pytest.skip(f"no chapter {FASTEST!r}")
    path = button(page_of(built, CHAPTERS[FASTEST]), "download-clean-notebook-button")
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert not [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]


# --- Binder --------------------------------------------------------------------------------------------


def _repository() -> tuple[str, str, str]:
    url = urlparse(CONFIG["repository"]["url"])
    owner, repo = url.path.strip("/").split("/")[:2]
    return owner, repo, CONFIG["repository"].get("branch", "main")


def _git_ignored(rel: str) -> bool | None:
    if not (ROOT / ".git").exists():
        return None
    r = subprocess.run(["git", "check-ignore", "-q", rel], cwd=ROOT, capture_output=True)
    return r.returncode == 0


@pytest.mark.parametrize("slug", sorted(CHAPTERS))
def test_binder_link_opens_this_chapter(built, slug):
    src = CHAPTERS[slug]
    page = page_of(built, src)
    hub = urlparse(CONFIG["launch_buttons"]["binderhub_url"])
    binder = [href for href, _ in links(page) if urlparse(href).netloc == hub.netloc]
    assert len(binder) == 1, f"{slug}: {len(binder)} Binder links"
    url = urlparse(binder[0])
    owner, repo, branch = _repository()
    assert (url.scheme, url.netloc) == ("https", "mybinder.org")
    assert url.path == f"/v2/gh/{owner}/{repo}/{branch}", url.path
    query = parse_qs(url.query)
    assert list(query) == ["urlpath"] and len(query["urlpath"]) == 1, url.query
    prefix = {"jupyterlab": "lab/tree/", "classic": "tree/"}[CONFIG["launch_buttons"]["notebook_interface"]]
    urlpath = query["urlpath"][0]
    assert urlpath.startswith(prefix), urlpath
    rel = urlpath[len(prefix):]
    assert rel == src.relative_to(ROOT).as_posix(), f"{slug}: Binder opens {rel}"
    assert (ROOT / rel).is_file(), f"{slug}: Binder opens {rel}, which does not exist"
    assert _git_ignored(rel) is not True, f"{slug}: Binder opens {rel}, which git ignores (not in the repository)"


def test_repository_button(built):
    page = page_of(built, CHAPTERS[sorted(CHAPTERS)[0]])
    repo = [href for href, classes in links(page) if "btn-source-repository-button" in classes]
    assert repo == [CONFIG["repository"]["url"]]


def test_binder_configuration():
    """repo2docker builds from requirements.txt with the Python of runtime.txt, and its postBuild makes
    JupyterLab open MyST chapters as notebooks (jupytext)."""
    assert not (ROOT / "binder").exists() and not (ROOT / ".binder").exists(), \
        "a binder/ folder makes repo2docker ignore the files at the root"
    runtime = (ROOT / "runtime.txt").read_text().strip()
    m = re.fullmatch(r"python-3\.(\d+)", runtime)
    assert m, f"runtime.txt: {runtime!r} is not of the form python-3.X"
    required = re.search(r'requires-python\s*=\s*">=\s*3\.(\d+)', (ROOT / "pyproject.toml").read_text())
    assert not required or int(m.group(1)) >= int(required.group(1)), "runtime.txt's Python is too old"
    requirements = (ROOT / "requirements.txt").read_text()
    assert re.search(r"^jupytext\b", requirements, re.M), "requirements.txt must install jupytext"
    assert re.search(r"^-e \.$", requirements, re.M), "requirements.txt must install the dlfn package"
    # jupytext, once pip-installed, enables its server extension and ships its JupyterLab extension
    prefix = Path(sys.prefix)
    assert (prefix / "etc/jupyter/jupyter_server_config.d/jupytext.json").is_file()
    assert (prefix / "share/jupyter/labextensions/jupyterlab-jupytext").is_dir()
    for src in CHAPTERS.values():
        assert read_notebook(src).metadata["kernelspec"]["name"] == "python3"


def test_binder_post_build_makes_md_open_as_notebooks(tmp_path):
    post_build = ROOT / "postBuild"
    assert os.access(post_build, os.X_OK), "postBuild must be executable"
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    env.update(HOME=str(tmp_path), PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}")
    r = subprocess.run([str(post_build)], cwd=ROOT, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    settings = json.loads((tmp_path / ".jupyter/labconfig/default_setting_overrides.json").read_text())
    viewers = settings["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
    assert viewers.get("markdown") == viewers.get("myst") == "Jupytext Notebook", viewers
    shellcheck = Path(sys.executable).parent / "shellcheck"
    if shellcheck.exists():
        r = subprocess.run([str(shellcheck), "--severity=style", str(post_build)], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr


# --- the student edition -------------------------------------------------------------------------------

_FENCE = re.compile(r"^\s*(`{3,}|:{3,})")
_PROSE_PIECE = re.compile(r"[A-Za-z0-9 ,.;:]+")


def _regions(src: Path):
    """The chapter's text as (state, kind, tags, lines): each code cell, and each markdown line, with its
    state: "solution" (inside ``solution-start`` .. ``solution-end`` or a ``{solution}``), "exercise" (an
    ``{exercise}`` statement) or "public". Written independently of ``_ext/dlfn_site.py``."""
    out, state = [], "public"
    closing = body = after = None  # inside a directive: its closing fence, where its body goes, what follows
    for cell in read_notebook(src).cells:
        if cell.cell_type == "code":
            out.append((state, "code", cell.metadata.get("tags", []), cell.source.splitlines()))
            continue
        for line in cell.source.splitlines():
            if closing is not None:
                if line.strip() == closing:
                    closing, state = None, after
                elif body and not line.lstrip().startswith(":"):
                    out.append((body, "md", [], [line]))
                continue
            fence = _FENCE.match(line)
            directive = re.search(r"\{([\w-]+)\}", line) if fence else None
            name = directive.group(1) if directive else None
            if name in ("solution-start", "solution-end", "solution", "exercise"):
                closing = fence.group(1)
                body = {"solution": "solution", "exercise": "exercise"}.get(name)
                after = "solution" if name == "solution-start" else "public" if name == "solution-end" else state
                continue
            out.append((state, "md", [], [line]))
    return out


def _fragments(kind: str, lines: list[str]) -> list[str]:
    """Distinctive pieces of source that a rendered page shows verbatim: whole code lines, and runs of
    plain words in prose (markup, math and punctuation a renderer changes split the runs)."""
    pieces = []
    for line in lines:
        if kind == "code":
            line = line.strip()
            if len(line) >= 20 and not line.startswith("#"):
                pieces.append(squash(line))
        elif not _FENCE.match(line):
            runs = [squash(p.strip(" ,.;:")) for p in _PROSE_PIECE.findall(line)]
            pieces += [r for r in runs if len(r) >= 25 and len(r.split()) >= 4]
    return pieces


def _solution_and_statement_fragments(src: Path, public: str) -> tuple[list[str], list[str]]:
    solution, statement = [], []
    for state, kind, tags, lines in _regions(src):
        if kind == "code" and {"remove-input", "remove-cell"} & set(tags):
            continue
        if state == "solution":
            solution += [f for f in _fragments(kind, lines) if f not in public]
        elif state == "exercise":
            statement += _fragments(kind, lines)
    return solution, statement


@pytest.fixture(scope="module")
def public_text():
    """Every chapter's text outside the solutions: a solution fragment found here is not distinctive."""
    parts = []
    for src in sorted((ROOT / "book").glob("*.md")):
        for state, _kind, _tags, lines in _regions(src):
            if state != "solution":
                parts.append("\n".join(lines))
    return squash("\n".join(parts))


@pytest.mark.parametrize("slug", sorted(CHAPTERS) + ["chapter_template"])
def test_stripping_removes_exactly_the_solutions(slug):
    """The stripping the student edition applies to downloads and copied sources, checked without a build
    on every chapter and on the template (which the book does not build): it removes the solution code
    cells and nothing else, and leaves no solution directive in the text."""
    sys.path.insert(0, str(ROOT / "_ext"))
    try:
        import dlfn_site
    finally:
        sys.path.remove(str(ROOT / "_ext"))
    src = TEMPLATE if slug == "chapter_template" else CHAPTERS[slug]
    stripped = dlfn_site.strip_solutions_notebook(read_notebook(src))
    expected = ["\n".join(lines) for state, kind, _, lines in _regions(src) if kind == "code" and state != "solution"]
    assert [c.strip() for c in code_sources(stripped)] == [c.strip() for c in expected]
    assert len(code_sources(stripped)) < len(code_sources(read_notebook(src))), f"{slug}: no solution code cell"
    text = dlfn_site.strip_solutions_text(src.read_text())
    assert not re.search(r"\{solution(-start|-end)?\}", text)
    assert text.count("{exercise}") == src.read_text().count("{exercise}")


def test_student_edition_is_a_separate_site(built, student_built):
    assert student_built.resolve() != built.resolve()
    assert (student_built / "index.html").is_file() and (built / "index.html").is_file()
    for src in CHAPTERS.values():
        assert page_of(student_built, src).is_file(), f"no student page for {src.name}"
    log = (student_built.parent / "build.log").read_text()  # written by the student_built fixture
    assert "Executing notebook" not in log, \
        "the student build executed a chapter instead of reading the regular build's cache"


@pytest.mark.parametrize("slug", sorted(CHAPTERS))
def test_student_pages_keep_exercises_and_drop_solutions(built, student_built, slug):
    src = CHAPTERS[slug]
    n_solutions = len(re.findall(r"^\s*(?:`{3,}|:{3,})\{solution(?:-start)?\}", src.read_text(), re.M))
    n_exercises = len(re.findall(r"^\s*(?:`{3,}|:{3,})\{exercise(?:-start)?\}", src.read_text(), re.M))
    regular = page_of(built, src).read_text()
    student = page_of(student_built, src).read_text()
    solution_class = r'class="(?:[^"]*\s)?solution(?:\s[^"]*)?"'
    exercise_class = r'class="(?:[^"]*\s)?exercise(?:\s[^"]*)?"'
    assert len(re.findall(solution_class, regular)) == n_solutions, f"{slug}: regular edition lost solutions"
    assert not re.findall(solution_class, student), f"{slug}: a solution box in the student edition"
    assert len(re.findall(exercise_class, student)) == len(re.findall(exercise_class, regular)) >= n_exercises

    # the student downloads are the chapter without its solution code cells
    chapter_code = [("\n".join(lines), state) for state, kind, _, lines in _regions(src) if kind == "code"]
    for label in ("download-clean-notebook-button", "download-notebook-button"):
        nb = nbformat.read(button(page_of(student_built, src), label), as_version=4)
        assert [s.strip() for s in code_sources(nb)] == \
            [code.strip() for code, state in chapter_code if state != "solution"], f"{slug}: {label}"


def test_no_solution_reaches_the_student_site(built, student_built, public_text):
    """No distinctive line of any solution (its code or its prose) is in any file of the student site,
    while every one of them is on the regular page and every exercise statement is on both."""
    files = [p for p in student_built.rglob("*") if p.is_file() and p.suffix in
             (".html", ".ipynb", ".md", ".txt", ".js", ".json")]
    site = {p: page_text(p) for p in files}
    checked = 0
    for slug, src in sorted(CHAPTERS.items()):
        solution, statement = _solution_and_statement_fragments(src, public_text)
        regular = page_text(page_of(built, src))
        student = page_text(page_of(student_built, src))
        assert solution and statement, f"{slug}: found no solution or exercise text to check"
        missing = [f for f in solution if f not in regular]
        assert not missing, f"{slug}: solution text not on the regular page (the check would be vacuous): {missing}"
        missing = [f for f in statement if f not in regular or f not in student]
        assert not missing, f"{slug}: exercise statements missing: {missing}"
        for fragment in solution:
            leaks = [str(p.relative_to(student_built)) for p, text in site.items() if fragment in text]
            assert not leaks, f"{slug}: solution text {fragment!r} in the student site: {leaks}"
            checked += 1
    assert checked >= 2 * len(CHAPTERS)


def test_student_build_links_resolve(student_built):
    """The student edition's download links point at files that exist (solutions removed from them)."""
    for src in CHAPTERS.values():
        page = page_of(student_built, src)
        for href, classes in links(page):
            if "btn-download-notebook-button" in classes or "btn-download-clean-notebook-button" in classes:
                assert (page.parent / href).resolve().is_file(), urljoin(page.name, href)
