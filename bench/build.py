"""Book build time, cold and warm.

Both builds go into a scratch ``--path-output`` (``_build/bench/book``), never into ``_build/html``, with the
command ``make book`` runs (:func:`tools.build.build`: every notebook executed by the book's runner, two at a
time, then Sphinx). The runner keeps its executions and myst-nb its execution cache under the scratch folder, so
emptying it makes the first build cold: every notebook is executed and compiled from scratch (no JAX
compilation cache). The second build, with nothing changed, is warm: no notebook is executed and Sphinx finds
no outdated page.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "_build" / "bench" / "book"


def _build(log: Path) -> dict:
    from tools.build import build, failures
    from tools.run import EXECUTED_LINE, install_network_guard, without_compilation_cache

    install_network_guard(OUT.parent / "ipython-build")  # as the tests' builds do
    without_compilation_cache(os.environ)  # time the cold build a reader pays
    load = os.getloadavg()
    t0 = time.time()
    proc = build(["--path-output", str(OUT)], compilation_cache=False)
    seconds = time.time() - t0
    output = proc.stdout + proc.stderr
    log.write_text(output)
    line = next((x for x in output.splitlines() if x.startswith(EXECUTED_LINE)), "")
    executed = re.search(r"(\d+) notebooks executed in ([0-9.]+) s", line)
    problems = failures(output, OUT / "_build" / "html")
    return {"seconds": round(seconds, 1), "returncode": proc.returncode, "ok": proc.returncode == 0 and not problems,
            "executed": int(executed.group(1)) if executed else None,
            "executed_s": float(executed.group(2)) if executed else None, "execution": line,
            "problems": problems[:10], "load_before": [round(x, 2) for x in load], "log": str(log.relative_to(ROOT))}


def build_times() -> dict:
    """Build the book twice into an empty scratch folder; returns ``{"cold": {...}, "warm": {...}}``, each
    with ``seconds`` (wall), ``ok``, ``executed`` (notebooks executed, from myst-nb's log), ``executed_s`` (their
    summed execution time), ``from_cache`` and ``warnings``."""
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    cold = _build(OUT.parent / "build-cold.log")
    warm = _build(OUT.parent / "build-warm.log")
    return {"command": f"python -m tools.build --path-output {OUT.relative_to(ROOT)}", "cold": cold, "warm": warm}


if __name__ == "__main__":
    import json

    print(json.dumps(build_times(), indent=1))
