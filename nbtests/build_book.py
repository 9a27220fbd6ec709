"""Build the book (``make book``): execute every chapter and build the site into ``_build/html`` with
warnings as errors. When the build fails, the reason comes first: which chapter, which cell, what error.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build(extra_args: list[str] | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)  # MPLBACKEND=Agg silently removes every figure from the book
    cmd = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(ROOT), "-W", "-n", "--keep-going",
           *(extra_args or [])]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)


def failures(output: str) -> list[str]:
    """The lines that name what failed: execution errors (with their chapter) and Sphinx's warnings
    ("WARNING:"; a kernel's own log lines, such as "[IPKernelApp] WARNING | ...", are not build problems)."""
    lines = []
    for report in sorted((ROOT / "_build" / "html" / "reports").glob("**/*.err.log")):
        text = report.read_text(errors="replace").strip().splitlines()
        last = next((t for t in reversed(text) if t.strip()), "")
        lines.append(f"chapter {report.stem.replace('.err', '')} failed to execute: {last.strip()}"
                     f"  (full log: {report.relative_to(ROOT)})")
    for line in output.splitlines():
        if re.search(r"\b(WARNING|ERROR|CRITICAL|SEVERE):", line):
            lines.append(line.strip())
    return lines


def main() -> int:
    result = build(sys.argv[1:])
    problems = failures(result.stdout + result.stderr)
    if result.returncode != 0 or problems:
        print("BOOK BUILD FAILED:", file=sys.stderr)
        for line in problems[:40] or ["(no warning captured; see the output below)"]:
            print("  " + line, file=sys.stderr)
        print("\n--- full output ---", file=sys.stderr)
        print(result.stdout[-20000:], file=sys.stderr)
        print(result.stderr[-20000:], file=sys.stderr)
        return result.returncode or 1
    print(result.stdout[-3000:])
    print(f"Book built: {ROOT / '_build' / 'html' / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
