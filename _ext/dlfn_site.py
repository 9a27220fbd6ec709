"""The book's own Sphinx extension: notebook downloads and the student edition.

Registered in ``_config.yml`` (``sphinx: local_extensions: {dlfn_site: _ext}``). It does two things.

Notebook downloads
    Every chapter page's download menu (the theme's header dropdown) offers the chapter twice:

    * ``.ipynb (with outputs)``: ``_sources/<page>.ipynb``, the notebook as the build executed it. The
      theme already links a notebook there, but the one myst-nb writes has its glued outputs taken out
      (the page shows them where the text glues them), and in this book nearly every output is glued, so
      that file had no outputs at all. Here it is rebuilt from the execution cache, and each glued figure or
      number becomes an ordinary output of the cell that computed it.
    * ``.ipynb (clean)``: ``_sources/<page>.clean.ipynb``, the jupytext conversion of the chapter's MyST
      source with no outputs (the form the tests execute), ready to run in any Jupyter.

Student edition (``hide_solutions = True``, set by ``python -m tools.build --student``)
    sphinx-exercise's ``hide_solutions`` removes ``{solution}`` directives, but in sphinx-exercise 1.2.1 a
    *gated* solution (``{solution-start}`` ... ``{solution-end}``, with code cells in between) loses only
    its opening directive: the prose and code cells in between stay on the page and the orphaned
    ``solution-end`` node breaks the HTML writer. This extension makes ``solution-start`` leave a marker
    when solutions are hidden, and a transform removes everything from the marker to its
    ``solution-end``. The downloads and the copied MyST sources (``_sources/``) of a student build are
    stripped of solutions too, so no solution reaches the student site.
"""

from __future__ import annotations

import re
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)

CLEAN_SUFFIX = ".clean.ipynb"
_FENCE = r"(?P<fence>`{3,}|:{3,})"
_GATED_START = re.compile(rf"^\s*{_FENCE}\{{solution-start\}}")
_GATED_END = re.compile(rf"^\s*{_FENCE}\{{solution-end\}}")
_SOLUTION = re.compile(rf"^\s*{_FENCE}\{{solution\}}")


# --- stripping solutions from MyST text and from notebooks -------------------------------------------


class _Stripper:
    """Drops solution lines from MyST markdown, line by line, across notebook cells: from a
    ``{solution-start}`` line to the fence closing its ``{solution-end}``, and whole ``{solution}``
    directives."""

    def __init__(self):
        self.gated = False        # inside solution-start ... solution-end
        self.close = None         # the fence that ends the directive being dropped, once its body is over

    @property
    def inside(self) -> bool:
        return self.gated or self.close is not None

    def keep(self, line: str) -> bool:
        if self.close is not None:                    # inside a {solution} or the {solution-end} directive
            if line.strip() == self.close:
                self.close = None
            return False
        if self.gated:
            end = _GATED_END.match(line)
            if end:
                self.gated = False
                self.close = end.group("fence")
            return False
        if _GATED_START.match(line):
            self.gated = True
            return False
        plain = _SOLUTION.match(line)
        if plain:
            self.close = plain.group("fence")
            return False
        return True

    def text(self, text: str) -> str:
        return "".join(line for line in text.splitlines(keepends=True) if self.keep(line))


def strip_solutions_text(text: str) -> str:
    """MyST markdown without its exercise solutions."""
    return _Stripper().text(text)


def strip_solutions_notebook(nb):
    """A notebook (read from a MyST chapter) without its exercise solutions: the solution code cells and
    the solution prose in the markdown cells around them."""
    stripper, cells = _Stripper(), []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = stripper.text(cell.source)
            if cell.source.strip():
                cells.append(cell)
        elif not stripper.inside:
            cells.append(cell)
    nb.cells = cells
    return nb


# --- the student edition: gated solutions removed from the pages ----------------------------------


class hidden_solution(nodes.Element):
    """Where a gated solution started, in a build that hides solutions; removed by
    :class:`RemoveHiddenGatedSolutions` (it has no HTML visitor, so one left behind fails the build)."""


class RemoveHiddenGatedSolutions(SphinxTransform):
    """Remove each gated solution (marker, content, ``solution-end``) when ``hide_solutions`` is set."""

    default_priority = 9  # before sphinx-exercise merges gated solutions (10)

    def apply(self):
        from sphinx_exercise.nodes import solution_end_node

        for marker in list(self.document.findall(hidden_solution)):
            parent = marker.parent
            start = parent.index(marker)
            end = next((i for i in range(start + 1, len(parent.children))
                        if isinstance(parent.children[i], solution_end_node)), None)
            if end is None:
                LOGGER.warning("solution-start without a solution-end after it in the same section; "
                               "the solution cannot be hidden", location=marker)
                parent.remove(marker)
                continue
            for child in parent.children[start:end + 1]:
                parent.remove(child)
        # a solution-end whose start was not found (left by sphinx-exercise itself) renders nothing
        if self.config.hide_solutions:
            for node in list(self.document.findall(solution_end_node)):
                LOGGER.warning("solution-end without a solution-start", location=node)
                node.parent.remove(node)


def _solution_start_directive():
    from sphinx_exercise.directive import SolutionStartDirective

    class SolutionStart(SolutionStartDirective):
        """``solution-start`` that leaves a :class:`hidden_solution` marker when solutions are hidden."""

        def run(self):
            result = super().run()
            if self.env.app.config.hide_solutions:
                marker = hidden_solution()
                self.set_source_info(marker)
                return [marker]
            return result

    return SolutionStart


# --- notebook downloads ----------------------------------------------------------------------------


def _is_notebook(app: Sphinx, pagename: str) -> bool:
    return pagename in app.env.all_docs and "kernelspec" in app.env.metadata.get(pagename, {})


def _unglue(nb):
    """Turn glued outputs (``application/papermill.record/...`` bundles, which a notebook viewer does not
    show) into ordinary outputs of the cell that computed them; a glued value is shown as ``name = value``."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            scrap = out.get("metadata", {}).get("scrapbook")
            if not scrap:
                continue
            prefix = scrap.get("mime_prefix", "")
            if prefix:
                out["data"] = {k[len(prefix):] if k.startswith(prefix) else k: v for k, v in out["data"].items()}
                if set(out["data"]) == {"text/plain"} and scrap.get("name"):
                    out["data"]["text/plain"] = f"{scrap['name']} = {out['data']['text/plain']}"
            del out["metadata"]["scrapbook"]
    return nb


def _tidy(nb):
    """A plain notebook: no build bookkeeping in its metadata, a python3 kernel, cell ids present."""
    import nbformat

    for key in ("jupytext", "source_map"):
        nb.metadata.pop(key, None)
    nb.metadata.setdefault("kernelspec", {"display_name": "Python 3", "language": "python", "name": "python3"})
    nb.nbformat, nb.nbformat_minor = 4, max(nb.get("nbformat_minor", 5), 5)
    for i, cell in enumerate(nb.cells):
        cell.setdefault("id", f"cell-{i}")
    nbformat.validate(nb)
    return nb


def executed_notebook(app: Sphinx, pagename: str):
    """The chapter as executed for this build, with every output (glued ones included)."""
    import nbformat

    cfg = app.env.mystnb_config
    nb = nbformat.read(Path(cfg.output_folder, *f"{pagename}.ipynb".split("/")), as_version=4)
    if cfg.execution_mode == "cache":
        from jupyter_cache import get_cache

        try:
            _, nb = get_cache(cfg.execution_cache_path).merge_match_into_notebook(nb)
        except KeyError:
            LOGGER.warning(f"{pagename}: no executed notebook in the cache; its download has no outputs")
    else:
        LOGGER.warning(f"{pagename}: execute_notebooks is {cfg.execution_mode!r}, not 'cache'; "
                       "the executed-notebook download lacks the glued outputs")
    return _unglue(nb)


def clean_notebook(app: Sphinx, pagename: str):
    """The chapter's source as a notebook without outputs (jupytext's conversion, as the tests run it)."""
    import jupytext

    nb = jupytext.read(app.env.doc2path(pagename))
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def add_notebook_downloads(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Write both notebooks of a chapter next to its copied source and list them in the download menu.
    Runs after the theme's own header-button handlers (priority 501)."""
    import nbformat

    if doctree is None or not _is_notebook(app, pagename):
        return
    out = Path(app.outdir, "_sources", *pagename.split("/"))
    out.parent.mkdir(parents=True, exist_ok=True)
    for suffix, make in ((".ipynb", executed_notebook), (CLEAN_SUFFIX, clean_notebook)):
        nb = make(app, pagename)
        if app.config.hide_solutions:
            nb = strip_solutions_notebook(nb)
        nbformat.write(_tidy(nb), out.parent / (out.name + suffix))

    group = next((b for b in context.get("header_buttons", []) if b.get("label") == "download-buttons"), None)
    if group is None:
        return
    base = context["pathto"]("_sources", 1)
    executed = {"type": "link", "url": f"{base}/{pagename}.ipynb", "text": ".ipynb (with outputs)",
                "tooltip": "Download the notebook as executed for this page, with its outputs",
                "icon": "fas fa-code", "label": "download-notebook-button"}
    clean = {"type": "link", "url": f"{base}/{pagename}{CLEAN_SUFFIX}", "text": ".ipynb (clean)",
             "tooltip": "Download the notebook without outputs, to run yourself",
             "icon": "fas fa-code", "label": "download-clean-notebook-button"}
    buttons = [b for b in group["buttons"] if b.get("label") != "download-notebook-button"]
    group["buttons"] = [executed, clean, *buttons]


def strip_copied_sources(app: Sphinx, exception) -> None:
    """In a student build, take the solutions out of the MyST sources Sphinx copied into ``_sources``."""
    if exception is not None or not app.config.hide_solutions or app.builder.format != "html":
        return
    for path in Path(app.outdir, "_sources").rglob("*"):
        if path.suffix in (".md", ".txt") and path.is_file():
            text = path.read_text(encoding="utf-8")
            stripped = strip_solutions_text(text)
            if stripped != text:
                path.write_text(stripped, encoding="utf-8")


def dedupe_inline_scripts(app: Sphinx, env) -> None:
    """Sphinx 7.4 writes an inline script registered after the builder starts twice into every page's head
    (sphinx-doc/sphinx#13402): sphinx-thebe's ``const THEBE_JS_URL`` then throws "Identifier has already been
    declared" on every page (found by nbtests/test_browser.py). Re-registering inline scripts with an empty
    filename, as Sphinx 8 does, writes each once."""
    from sphinx.builders.html._assets import _JavaScript

    scripts = getattr(app.builder, "_js_files", None)
    if scripts is not None:
        scripts[:] = [_JavaScript("", priority=s.priority, **s.attributes) if s.filename is None else s
                      for s in scripts]


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinx_exercise")
    app.add_node(hidden_solution)
    app.add_directive("solution-start", _solution_start_directive(), override=True)
    app.add_transform(RemoveHiddenGatedSolutions)
    app.connect("html-page-context", add_notebook_downloads, priority=502)
    app.connect("build-finished", strip_copied_sources)
    app.connect("env-updated", dedupe_inline_scripts)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

