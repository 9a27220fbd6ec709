"""Run a chapter the way the tests do, and read back its glued values.

One helper, :func:`run_chapter`, converts a chapter's MyST-markdown notebook with jupytext, executes it
with papermill (optionally with new parameters, e.g. another seed) and returns the values the chapter
glued, read from the executed notebook's ``application/papermill.record/...`` outputs (scrapbook is
broken on current versions, so the records are read directly).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from tools.book import (  # noqa: F401  (re-exported: the tests import them from here)
    BOOK,
    GLUE_FOLDER,
    ROOT,
    chapter_paths,
    is_notebook,
    notebook_paths,
    parse_glued_text,
    read_glue_file,
    slug_of,
    toc_files,
)

OUT = ROOT / "_build" / "nbtests"
GLUE_TEXT = "application/papermill.record/text/plain"
GLUE_PNG = "application/papermill.record/image/png"


NO_NETWORK_STARTUP = """\
# Installed by nbtests.harness.install_network_guard: a chapter may open sockets to this machine only.
import ipaddress as _ipaddress
import sys as _sys


def _dlfn_no_network(event, args):
    if event == "socket.connect":
        address = args[1]
        if isinstance(address, tuple) and address:
            host = str(address[0])
            try:
                local = _ipaddress.ip_address(host.split("%")[0]).is_loopback
            except ValueError:
                local = host == "localhost"
            if not local:
                raise PermissionError(f"network access from a chapter: connect to {address!r} "
                                      "(the book runs offline; only loopback is allowed)")
    elif event == "socket.getaddrinfo":
        host = args[0]
        if isinstance(host, bytes):
            host = host.decode()
        if host not in (None, "", "localhost", "127.0.0.1", "::1", "0.0.0.0"):
            raise PermissionError(f"network access from a chapter: name lookup of {host!r} "
                                  "(the book runs offline; only loopback is allowed)")


_sys.addaudithook(_dlfn_no_network)
"""


def install_network_guard(ipython_dir: Path) -> Path:
    """Make every Jupyter kernel started from this process refuse non-loopback connections.

    Writes an IPython startup file into ``ipython_dir`` and points ``IPYTHONDIR`` at it; kernels (papermill's,
    and the book build's) inherit the environment. A chapter that tries to download anything then fails
    with ``PermissionError: network access from a chapter ...``. Returns ``ipython_dir``.
    """
    import os

    startup = ipython_dir / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00-no-network.py").write_text(NO_NETWORK_STARTUP)
    os.environ["IPYTHONDIR"] = str(ipython_dir)
    return ipython_dir


COMPILATION_CACHE = ROOT / "_build" / "jax-cache"


def use_compilation_cache(path: Path = COMPILATION_CACHE) -> Path:
    """Make every kernel started from this process use JAX's persistent compilation cache at ``path``.

    Kernels inherit the environment: a chapter executed a second time (by the tests, after the book build)
    loads its compiled XLA programs instead of compiling them again. The compiled program is the same, so
    the glued values are too (``test_rerun_is_bit_identical`` checks it). The benchmark does not use it: it
    times compiling as a reader's first run pays it.
    """
    import os

    os.environ["JAX_COMPILATION_CACHE_DIR"] = str(path)
    os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
    os.environ["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "0"
    return path


class ChapterError(RuntimeError):
    """A chapter failed to execute; the message names the chapter, the cell and the error."""


@dataclass
class ChapterRun:
    slug: str
    params: dict
    values: dict          # glued numbers, lists and strings
    figures: dict         # glued figures: name -> PNG as base64 text
    notebook: object      # the executed nbformat NotebookNode
    path: Path            # where the executed notebook was written
    texts: dict           # every glued value's text form, exactly as stored (for bit-identical comparisons)

    def __getitem__(self, name):
        if name not in self.values:
            raise KeyError(f"chapter {self.slug!r} glued no value named {name!r}; "
                           f"it glued: {sorted(self.values)}")
        return self.values[name]


def find_chapter(slug: str) -> Path:
    for path in sorted(BOOK.glob("*.md")) + sorted((ROOT / "templates").glob("*.md")):
        if slug_of(path) == slug:
            return path
    raise FileNotFoundError(f"no chapter with slug {slug!r} in {BOOK} or templates/")


def read_notebook(path: Path):
    import jupytext

    return jupytext.read(path)


def build_glued(stem: str) -> tuple[dict, dict]:
    """What the book build's execution of ``book/<stem>.md`` glued: the raw text of every value, and every
    figure's PNG as base64 text."""
    return read_glue_file(GLUE_FOLDER / "book" / f"{stem}.glue.json")


def read_glued(nb) -> tuple[dict, dict, dict]:
    """The values, figures and raw value texts glued in an executed notebook."""
    values, figures, texts = {}, {}, {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if GLUE_TEXT not in data:
                continue
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            if name is None:
                continue
            if name in values or name in figures:  # myst-nb's build fails on it: say so here, in every test run
                raise ChapterError(f"the glue key {name!r} is glued twice in one run; the book build rejects "
                                   "duplicate glue keys")
            if GLUE_PNG in data:
                figures[name] = data[GLUE_PNG]
            else:
                texts[name] = data[GLUE_TEXT]
                values[name] = parse_glued_text(data[GLUE_TEXT])
    return values, figures, texts


def _describe_failure(slug: str, path: Path, nb, err) -> str:
    """Name the chapter, the failing cell and the error, in the first lines of the message."""
    cell_no, source = None, ""
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                cell_no, source = i, cell.source
                ename, evalue = out.get("ename", "Error"), out.get("evalue", "")
                first = source.strip().splitlines()[0] if source.strip() else ""
                return (f"chapter {slug!r} ({path.relative_to(ROOT)}) failed in cell {cell_no} "
                        f"[{first[:80]}]: {ename}: {evalue}")
    return f"chapter {slug!r} ({path.relative_to(ROOT)}) failed: {err}"


def run_chapter(slug: str, *, stop_after: str | None = None, timeout: int = 900, **params) -> ChapterRun:
    """Execute the chapter ``slug`` with papermill and return its glued values.

    Args:
        slug: the chapter's name without its number, e.g. ``"inductive_biases"``.
        stop_after: run only up to and including the first code cell whose source contains this text
            (e.g. ``"check_parameters("``, to test the parameter checks cheaply).
        timeout: per-cell limit in seconds.
        **params: new values for the chapter's parameters cell (e.g. ``seed=7``).

    Raises:
        ChapterError: if a cell raises; the message names the chapter, the cell and the error.
    """
    import nbformat
    import papermill as pm

    src = find_chapter(slug)
    nb = read_notebook(src)
    if stop_after is not None:
        ends = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and stop_after in c.source]
        if not ends:
            raise ValueError(f"chapter {slug!r} has no code cell containing {stop_after!r}")
        nb.cells = nb.cells[: ends[0] + 1]
    tag = hashlib.sha1(json.dumps([params, stop_after], sort_keys=True, default=str).encode()).hexdigest()[:10]
    OUT.mkdir(parents=True, exist_ok=True)
    out = OUT / f"{slug}-{tag}.ipynb"
    try:
        executed = pm.execute_notebook(nb, str(out), parameters=params, kernel_name="python3",
                                       cwd=str(BOOK), progress_bar=False, execution_timeout=timeout,
                                       log_output=False)
    except pm.PapermillExecutionError as err:
        failed = nbformat.read(out, as_version=4) if out.exists() else nb
        raise ChapterError(_describe_failure(slug, src, failed, err)) from None
    values, figures, texts = read_glued(executed)
    return ChapterRun(slug, params, values, figures, executed, out, texts)
