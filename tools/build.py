"""Build the book (``make book``, ``python -m tools.build``): execute every notebook page with the book's one
runner (:func:`tools.run.execute_book`, two at a time), then build the site into ``_build/html`` with Sphinx
(``jupyter-book build -W -n --keep-going``), which takes every page's outputs from myst-nb's execution cache
and executes nothing itself. When the build fails, the reason comes first: which chapter, which cell, what
error.

``python -m tools.build --student`` (``make book-student``) builds the student edition into
``_build/student/html``: the same site from the same ``_config.yml``, with one setting changed at build
time (sphinx-exercise's ``hide_solutions``; ``_ext/dlfn_site.py`` makes it remove gated solutions, their
code cells and the solutions in the downloads and copied sources too). It reads the same executions, so it
executes nothing the regular build has already run, and it never touches ``_build/html``.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"
STUDENT_HTML = ROOT / "_build" / "student" / "html"


EXECUTION_FAILED = "EXECUTION FAILED:"
BUILT_BY_SPHINX = re.compile(r"^(\S+): Executed notebook in", re.M)  # myst-nb's log line when it executes


def build(extra_args: list[str] | None = None, *, student: bool = False,
          compilation_cache: bool = True) -> subprocess.CompletedProcess:
    """Execute every notebook page (:func:`tools.run.execute_book`), then build the site (``student``: the
    student edition) in a subprocess, and return the result (stdout and stderr of both steps).

    ``compilation_cache``: share JAX's persistent compilation cache with the tests (the benchmark turns it off
    to time a reader's first build)."""
    from tools.run import ChapterError, execute_book, use_compilation_cache

    if compilation_cache:
        use_compilation_cache()  # shared with the tests: a chapter they execute again skips XLA's compiling
    path_output = _option(extra_args or [], "--path-output")
    with contextlib.redirect_stdout(io.StringIO()) as summary:
        runs = execute_book(Path(path_output).resolve() / "_build" if path_output else None)
    errors = [str(run).splitlines()[0] for run in runs.values() if isinstance(run, ChapterError)]
    if errors:  # Sphinx would only execute the failing notebooks again, to fail the same way
        return subprocess.CompletedProcess(["tools.run.execute_book"], 1, summary.getvalue(),
                                           "\n".join(f"{EXECUTION_FAILED} {e}" for e in errors) + "\n")
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)  # MPLBACKEND=Agg silently removes every figure from the book
    if student:
        cmd = [sys.executable, "-m", "tools.build", "--student-worker", *(extra_args or [])]
    else:
        cmd = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(ROOT), "-W", "-n", "--keep-going",
               *(extra_args or [])]
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    result.stdout = summary.getvalue() + result.stdout
    return result


def student_paths(path_output: Path | None = None) -> tuple[Path, Path]:
    """Where the student edition goes and which execution cache it reads: ``_build/student/html`` and
    ``_build/.jupyter_cache``, under ``path_output`` if given (as ``jupyter-book build --path-output``)."""
    build_dir = (Path(path_output).resolve() if path_output else ROOT) / "_build"
    return build_dir / "student" / "html", build_dir / ".jupyter_cache"


def build_student_here(path_output: Path | None = None) -> int:
    """Build the student edition in this process, as ``jupyter-book build -W -n --keep-going`` builds the
    book, with ``hide_solutions`` set and the regular build's execution cache; returns the exit status."""
    from jupyter_book.sphinx import build_sphinx

    html, cache = student_paths(path_output)
    overrides = {
        "external_toc_path": (ROOT / "_toc.yml").as_posix(),  # as the jupyter-book CLI sets them
        "latex_individualpages": False,
        "nitpicky": True,
        "hide_solutions": True,
        "nb_execution_cache_path": str(cache),
    }
    print(f"Student edition: {html} (execution cache: {cache})")
    result = build_sphinx(ROOT, html, noconfig=True, path_config=str(ROOT / "_config.yml"),
                          confoverrides=overrides, builder="html", warningiserror=True, keep_going=True)
    return 0 if result == 0 else 1


def failures(output: str, html: Path = HTML) -> list[str]:
    """The lines that name what failed: execution errors (with their chapter) and Sphinx's warnings
    ("WARNING:"; a kernel's own log lines, such as "[IPKernelApp] WARNING | ...", are not build problems)."""
    lines = []
    for report in sorted((Path(html) / "reports").glob("**/*.err.log")):
        log = report.read_text(errors="replace")
        text = log.strip().splitlines()
        last = next((t for t in reversed(text) if t.strip()), "")
        cell = re.search(r"executing the following cell:\s*\n-+\n\s*(\S[^\n]*)", log)
        where = f" in the cell [{cell.group(1).strip()[:80]}]" if cell else ""
        lines.append(f"chapter {report.stem.replace('.err', '')} failed to execute{where}: {last.strip()}"
                     f"  (full log: {os.path.relpath(report, ROOT)})")
    for line in output.splitlines():
        if line.startswith(EXECUTION_FAILED):
            lines.append(line[len(EXECUTION_FAILED):].strip())
    for page in BUILT_BY_SPHINX.findall(output):  # a page whose outputs were not in the cache tools.run filled
        lines.append(f"the build executed {page} itself: tools.run's execution did not reach myst-nb's cache")
    for line in output.splitlines():
        if re.search(r"\b(WARNING|ERROR|CRITICAL|SEVERE):", line):
            lines.append(line.strip())
    return lines


def _option(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args[:-1] else None


def main() -> int:
    args = sys.argv[1:]
    if args[:1] == ["--student-worker"]:  # the subprocess that build(student=True) starts
        return build_student_here(_option(args, "--path-output"))
    student = "--student" in args
    args = [a for a in args if a != "--student"]
    path_output = _option(args, "--path-output")
    if student:
        if len(args) != (2 if path_output else 0):
            print("--student takes no other option than --path-output DIR", file=sys.stderr)
            return 2
        if path_output:
            args = ["--path-output", str(Path(path_output).resolve())]
    html = (student_paths(path_output)[0] if student else
            (Path(path_output).resolve() / "_build" / "html" if path_output else HTML))
    result = build(args, student=student)
    problems = failures(result.stdout + result.stderr, html)
    if result.returncode != 0 or problems:
        summary = ["BOOK BUILD FAILED:"] + ["  " + line for line in
                                           problems[:40] or ["(no warning captured; see the full output)"]]
        print("\n".join(summary), file=sys.stderr)
        print("\n--- full output ---", file=sys.stderr)
        print(result.stdout[-20000:], file=sys.stderr)
        print(result.stderr[-20000:], file=sys.stderr)
        print("--- end of full output ---\n" + "\n".join(summary), file=sys.stderr)  # again, where a reader looks
        return result.returncode or 1
    print(result.stdout[-3000:])
    print(next((line for line in result.stdout.splitlines() if line.startswith("tools.run.execute_book:")), ""))
    print(f"{'Student edition' if student else 'Book'} built: {html / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
