"""Which notebooks make up the book (``_toc.yml`` is the registry), and how to read back what they glued.

Used by the tests, the benchmark, ``make robustness`` and the site's ledger (``_ext/dlfn_ledger.py``), so
that all of them agree on the list of chapters and on the meaning of a glued value.
"""

from __future__ import annotations

import ast
import json
import math
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
GLUE_FOLDER = ROOT / "_build" / "jupyter_execute"


def toc_files(root: Path = ROOT) -> list[str]:
    """Every file named in ``_toc.yml``, in order, as paths relative to the root without suffix."""
    toc = yaml.safe_load((Path(root) / "_toc.yml").read_text())
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
    text = Path(path).read_text()
    head = text.split("\n---", 2)[0] if text.startswith("---") else ""
    return "kernelspec:" in head


def slug_of(path: Path) -> str:
    """``book/03_credit_assignment.md`` -> ``credit_assignment``."""
    return re.sub(r"^\d+_", "", Path(path).stem)


def notebook_paths(root: Path = ROOT) -> dict[str, Path]:
    """Every notebook in the table of contents (the chapters and the intro): ``{slug: path}``."""
    notebooks = {}
    for rel in toc_files(root):
        path = Path(root) / f"{rel}.md"
        if path.exists() and is_notebook(path):
            notebooks[slug_of(path)] = path
    return notebooks


def chapter_paths(root: Path = ROOT) -> dict[str, Path]:
    """Chapters: the numbered notebooks in the table of contents, in order, ``{slug: path}``."""
    return {slug: path for slug, path in notebook_paths(root).items() if re.match(r"\d+_", path.name)}


def chapter_label(path: Path) -> str:
    """The chapter's MyST label, the ``(ch-...)=`` line above its title."""
    match = re.search(r"^\((ch-[\w-]+)\)=\s*$", Path(path).read_text(), re.M)
    if not match:
        raise ValueError(f"{path}: no (ch-...)= label above the title")
    return match.group(1)


def chapter_title(path: Path) -> str:
    match = re.search(r"^# (.+)$", Path(path).read_text(), re.M)
    return match.group(1).strip() if match else slug_of(path)


def parse_glued_text(text: str):
    """A glued value's text form back to Python: literals, and the bare ``nan``/``inf`` that Python writes."""
    special = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
    if text.strip() in special:
        return special[text.strip()]
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        # containers holding nan or inf: parse with those names bound to floats, nothing else allowed
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


def read_glue_file(path: Path) -> tuple[dict, dict]:
    """What a book build glued for one notebook (myst-nb's ``<page>.glue.json``): the raw text of every value,
    and every figure's PNG as base64 text."""
    def text(v):
        return "".join(v) if isinstance(v, list) else v

    glue = json.loads(Path(path).read_text())
    figures = {k: text(v["data"]["image/png"]) for k, v in glue.items() if "image/png" in v["data"]}
    texts = {k: text(v["data"]["text/plain"]) for k, v in glue.items() if k not in figures}
    return texts, figures


def build_values(stem: str, folder: Path = GLUE_FOLDER) -> dict:
    """The values (parsed) that the book build's execution of ``book/<stem>.md`` glued."""
    texts, _ = read_glue_file(Path(folder) / "book" / f"{stem}.glue.json")
    return {k: parse_glued_text(v) for k, v in texts.items()}
