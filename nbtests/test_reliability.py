"""Reliability: the guarantees every chapter, present and future, must keep.

1. A rerun with the same parameters gives bit-identical glued values and figures.
2. Every parameter is declared and guarded; the invalid cases are derived from the declarations.
3. Divergence stops a chapter loudly, naming the quantity and the step.
4. No network: kernels refuse anything but loopback; CI runs the whole suite with no network at all.
5. The environment is pinned: requirements.txt, requirements.lock and the installed packages agree.
6. A failure names its chapter and cell in its first line.
7. No eval, exec or pickle in the package, the tests or the chapters (a lint rule, kept selected).
8. Every chapter ends with a verdict in the book's form, at any seed.
"""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import socket
import subprocess
import sys
import tomllib

import nbformat
import papermill as pm
import pytest

from dlfn import VERDICTS, ParameterError, check_parameters, verdict_of
from tools.book import ROOT, chapter_paths
from tools.build import failures
from tools.run import ChapterError, read_build_glue, read_notebook, run_chapter

CHAPTERS = chapter_paths()
TEMPLATE = ROOT / "templates" / "chapter_template.md"
ALL = {**CHAPTERS, "chapter_template": TEMPLATE}


# 1. Bit-identical reruns ------------------------------------------------------------------------------

def _same_glue(slug, a_texts, a_png, b_texts, b_png, what):
    assert sorted(a_texts) == sorted(b_texts), f"{slug}: {what} glued different names"
    differ = {k: (a_texts[k][:60], b_texts[k][:60]) for k in a_texts if a_texts[k] != b_texts[k]}
    assert not differ, f"{slug}: values differ between {what}: {differ}"
    assert sorted(a_png) == sorted(b_png), f"{slug}: {what} glued different figures"
    differ = [k for k in a_png if a_png[k] != b_png[k]]
    assert not differ, f"{slug}: figure data differ between {what}: {differ}"


@pytest.mark.parametrize("slug", sorted(CHAPTERS))
def test_rerun_is_bit_identical(default_chapter, rerun_chapter, slug):
    """Two executions of a chapter at the same (default) parameters, each in a fresh kernel, glue exactly the
    same text for every value and exactly the same PNG bytes for every figure.

    The first is this session's execution, the one the book build renders. The second is the one ``make
    robustness`` recorded (a digest of everything it glued, in ``robustness/report.json``) when it was run with
    the same sources (chapter, ``dlfn``, lock) on the same kind of machine: then the comparison spans two
    sessions, and this session executes the chapter only once. Where there is no such record, the chapter is
    executed a second time here, with JAX's compilation cache warm (which must change nothing either)."""
    from tools.robustness import current_reference
    from tools.run import execution_stamp, glue_digest

    first = default_chapter(slug)
    ref = current_reference(slug)
    if ref is not None and ref["execution"] != execution_stamp(first):  # not the recorded execution itself
        assert (len(first.texts), len(first.figures)) == (ref["values"], ref["figures"]), \
            f"{slug}: this execution glued {len(first.texts)} values and {len(first.figures)} figures, the one " \
            f"recorded by {ref['recorded_by']} {ref['values']} and {ref['figures']}"
        assert glue_digest(first) == ref["glue_sha256"], \
            f"{slug}: this execution glued different values or figure bytes than the one recorded by " \
            f"{ref['recorded_by']} from the same sources on the same machine"
        return
    again = rerun_chapter(slug)
    _same_glue(slug, first.texts, first.figures, again.texts, again.figures, "two executions")


@pytest.mark.parametrize("slug", sorted(CHAPTERS))
def test_the_site_shows_the_execution_the_tests_read(built, default_chapter, slug):
    """What the built page glued (myst-nb's glue file) is exactly what the tests read from the chapter's
    execution: the book build executes nothing itself."""
    book_text, book_png = read_build_glue(CHAPTERS[slug].stem)
    run = default_chapter(slug)
    _same_glue(slug, book_text, book_png, run.texts, run.figures, "the book build and the tests")


# 2. Every parameter guarded ---------------------------------------------------------------------------

_OPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
        ast.Div: lambda a, b: a / b, ast.Pow: lambda a, b: a ** b}


def _constant(node):
    """Evaluate a literal, allowing arithmetic on numbers (``2**31 - 1``); nothing else is evaluated."""
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_constant(node.left), _constant(node.right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_constant(node.operand)
    if isinstance(node, (ast.Tuple, ast.List)):
        items = [_constant(e) for e in node.elts]
        return tuple(items) if isinstance(node, ast.Tuple) else items
    if isinstance(node, ast.Dict):
        return {_constant(k): _constant(v) for k, v in zip(node.keys, node.values)}
    return ast.literal_eval(node)


def declarations(path):
    """A chapter's parameter defaults and its PARAMETER_SPEC, read from its source (not executed)."""
    cells = [c for c in read_notebook(path).cells if c.cell_type == "code"]
    i = next(i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", []))
    defaults = {}
    for stmt in ast.parse(cells[i].source).body:
        assert isinstance(stmt, ast.Assign) and len(stmt.targets) == 1, f"{path.name}: parameters cell holds " \
            f"only simple assignments, found: {ast.unparse(stmt)[:80]}"
        defaults[stmt.targets[0].id] = _constant(stmt.value)
    spec_stmt = next(s for s in ast.parse(cells[i + 1].source).body
                     if isinstance(s, ast.Assign) and getattr(s.targets[0], "id", "") == "PARAMETER_SPEC")
    return defaults, _constant(spec_stmt.value)


def invalid_cases(spec):
    """For each declared parameter: a value just below its range, just above it, and one of the wrong type."""
    for name, (kind, lo, hi) in spec.items():
        integer = kind.startswith("int")
        step = 1 if integer else max(abs(lo), abs(hi), 1.0) * 1e-3
        wrong_type = 0.5 + lo if integer else "1"
        bad = [lo - step, hi + step, wrong_type]
        if kind.endswith("list"):
            bad = [[v] for v in bad[:2]] + [[], wrong_type if integer else ["1"]]
        for value in bad:
            yield name, value


@pytest.mark.parametrize("slug", sorted(ALL))
def test_every_parameter_is_guarded_by_its_declaration(slug):
    """The defaults pass their own declaration, and every out-of-range or wrongly typed value of every
    parameter raises a ParameterError (a ValueError) that names the parameter and its allowed range.
    The chapters' own tests check, through papermill, that such an error stops the chapter at once."""
    defaults, spec = declarations(ALL[slug])
    assert set(defaults) == set(spec), f"{slug}: declared {sorted(spec)} but sets {sorted(defaults)}"
    check_parameters(spec, defaults)
    n_cases = 0
    for name, value in invalid_cases(spec):
        with pytest.raises(ParameterError, match=re.escape(repr(name))) as err:
            check_parameters(spec, {**defaults, name: value})
        _, lo, hi = spec[name]
        assert f"[{lo}, {hi}]" in str(err.value), f"{slug}: the message for {name} omits its range: {err.value}"
        n_cases += 1
    assert n_cases >= 3 * len(spec)


@pytest.mark.parametrize("slug", sorted(CHAPTERS))
def test_invalid_parameter_stops_the_chapter(slug):
    """Run through papermill, a chapter given a value outside a declared range stops in the cell right after
    its parameters cell, with an error that names the parameter (the first declared one, just below its
    range). Constraints between parameters are tested in each chapter's own test file."""
    _, spec = declarations(CHAPTERS[slug])
    name, value = next(invalid_cases(spec))
    with pytest.raises(ChapterError, match=re.escape(f"parameter {name!r}")):
        run_chapter(slug, stop_after="check_parameters(", **{name: value})


def test_parameter_errors_are_value_errors():
    assert issubclass(ParameterError, ValueError)


# 3. Divergence is loud --------------------------------------------------------------------------------

def test_divergence_stops_a_chapter_and_names_quantity_and_step():
    """not_a_blank_slate allows a lifetime learning rate up to 1.0; at 1.0 lifetime learning overflows. The
    chapter must stop with a DivergenceError naming what diverged and at which step, instead of plotting
    garbage. (Evolution, MAML and pretraining are shortened here, within their declared ranges, to keep the test
    quick.)"""
    shorter = dict(n_seeds=2, n_generations=20, maml_steps=50, pretrain_steps=50, n_test_tasks=20,
                   n_train_tasks=100, sweep_generations=10)
    with pytest.raises(ChapterError) as err:
        run_chapter("not_a_blank_slate", inner_lr=1.0, **shorter)
    message = str(err.value)
    assert message.startswith("chapter 'not_a_blank_slate'"), message
    assert "DivergenceError" in message and re.search(r"step \d+", message), message


# 4. No network ----------------------------------------------------------------------------------------

def _run_cell(source, tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    return pm.execute_notebook(nb, str(tmp_path / "net.ipynb"), kernel_name="python3", progress_bar=False,
                               log_output=False)


def test_a_kernel_refuses_to_connect_outside_this_machine(tmp_path):
    """Every kernel the tests or the book build start refuses non-loopback connections and name lookups
    (192.0.2.1 is TEST-NET-1, reserved for documentation: nothing real is contacted)."""
    for source in ["import socket\nsocket.create_connection(('192.0.2.1', 80), timeout=1)",
                   "import socket\nsocket.getaddrinfo('example.org', 443)"]:
        with pytest.raises(pm.PapermillExecutionError, match="network access from a chapter"):
            _run_cell(source, tmp_path)


def test_a_kernel_may_use_loopback(tmp_path):
    """The guard does not break local connections (Jupyter itself, a local server)."""
    _run_cell("import socket\nserver = socket.create_server(('127.0.0.1', 0))\n"
              "socket.create_connection(server.getsockname(), timeout=5).close()", tmp_path)


@pytest.mark.skipif(os.environ.get("DLFN_OFFLINE") != "1",
                    reason="only under .ci/run, which runs the suite in a network namespace (unshare -n)")
def test_the_suite_runs_with_no_network():
    """In CI the whole suite (every chapter, the book build, the browser) runs where only loopback exists."""
    with pytest.raises(OSError):
        socket.create_connection(("192.0.2.1", 80), timeout=2)
    with pytest.raises(OSError):
        socket.getaddrinfo("pypi.org", 443)


# 5. A pinned environment ------------------------------------------------------------------------------

def _pins(path):
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line or line.startswith("-"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==([^\s;]+)(\s*;.*)?", line)
        assert match, f"{path.name}: not an exact pin: {line!r}"
        pins[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(3)
    return pins


def test_requirements_are_exact_pins_and_agree_with_the_lock():
    """requirements.txt pins every direct dependency exactly; requirements.lock (``make lock``) pins every
    transitive one, and agrees with requirements.txt."""
    direct, lock = _pins(ROOT / "requirements.txt"), _pins(ROOT / "requirements.lock")
    assert direct, "requirements.txt pins nothing"
    differ = {n: (v, lock.get(n)) for n, v in direct.items() if lock.get(n) != v}
    assert not differ, f"requirements.txt and requirements.lock disagree (name: (txt, lock)): {differ}"


def test_installed_packages_match_the_lock():
    """The environment the tests run in is the locked one."""
    lock = _pins(ROOT / "requirements.lock")
    installed = {re.sub(r"[-_.]+", "-", d.metadata["Name"]).lower(): d.version
                 for d in importlib.metadata.distributions()}
    wrong = {n: (v, installed.get(n)) for n, v in lock.items() if installed.get(n) != v}
    assert not wrong, f"installed versions differ from requirements.lock (name: (lock, installed)): {wrong}"
    r = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


# 6. Failures name their chapter -----------------------------------------------------------------------

def test_a_chapter_failure_names_chapter_cell_and_error_first(tmp_path):
    """The error's first line names the chapter, the cell and the error; and the failed execution is set aside
    (``*.failed.ipynb``), never left where a later caller would take it for a good one."""
    out = tmp_path / "kept.ipynb"
    with pytest.raises(ChapterError) as err:
        run_chapter("chapter_template", stop_after="check_parameters(", out=out, n_seeds=0)
    first_line = str(err.value).splitlines()[0]
    assert re.match(r"chapter 'chapter_template' \(templates/chapter_template.md\) failed in cell \d+ "
                    r"\[.*\]: ParameterError: parameter 'n_seeds' must be", first_line), first_line
    assert not out.exists() and (tmp_path / "kept.failed.ipynb").exists()


def test_a_failed_book_build_names_the_chapter_first(tmp_path):
    report = tmp_path / "reports" / "book" / "07_inductive_biases.err.log"
    report.parent.mkdir(parents=True)
    report.write_text("Traceback (most recent call last):\n  ...\nnbclient.exceptions.CellExecutionError: An error "
                      "occurred while executing the following cell:\n------------------\nlosses = train(key)\n"
                      "check_finite(losses)\n------------------\n\nDivergenceError: training loss diverged\n")
    lines = failures("WARNING: something else\n[IPKernelApp] WARNING | not a build problem", html=tmp_path)
    assert lines[0].startswith("chapter 07_inductive_biases failed to execute in the cell [losses = train(key)]: "
                               "DivergenceError"), lines
    assert lines[1:] == ["WARNING: something else"], lines


# 7. No eval, exec or pickle ---------------------------------------------------------------------------

def test_the_lint_forbids_eval_exec_and_pickle():
    """ruff's flake8-bandit rules S102 (exec), S307 (eval), S301 (pickle) and S506 (unsafe yaml) stay
    selected; test_hygiene runs ruff on the package, the tests and every chapter's code."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    selected = set(config.get("select", [])) | set(config.get("extend-select", []))
    for rule in ("S102", "S307", "S301", "S506"):
        assert rule in selected or "S" in selected, f"ruff rule {rule} is not selected"
        assert rule not in set(config.get("ignore", [])), f"ruff rule {rule} is ignored"


# 8. A verdict in the book's form ------------------------------------------------------------------------

# The section headings of Richards et al. (2019), exactly; a chapter's `where` quotes one of them, or names a
# box or a figure (the paper has no section called "Not a blank slate" or "Two optimisation processes").
PAPER_SECTIONS = (
    "Constraining learning in artificial neural networks and the brain with 'task sets'",
    "The three core components of a deep learning framework for the brain",
    "Architectures, learning rules and objective functions in the wet lab",
    "Empirical studies of architecture in the brain",
    "Empirical studies of learning rules in the brain",
    "Empirical studies of objective functions in the brain",
    "Caveats and concerns",
    "Conclusion",
)


@pytest.mark.parametrize("slug", sorted(CHAPTERS))
def test_each_chapter_judges_its_claim_by_its_tests(chapter, slug):
    """Every chapter ends with a verdict in the book's form: tests (each record recomputed from its raw
    samples, independently of dlfn, with a control measured in the same run), checks that all hold and never
    count, a verdict that follows from the tests' outcomes alone, and the claim with where the paper makes it."""
    from nbtests.verdicts import verify_record

    values = chapter(slug).values
    assert "verdict_tests" in values, f"{slug}: no tests glued (call dlfn.glue_verdict in the closing cell)"
    records = [values[f"test_{name}"] for name in values["verdict_tests"]]
    assert records, f"{slug}: a verdict needs at least one test"
    for rec in records:
        verify_record(rec)
        assert not re.search(r"\bissues? ?#?\d", rec["source"], re.I), f"{slug}: {rec['name']} cites an issue"
    assert values["verdict"] in VERDICTS
    assert values["verdict"] == verdict_of([r["outcome"] for r in records]), slug
    assert all(values["verdict_checks"].values()), f"{slug}: a check failed: {values['verdict_checks']}"
    assert values["chapter_claim"].strip(), slug
    where = values["chapter_where"]
    quoted = re.findall(r'"([^"]+)"', where)
    assert quoted or re.search(r"\b(Box [1-3]|Fig\. [1-5])\b", where), \
        f"{slug}: 'where' must name a box, a figure or a quoted section heading of the paper: {where!r}"
    unknown = [q for q in quoted if q.replace("\u2018", "'").replace("\u2019", "'") not in PAPER_SECTIONS]
    assert not unknown, f"{slug}: {unknown} are not section headings of Richards et al. (2019)"
