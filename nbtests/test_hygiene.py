"""The book's house rules, checked on every chapter in the table of contents (and on the template)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tools.book import ROOT, chapter_paths, notebook_paths, toc_files
from tools.run import read_notebook

CHAPTERS = chapter_paths()
TEMPLATE = ROOT / "templates" / "chapter_template.md"
ALL = {**CHAPTERS, "chapter_template": TEMPLATE}
NOTEBOOKS = {**notebook_paths(), "chapter_template": TEMPLATE}  # also the intro
RUFF = str(Path(sys.executable).parent / "ruff")


def code_cells(path):
    return [c for c in read_notebook(path).cells if c.cell_type == "code"]


def test_every_toc_entry_exists():
    for rel in toc_files():
        assert (ROOT / f"{rel}.md").exists(), f"_toc.yml names {rel}, which does not exist"


def test_there_are_chapters():
    assert len(CHAPTERS) >= 1


@pytest.mark.parametrize("slug", sorted(ALL))
def test_exactly_one_parameters_cell(slug):
    tagged = [c for c in code_cells(ALL[slug]) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{slug}: {len(tagged)} cells tagged 'parameters'"


@pytest.mark.parametrize("slug", sorted(ALL))
def test_no_equals_sign_in_a_parameters_comment(slug):
    """papermill parses the parameters cell line by line and cannot read a line whose comment holds '='
    ("Unable to parse line ..."), so that parameter could not be overridden from the tests or make robustness."""
    tagged = [c for c in code_cells(ALL[slug]) if "parameters" in c.metadata.get("tags", [])]
    bad = [line for c in tagged for line in c.source.splitlines() if "#" in line and "=" in line.split("#", 1)[1]]
    assert not bad, f"{slug}: '=' inside a parameter's comment: {bad}"


def _assigned_names(source: str) -> list[str]:
    names = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
    return names


def _declared_spec(cells) -> dict:
    for cell in cells:
        for node in ast.parse(cell.source).body:
            if (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "PARAMETER_SPEC"
                                                     for t in node.targets)):
                return {k.value: v for k, v in zip(node.value.keys, node.value.values)}
    return {}


@pytest.mark.parametrize("slug", sorted(ALL))
def test_every_parameter_is_declared_and_checked(slug):
    """Each name set in the parameters cell has a type and range in PARAMETER_SPEC, checked at once."""
    cells = code_cells(ALL[slug])
    params = next(c for c in cells if "parameters" in c.metadata.get("tags", []))
    names = _assigned_names(params.source)
    spec = _declared_spec(cells)
    assert names, f"{slug}: the parameters cell sets nothing"
    assert sorted(spec) == sorted(names), f"{slug}: declared {sorted(spec)} but the cell sets {sorted(names)}"
    assert "seed" in names, f"{slug}: no seed parameter"
    i = cells.index(params)
    assert "check_parameters(PARAMETER_SPEC, globals())" in cells[i + 1].source, \
        f"{slug}: the cell right after the parameters cell must call check_parameters"


FIG_DIRECTIVE = re.compile(r"```\{glue:figure\}\s+(\S+)\n(.*?)\n\n", re.S)


@pytest.mark.parametrize("slug", sorted(NOTEBOOKS))
def test_every_figure_is_shown_with_alt_text(slug):
    text = NOTEBOOKS[slug].read_text()
    shown = {}
    for name, options in FIG_DIRECTIVE.findall(text):
        shown[name] = re.search(r"^:?alt:\s*\S", options, re.M) is not None
    code = "\n".join(c.source for c in code_cells(NOTEBOOKS[slug]))
    glued = set(re.findall(r"glue_figure\(\s*[\"'](fig_\w+)[\"']", code))
    assert glued, f"{slug}: no figure"
    for name in glued:
        assert name in shown, f"{slug}: figure {name} is glued but never shown"
    for name, has_alt in shown.items():
        assert has_alt, f"{slug}: figure {name} has no alt text"
    for alt in re.findall(r"!\[(.*?)\]\(", text):
        assert alt.strip(), f"{slug}: a markdown image has no alt text"


@pytest.mark.parametrize("slug", sorted(NOTEBOOKS))
def test_no_url_in_code_cells(slug):
    """Nothing is downloaded at run time: no http(s) address in any code cell."""
    for cell in code_cells(NOTEBOOKS[slug]):
        assert not re.search(r"https?://", cell.source), f"{slug}: URL in a code cell:\n{cell.source[:200]}"


def test_no_notebooks_or_outputs_tracked():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    if not tracked:
        pytest.skip("not a git checkout")
    assert not [f for f in tracked if f.endswith(".ipynb")], "committed .ipynb files"
    assert not [f for f in tracked if f.startswith(("_build/", ".venv/"))], "committed build products"


def test_ruff_clean_on_package_and_tests():
    code = [d for d in ("dlfn", "nbtests", "_ext", "bench") if (ROOT / d).is_dir()]
    r = subprocess.run([RUFF, "check", "--config", str(ROOT / "pyproject.toml"), *code], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_ruff_clean_on_chapter_code(tmp_path):
    import jupytext

    for slug, path in NOTEBOOKS.items():
        nb = read_notebook(path)
        jupytext.write(nb, tmp_path / f"{slug}.py", fmt="py:percent")
    # prose becomes comments (E501) and notebooks end cells with ';' to hide a value (E703)
    ignore = "E402,I001,E501,E703"
    r = subprocess.run([RUFF, "check", "--config", str(ROOT / "pyproject.toml"), "--extend-ignore", ignore,
                        str(tmp_path)], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_licence_citation_and_contributing_guides_exist():
    """Instructors can reuse the book: the licences are stated, the book is citable, the guides exist."""
    licence = (ROOT / "LICENSE").read_text()
    assert "MIT License" in licence and "CC BY 4.0" in licence
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    for key in ("cff-version", "message", "title", "authors"):
        assert cff.get(key), f"CITATION.cff lacks {key}"
    assert cff["license"] == "MIT"
    guide = (ROOT / "CONTRIBUTING.md").read_text()
    assert "## Write a chapter" in guide and "## Fork one chapter for a course" in guide
    footer = yaml.safe_load((ROOT / "_config.yml").read_text())["html"]["extra_footer"]
    assert "MIT" in footer and "CC" in footer, footer


def test_bench_tables_are_generated_from_the_committed_report():
    """The README's "How long does it take" table and bench/report.md are rendered from bench/report.json by
    bench/readme.py, never typed: each must equal what `python -m bench.readme` writes, and every row must be a
    notebook of the book (a new chapter has no row until `make bench CHAPTER=slug` measures it)."""
    import json

    from bench.readme import END, REPORT, START, full_report, readme_table

    report = json.loads(REPORT.read_text())
    readme = (ROOT / "README.md").read_text()
    assert readme.count(START) == 1 and readme.count(END) == 1, "README.md needs one bench-table block"
    table = readme.split(START, 1)[1].split(END, 1)[0].strip("\n")
    assert table == readme_table(report), "README.md's table is not the report's: run python -m bench.readme"
    assert REPORT.with_suffix(".md").read_text() == full_report(report), \
        "bench/report.md is not the report's rendering: run python -m bench.readme"
    timed = {c["file"] for c in report["chapters"]["chapters"]}
    book = {str(p.relative_to(ROOT)) for p in notebook_paths().values()}
    assert timed <= book, f"bench/report.json times notebooks the book no longer has: {sorted(timed - book)}"
