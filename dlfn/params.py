"""Checks of a chapter's parameters cell.

Every chapter declares, right after its parameters cell, the type and allowed range of each parameter::

    PARAMETER_SPEC = {
        "seed": ("int", 0, 2**31 - 1),
        "n_seeds": ("int", 2, 64),
        "train_sizes": ("int-list", 10, 1000),
        "learning_rate": ("float", 1e-5, 1.0),
    }
    check_parameters(PARAMETER_SPEC, globals())

Kinds: ``"int"``, ``"float"``, ``"int-list"`` and ``"float-list"`` (each element in range, list not
empty). Ranges are inclusive. A bad value raises :class:`ParameterError` (a ``ValueError``) that names the
parameter and the allowed range, so a chapter run with ``n_seeds=0`` stops at once with a clear message
instead of failing obscurely later. The tests read the same declarations to build invalid cases.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

KINDS = ("int", "float", "int-list", "float-list")


class ParameterError(ValueError):
    """A chapter parameter outside its declared type or range."""


def _describe(kind: str, lo, hi) -> str:
    what = {"int": "an integer", "float": "a number", "int-list": "a non-empty list of integers",
            "float-list": "a non-empty list of numbers"}[kind]
    each = " each" if kind.endswith("list") else ""
    return f"{what}{each} in [{lo}, {hi}]"


def _check_scalar(name: str, value, kind: str, lo, hi, spec_text: str) -> None:
    if kind.startswith("int"):
        ok_type = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    else:
        ok_type = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not ok_type:
        raise ParameterError(f"parameter {name!r} must be {spec_text}; got {value!r} "
                             f"of type {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ParameterError(f"parameter {name!r} must be {spec_text}; got {value!r}")
    if not lo <= value <= hi:
        raise ParameterError(f"parameter {name!r} must be {spec_text}; got {value!r}")


def check_parameters(spec: Mapping[str, tuple], namespace: Mapping[str, object]) -> dict:
    """Check each parameter named in ``spec`` against its declared kind and inclusive range.

    Args:
        spec: ``{name: (kind, lo, hi)}`` with kind one of ``"int"``, ``"float"``, ``"int-list"``,
            ``"float-list"``.
        namespace: where the values live; a chapter passes ``globals()``.

    Returns:
        ``{name: value}`` for the checked parameters, for the record.

    Raises:
        ParameterError: naming the first parameter that is missing, of the wrong type or out of range.
    """
    checked = {}
    for name, (kind, lo, hi) in spec.items():
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r} for parameter {name!r}; use one of {KINDS}")
        if name not in namespace:
            raise ParameterError(f"parameter {name!r} is declared but not set in the parameters cell")
        value = namespace[name]
        text = _describe(kind, lo, hi)
        if kind.endswith("list"):
            if not isinstance(value, (list, tuple)) or len(value) == 0:
                raise ParameterError(f"parameter {name!r} must be {text}; got {value!r}")
            for item in value:
                _check_scalar(name, item, kind, lo, hi, text)
        else:
            _check_scalar(name, value, kind, lo, hi, text)
        checked[name] = value
    return checked
