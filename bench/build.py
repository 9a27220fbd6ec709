"""Book build time, cold and warm.

Both builds go into a scratch ``--path-output`` (``_build/bench/book``), never into ``_build/html``. myst-nb
keeps its execution cache next to the HTML (``<path-output>/_build/.jupyter_cache``), so emptying the scratch
folder makes the first build cold: every chapter is executed. The second build, with nothing changed, is warm:
Sphinx finds no outdated page and no chapter is executed. The command is the one ``make book`` runs
(``nbtests/build_book.py``): ``jupyter-book build <root> -W -n --keep-going``, without ``MPLBACKEND``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "_build" / "bench" / "book"


def _build(log: Path) -> dict:
    from bench.chapters import write_network_guard

    ipython_dir = OUT.parent / "ipython-build"
    write_network_guard(ipython_dir)  # as the tests' builds do, where they have a guard
    env = dict(os.environ, IPYTHONDIR=str(ipython_dir))
    env.pop("MPLBACKEND", None)
    env.pop("JAX_COMPILATION_CACHE_DIR", None)  # time the cold build a reader pays
    cmd = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(ROOT), "--path-output", str(OUT),
           "-W", "-n", "--keep-going"]
    load = os.getloadavg()
    t0 = time.time()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.time() - t0
    output = proc.stdout + proc.stderr
    log.write_text(output)
    executed = {Path(path).name: float(sec) for path, sec in
                re.findall(r"^(\S+): Executed notebook in ([0-9.]+) seconds", output, flags=re.M)}
    failed = sorted(p.name for p in (OUT / "_build" / "html" / "reports").glob("**/*.err.log"))
    warnings = [line.strip() for line in output.splitlines() if re.search(r"\b(WARNING|ERROR|CRITICAL):", line)]
    return {"seconds": round(seconds, 1), "returncode": proc.returncode, "ok": proc.returncode == 0 and not failed,
            "executed": len(executed), "executed_s": round(sum(executed.values()), 1), "executed_by_file": executed,
            "from_cache": len(re.findall(r"Using cached notebook", output)),
            "failed_reports": failed, "warnings": warnings[:10], "load_before": [round(x, 2) for x in load],
            "log": str(log.relative_to(ROOT))}


def build_times() -> dict:
    """Build the book twice into an empty scratch folder; returns ``{"cold": {...}, "warm": {...}}``, each
    with ``seconds`` (wall), ``ok``, ``executed`` (notebooks executed, from myst-nb's log), ``executed_s`` (their
    summed execution time), ``from_cache`` and ``warnings``."""
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    cold = _build(OUT.parent / "build-cold.log")
    warm = _build(OUT.parent / "build-warm.log")
    return {"command": f"jupyter-book build . --path-output {OUT.relative_to(ROOT)} -W -n --keep-going",
            "cold": cold, "warm": warm}


if __name__ == "__main__":
    import json

    print(json.dumps(build_times(), indent=1))
