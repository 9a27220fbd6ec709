"""The one way to execute a chapter, and to read back what it glued.

Everything that runs a notebook of the book goes through :func:`run_chapter`:

- the tests (``nbtests/conftest.py``), with other parameters (``seed=7``) or only up to a cell
  (``stop_after="check_parameters("``);
- the book build (:mod:`tools.build`): :func:`execute_book` executes every notebook page here first, two at a
  time, and hands the executed notebooks to myst-nb's execution cache, so that Sphinx renders them without
  executing anything itself; the tests read the same executions (:func:`default_run`), so a chapter at its
  default parameters is executed once for the site and the tests together, and once more, on purpose, by the
  bit-identical rerun check;
- the benchmark (``bench/chapters.py``): a measuring IPython startup file in the kernel and probe cells
  appended to the chapter (``extra_cells``), which time the chapter's own programs;
- ``make robustness`` (:mod:`tools.robustness`), at several base seeds.

A chapter runs with papermill (parameters injected after the cell tagged ``parameters``) in a fresh
``python3`` kernel whose working directory is ``book/``. The kernel inherits this process's environment:
:func:`install_network_guard` and :func:`use_compilation_cache` set it up.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from tools.book import BOOK, GLUE_FOLDER, ROOT, notebook_paths, parse_glued_text, read_glue_file, slug_of

RUNS = ROOT / "_build" / "runs"  # executions at other parameters (tests, robustness), one file per parameter set
GLUE_TEXT = "application/papermill.record/text/plain"
GLUE_PNG = "application/papermill.record/image/png"
EXECUTED_LINE = "tools.run.execute_book:"  # the first words of its one-line summary, which the benchmark reads
WORKERS = 2  # chapters executed at once by execute_book and run_many: each fits in 1 GiB; the machine has 2 cores
COMPILATION_CACHE = ROOT / "_build" / "jax-cache"
COMPILATION_CACHE_VARS = ("JAX_COMPILATION_CACHE_DIR", "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS",
                          "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES")

NETWORK_GUARD = """\
# Installed by tools.run.install_network_guard: a chapter may open sockets to this machine only.
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


def install_network_guard(ipython_dir: Path, *, extra_startup: dict[str, str] | None = None) -> Path:
    """Make every Jupyter kernel started from this process refuse non-loopback connections.

    Writes an IPython startup file into ``ipython_dir`` (and the files of ``extra_startup``, ``{name: source}``,
    e.g. the benchmark's probe) and points ``IPYTHONDIR`` at it; kernels inherit the environment. A chapter that
    tries to download anything then fails with ``PermissionError: network access from a chapter ...``.
    """
    startup = Path(ipython_dir) / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00-no-network.py").write_text(NETWORK_GUARD)
    for name, source in (extra_startup or {}).items():
        (startup / name).write_text(source)
    os.environ["IPYTHONDIR"] = str(ipython_dir)
    return Path(ipython_dir)


def use_compilation_cache(path: Path = COMPILATION_CACHE) -> Path:
    """Make every kernel started from this process use JAX's persistent compilation cache at ``path``.

    A chapter executed a second time loads its compiled XLA programs instead of compiling them again. The
    compiled program is the same, so the glued values are too (``test_rerun_is_bit_identical`` checks it).
    The benchmark does not use it: it times compiling as a reader's first run pays it.
    """
    os.environ.update(dict(zip(COMPILATION_CACHE_VARS, (str(path), "0", "0"), strict=True)))
    return path


def without_compilation_cache(env: dict) -> dict:
    """``env`` with JAX's persistent compilation cache turned off (the benchmark times a reader's first run)."""
    for name in COMPILATION_CACHE_VARS:
        env.pop(name, None)
    return env


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


def read_build_glue(stem: str, folder: Path = GLUE_FOLDER) -> tuple[dict, dict]:
    """What the book build rendered for ``book/<stem>.md``: the raw text of every glued value, and every
    figure's PNG as base64 text (myst-nb's ``<page>.glue.json``)."""
    return read_glue_file(Path(folder) / "book" / f"{stem}.glue.json")


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
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                ename, evalue = out.get("ename", "Error"), out.get("evalue", "")
                first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
                return (f"chapter {slug!r} ({path.relative_to(ROOT)}) failed in cell {i} "
                        f"[{first[:80]}]: {ename}: {evalue}")
    return f"chapter {slug!r} ({path.relative_to(ROOT)}) failed: {err}"


def source_key(path: Path) -> str:
    """What an execution at default parameters depends on and the repository holds: the notebook, the
    ``dlfn`` package (code and style sheet) and the locked environment. An execution is reused while this
    key is unchanged (jupyter-cache alone would key on the code cells only, and miss a change in ``dlfn``)."""
    digest = hashlib.sha256(Path(path).read_bytes())
    for dep in sorted((ROOT / "dlfn").glob("*")) + [ROOT / "requirements.lock"]:
        if dep.is_file():
            digest.update(dep.name.encode() + b"\0" + dep.read_bytes())
    return digest.hexdigest()


def run_chapter(slug: str, *, stop_after: str | None = None, extra_cells: tuple[str, ...] = (),
                timeout: int = 900, out: Path | None = None, **params) -> ChapterRun:
    """Execute the chapter ``slug`` (a notebook of ``book/`` or ``templates/``) and return its glued values.

    Args:
        slug: the chapter's name without its number, e.g. ``"inductive_biases"``.
        stop_after: run only up to and including the first code cell whose source contains this text
            (e.g. ``"check_parameters("``, to test the parameter checks cheaply).
        extra_cells: code cells appended after the chapter's last cell, run in its kernel (the benchmark's
            probes).
        timeout: per-cell limit in seconds.
        out: where to write the executed notebook (default: ``_build/runs/<slug>-<parameters' hash>.ipynb``).
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
    nb.cells += [nbformat.v4.new_code_cell(source) for source in extra_cells]
    nb.metadata["dlfn_run"] = {"params": params, "stop_after": stop_after, "extra_cells": len(extra_cells),
                               "source_key": source_key(src)}
    if out is None:
        tag = hashlib.sha1(json.dumps([params, stop_after, list(extra_cells)], sort_keys=True,
                                      default=str).encode()).hexdigest()[:10]
        out = RUNS / f"{slug}-{tag}.ipynb"
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    running = out.with_name(out.stem + ".running.ipynb")  # papermill saves as it goes: a killed run stays here
    try:
        executed = pm.execute_notebook(nb, str(running), parameters=params, kernel_name="python3",
                                       cwd=str(BOOK if src.parent == BOOK else src.parent), progress_bar=False,
                                       execution_timeout=timeout, log_output=False)
    except pm.PapermillExecutionError as err:
        failed = nbformat.read(running, as_version=4) if running.exists() else nb
        if running.exists():  # never where a good execution is looked for (default_run)
            running.replace(out.with_name(out.stem + ".failed.ipynb"))
        out.unlink(missing_ok=True)
        raise ChapterError(_describe_failure(slug, src, failed, err)) from None
    running.replace(out)  # only a finished execution is ever at `out`
    return _as_run(slug, params, executed, out)


def _as_run(slug, params, nb, path) -> ChapterRun:
    values, figures, texts = read_glued(nb)
    return ChapterRun(slug, params, values, figures, nb, Path(path), texts)


def load_run(slug: str, path: Path) -> ChapterRun:
    """A :class:`ChapterRun` read back from an executed notebook that :func:`run_chapter` wrote."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    return _as_run(slug, nb.metadata.get("dlfn_run", {}).get("params", {}), nb, path)


# Executions at default parameters, shared by the book build and the tests ------------------------------

def executed_folder(build_dir: Path | None = None) -> Path:
    """Where :func:`default_run` keeps the executions at default parameters: ``<build_dir>/executed``
    (``_build/executed`` for the book in place)."""
    return Path(build_dir or ROOT / "_build") / "executed"


def _kept(slug: str, build_dir: Path | None = None) -> Path:
    path = notebook_paths()[slug] if slug in notebook_paths() else find_chapter(slug)
    return executed_folder(build_dir) / f"{path.stem}.ipynb"


def is_current(slug: str, build_dir: Path | None = None) -> bool:
    """Whether :func:`default_run` holds an execution of ``slug`` whose sources have not changed since."""
    import nbformat

    kept = _kept(slug, build_dir)
    if not kept.exists():
        return False
    key = nbformat.read(kept, as_version=4).metadata.get("dlfn_run", {}).get("source_key")
    path = notebook_paths()[slug] if slug in notebook_paths() else find_chapter(slug)
    return key == source_key(path)


def default_run(slug: str, *, build_dir: Path | None = None, fresh: bool = False) -> ChapterRun:
    """The notebook ``slug`` at its default parameters: the execution kept in :func:`executed_folder` if its
    :func:`source_key` still matches the sources, else a new one (kept for the next caller). ``fresh``: always
    execute again and keep nothing (the bit-identical rerun check)."""
    if fresh:
        return run_chapter(slug, out=RUNS / f"{slug}-rerun.ipynb")
    kept = _kept(slug, build_dir)
    if is_current(slug, build_dir):
        return load_run(slug, kept)
    return run_chapter(slug, out=kept)


def glue_digest(run: ChapterRun) -> str:
    """One sha256 over everything a run glued: every value's text and every figure's PNG, by name."""
    digest = hashlib.sha256()
    for kind, items in (("value", run.texts), ("figure", run.figures)):
        for name in sorted(items):
            digest.update(f"{kind}\0{name}\0{items[name]}\0".encode())
    return digest.hexdigest()


def execution_stamp(run: ChapterRun) -> str | None:
    """When the run's execution started (papermill's record): tells two executions of the same sources apart."""
    return run.notebook.metadata.get("papermill", {}).get("start_time")


def machine_id() -> str:
    """What bit-identical results may depend on besides the sources: the CPU model and the XLA version (a
    different instruction set may round differently)."""
    import platform

    import jaxlib

    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() \
        else platform.processor()
    return f"{model}; {platform.machine()}; jaxlib {jaxlib.__version__}"


def _run_job(job) -> tuple[str, str | None, str | None]:
    """One job of :func:`run_many`, in a worker process: returns (slug, executed notebook path, error)."""
    slug, params, build_dir, fresh = job
    try:
        if params is None:
            run = default_run(slug, build_dir=build_dir, fresh=fresh)
        else:
            run = run_chapter(slug, **params)
        return slug, str(run.path), None
    except ChapterError as err:
        return slug, None, str(err)


def run_many(jobs, *, workers: int = WORKERS) -> dict[str, ChapterRun | ChapterError]:
    """Execute several notebooks, ``workers`` at a time, each in its own process and kernel.

    ``jobs``: ``[(slug, params), ...]``, where ``params`` is a dict of parameters, or ``None`` for the default
    execution of :func:`default_run` (then a job may also be ``(slug, None, build_dir, fresh)``). Returns
    ``{slug: ChapterRun}``, with a :class:`ChapterError` in place of the run of a notebook that failed.
    """
    jobs = [(*job, None, False) if len(job) == 2 else tuple(job) for job in jobs]
    if len({job[0] for job in jobs}) != len(jobs):
        raise ValueError("run_many runs each notebook once: a slug appears twice")
    results = {}
    if workers <= 1 or len(jobs) <= 1:
        outcomes = map(_run_job, jobs)
    else:  # "spawn": the workers start clean, whatever this process has imported (JAX is not fork-safe)
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"))
        outcomes = pool.map(_run_job, jobs)
    try:
        for slug, path, error in outcomes:
            results[slug] = ChapterError(error) if error else load_run(slug, Path(path))
    finally:
        if workers > 1 and len(jobs) > 1:
            pool.shutdown()
    return results


def execute_book(build_dir: Path | None = None, *, workers: int = WORKERS, fresh: bool = False) -> dict:
    """Execute every notebook page of the book at default parameters, ``workers`` at a time, and put the
    executions into myst-nb's execution cache (``<build_dir>/.jupyter_cache``), so that ``jupyter-book build``
    renders them without executing anything. Executions whose sources have not changed are reused
    (:func:`default_run`); ``fresh`` executes everything again. Returns ``{slug: ChapterRun or ChapterError}``."""
    build_dir = Path(build_dir or ROOT / "_build")
    slugs = list(notebook_paths())
    if fresh:
        for path in executed_folder(build_dir).glob("*.ipynb"):
            path.unlink()
    todo = [slug for slug in slugs if not is_current(slug, build_dir)]
    slow_first = sorted(todo, key=lambda s: -_last_seconds(s))  # the longest first: the two workers end together
    t0 = time.time()
    runs = run_many([(slug, None, build_dir, False) for slug in slow_first], workers=workers)
    runs.update({slug: default_run(slug, build_dir=build_dir) for slug in slugs if slug not in todo})
    print(f"{EXECUTED_LINE} {len(todo)} notebooks executed in {time.time() - t0:.1f} s ({workers} at a time): "
          f"{', '.join(todo) or 'none'}; {len(slugs) - len(todo)} reused", flush=True)
    to_jupyter_cache({slug: run for slug, run in runs.items() if isinstance(run, ChapterRun)},
                     build_dir / ".jupyter_cache")
    return {slug: runs[slug] for slug in slugs}


def _last_seconds(slug: str) -> float:
    """The chapter's wall time in the committed benchmark report (0 if it has none): to schedule the slow ones
    first."""
    try:
        report = json.loads((ROOT / "bench" / "report.json").read_text())
        return next(r["wall_s"] for r in report["chapters"]["chapters"] if r["slug"] == slug)
    except (OSError, KeyError, StopIteration, ValueError):
        return 0.0


def to_jupyter_cache(runs: dict[str, ChapterRun], cache_path: Path) -> None:
    """Store each run's outputs in the jupyter-cache that myst-nb's ``execute_notebooks: cache`` reads.

    myst-nb matches a page to a cached notebook by a hash of the page's code cells (source and metadata, as its
    own MyST reader produces them) and its kernelspec. So the cached notebook is the page as myst-nb reads it,
    with the outputs of the run copied into its code cells, one to one.
    """
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    from myst_nb.core.read import read_myst_markdown_notebook

    cache = get_cache(str(cache_path))
    for slug, run in runs.items():
        path = notebook_paths()[slug]
        page = read_myst_markdown_notebook(path.read_text(), path=str(path))
        key = run.notebook.metadata.get("dlfn_run", {}).get("source_key")
        try:
            record = cache.match_cache_notebook(page)
        except KeyError:
            record = None
        if record is not None and record.data.get("source_key") == key:
            continue  # this very execution is cached already
        page_cells = [c for c in page.cells if c.cell_type == "code"]
        run_cells = [c for c in run.notebook.cells if c.cell_type == "code"]
        if [c.source.strip() for c in page_cells] != [c.source.strip() for c in run_cells]:
            raise ChapterError(f"chapter {slug!r}: myst-nb and jupytext read different code cells from "
                               f"{path.relative_to(ROOT)}; the build cannot use the run's outputs")
        for page_cell, run_cell in zip(page_cells, run_cells, strict=True):
            page_cell.outputs = run_cell.outputs
            page_cell.execution_count = run_cell.execution_count
        page.metadata["language_info"] = run.notebook.metadata.get("language_info", {})
        cache.cache_notebook_bundle(CacheBundleIn(page, str(path), data={"source_key": key}),
                                    check_validity=False, overwrite=True)
        if record is not None:  # the cache held an older execution of the same code (dlfn changed, say):
            os.utime(path)  # Sphinx re-renders a page only when its source looks newer than the last build
