"""Run a chapter the way the tests do, and read back its glued values.

One helper, :func:`run_chapter`, converts a chapter's MyST-markdown notebook with jupytext, executes it
with papermill (optionally with new parameters, e.g. another seed) and returns the values the chapter
glued, read from the executed notebook's ``application/papermill.record/...`` outputs (scrapbook is
broken on current versions, so the records are read directly).
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
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


def toc_files() -> list[str]:
    """Every file named in ``_toc.yml``, in order, as paths relative to the root without suffix."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))
            for part in entry.get("parts", []) or []:
                walk(part.get("chapters"))
            walk(entry.get("chapters"))

    walk(toc.get("chapters"))
    for part in toc.get("parts", []) or []:
        walk(part.get("chapters"))
    return files


def is_notebook(path: Path) -> bool:
    """A MyST-markdown file with a jupytext kernelspec header is a notebook (a chapter)."""
    head = path.read_text().split("\n---", 2)[0] if path.read_text().startswith("---") else ""
    return "kernelspec:" in head


def notebook_paths() -> dict[str, Path]:
    """Every notebook in the table of contents (the chapters and the intro, which draws a figure):
    ``{slug: path}``."""
    notebooks = {}
    for rel in toc_files():
        path = ROOT / f"{rel}.md"
        if path.exists() and is_notebook(path):
            notebooks[slug_of(path)] = path
    return notebooks


def chapter_paths() -> dict[str, Path]:
    """Chapters: the numbered notebooks in the table of contents, ``{slug: path}``;
    ``book/03_credit_assignment.md`` has slug ``credit_assignment``."""
    return {slug: path for slug, path in notebook_paths().items() if re.match(r"\d+_", path.name)}


def slug_of(path: Path) -> str:
    return re.sub(r"^\d+_", "", path.stem)


def find_chapter(slug: str) -> Path:
    for path in sorted(BOOK.glob("*.md")) + sorted((ROOT / "templates").glob("*.md")):
        if slug_of(path) == slug:
            return path
    raise FileNotFoundError(f"no chapter with slug {slug!r} in {BOOK} or templates/")


def read_notebook(path: Path):
    import jupytext

    return jupytext.read(path)


def parse_glued_text(text: str):
    """A glued value's text form back to Python: literals, and the bare ``nan``/``inf`` that Python writes."""
    special = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
    if text.strip() in special:
        return special[text.strip()]
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        # lists holding nan or inf: parse with those names bound to floats, nothing else allowed
        tree = ast.parse(text, mode="eval")
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        if not names <= {"nan", "inf"}:
            raise
        return _literal_with_specials(tree.body)


def _literal_with_specials(node):
    if isinstance(node, ast.Name):
        return {"nan": math.nan, "inf": math.inf}[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_literal_with_specials(node.operand)
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_literal_with_specials(e) for e in node.elts]
        return items if isinstance(node, ast.List) else tuple(items)
    if isinstance(node, ast.Dict):
        return {_literal_with_specials(k): _literal_with_specials(v) for k, v in zip(node.keys, node.values)}
    return ast.literal_eval(node)


def glued(nb) -> tuple[dict, dict, dict]:
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
            if GLUE_PNG in data:
                figures[name] = data[GLUE_PNG]
            else:
                texts[name] = data[GLUE_TEXT]
                values[name] = parse_glued_text(data[GLUE_TEXT])
    return values, figures, texts


def build_glued(stem: str) -> tuple[dict, dict]:
    """What the book build's execution of ``book/<stem>.md`` glued (myst-nb's ``.glue.json``): the raw text of
    every value, and every figure's PNG as base64 text."""
    def text(v):
        return "".join(v) if isinstance(v, list) else v

    glue = json.loads((ROOT / "_build" / "jupyter_execute" / "book" / f"{stem}.glue.json").read_text())
    figures = {k: text(v["data"]["image/png"]) for k, v in glue.items() if "image/png" in v["data"]}
    texts = {k: text(v["data"]["text/plain"]) for k, v in glue.items() if k not in figures}
    return texts, figures


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
    values, figures, texts = glued(executed)
    return ChapterRun(slug, params, values, figures, executed, out, texts)
