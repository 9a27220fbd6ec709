"""Glue: how a chapter hands its numbers and figures to the page and to the tests.

The prose shows a glued number with ``{glue:text}`name:.3f```; the tests read the same value from the
executed notebook (see ``tools/run.py``). Values are stored as plain Python numbers, lists or
strings, so that their text form can be read back with :func:`ast.literal_eval`.
"""

from __future__ import annotations

import numbers
from types import MappingProxyType

import numpy as np

_REGISTRY: dict = {}
glued = MappingProxyType(_REGISTRY)
"""Every value glued so far in this kernel, by name, as the plain Python value the page and the tests see
(read-only)."""

def _plain(value):
    """Convert numpy / JAX scalars and arrays to plain Python numbers and lists."""
    if isinstance(value, (str, bool)) or value is None:
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    arr = np.asarray(value)
    if arr.ndim == 0:
        return _plain(arr.item())
    return [_plain(v) for v in arr.tolist()]


def glue_value(name: str, value):
    """Glue ``value`` (a number, a list of numbers or a string) under ``name`` without displaying it.

    Returns the plain-Python value that was glued, so a chapter can write ``x = glue_value("x", ...)``.
    """
    from myst_nb import glue

    plain = _plain(value)
    glue(name, plain, display=False)
    _REGISTRY[name] = plain
    return plain


def glue_figure(name: str, fig) -> None:
    """Glue a matplotlib figure under ``name`` (which starts with ``fig_``) and close it.

    The page shows it with a ``{glue:figure}`` directive, which must carry ``:alt:`` text.
    """
    import matplotlib.pyplot as plt
    from myst_nb import glue

    if not name.startswith("fig_"):
        raise ValueError(f"figure glue names start with 'fig_'; got {name!r}")
    glue(name, fig, display=False)
    plt.close(fig)
