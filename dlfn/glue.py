"""Glue: how a chapter hands its numbers and figures to the page and to the tests.

The prose shows a glued number with ``{glue:text}`name:.3f```; the tests read the same value from the
executed notebook (see ``nbtests/harness.py``). Values are stored as plain Python numbers, lists or
strings, so that their text form can be read back with :func:`ast.literal_eval`.
"""

from __future__ import annotations

import numbers
from types import MappingProxyType

import numpy as np

_REGISTRY: dict = {}
glued = MappingProxyType(_REGISTRY)
"""Every value glued so far in this kernel, by name, as the plain Python value the page and the tests see
(read-only). A chapter's verdict cell reads its numbers from here, so it judges exactly what was glued."""

VERDICTS = ("holds", "partly holds", "does not hold")


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


def verdict_of(criteria: dict) -> str:
    """``"holds"`` if every criterion is met, ``"does not hold"`` if none is, ``"partly holds"`` otherwise."""
    if not criteria:
        raise ValueError("a verdict needs at least one criterion")
    met = [bool(ok) for ok in criteria.values()]
    return VERDICTS[0] if all(met) else VERDICTS[2] if not any(met) else VERDICTS[1]


def glue_verdict(criteria: dict, *, name: str = "verdict") -> str:
    """Judge a chapter's claim and glue the result for the page and for the book's ledger.

    Args:
        criteria: ``{description: met}``; each description says what was measured and where its threshold
            comes from (a published value, chance level, a significance level), e.g.
            ``{"CNN beats MLP on shifted digits (paired t-test, p < 0.01)": p < 0.01}``.
        name: glue name of the verdict.

    Prints the checklist; glues ``name`` (one of :data:`VERDICTS`), ``name + "_met"`` and ``name + "_criteria"``
    (the dict of descriptions to booleans); returns the verdict.
    """
    verdict = verdict_of(criteria)
    for description, ok in criteria.items():
        print(f"[{'x' if ok else ' '}] {description}")
    n_met = sum(bool(ok) for ok in criteria.values())
    print(f"verdict: {verdict} ({n_met} of {len(criteria)} criteria met)")
    glue_value(name, verdict)
    glue_value(f"{name}_met", f"{n_met} of {len(criteria)}")
    glue_value(f"{name}_criteria", {description: bool(ok) for description, ok in criteria.items()})
    return verdict


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
