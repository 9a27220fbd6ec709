"""Read a chapter's glued test records and check them independently of ``dlfn.verdict``.

A chapter's closing cell glues one record per test (``test_<name>``, made by ``dlfn.hypothesis_test``): the
per-run samples of the statistic and of its control, the decision rule, the interval and the outcome. The
tests here recompute the interval and the decision from the raw samples with scipy, without ``dlfn``'s
code, and then assert the outcome the chapter's claim predicts. The threshold lives in one place, the
chapter's verdict cell; a test file never restates it.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

OUTCOMES = ("passes", "fails", "does not discriminate")


def _interval(samples, level: float, method: str) -> tuple[float, float, float]:
    x = np.asarray(samples, dtype=float)
    if method == "binomial":
        k, n = int(x.sum()), x.size
        # Clopper-Pearson from the beta distribution, written out rather than taken from dlfn
        a = (1 - level) / 2
        lo = 0.0 if k == 0 else stats.beta.ppf(a, k, n - k + 1)
        hi = 1.0 if k == n else stats.beta.ppf(1 - a, k + 1, n - k)
        return k / n, float(lo), float(hi)
    m = x.mean()
    h = stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
    return float(m), float(m - h), float(m + h)


def _met(rule: dict, lo: float, hi: float) -> bool:
    if rule["kind"] == "above":
        return lo > rule["threshold"]
    if rule["kind"] == "below":
        return hi < rule["threshold"]
    assert rule["kind"] == "equivalent", rule
    return rule["threshold"] - rule["margin"] < lo and hi < rule["threshold"] + rule["margin"]


def verify_record(rec: dict) -> None:
    """Recompute a test record's estimates, intervals, decisions and outcome from its raw samples."""
    name = rec.get("name", "?")
    for field in ("claim", "null", "statistic", "unit", "source"):
        assert isinstance(rec.get(field), str) and rec[field].strip(), f"test {name}: no {field}"
    assert rec["control"]["condition"].strip(), f"test {name}: no control condition"
    rule, level = rec["rule"], 1 - 2 * rec["rule"]["alpha"]
    assert math.isclose(rec["ci_level"], level), f"test {name}: interval level {rec['ci_level']} != {level}"
    met = {}
    for part, r in (("test", rec), ("control", rec["control"])):
        assert r["n"] == len(r["samples"]) >= 2, f"test {name} ({part}): needs >= 2 independent runs"
        value, lo, hi = _interval(r["samples"], level, rec["interval"])
        assert math.isclose(value, r["value"], rel_tol=1e-9, abs_tol=1e-12), (name, part, value, r["value"])
        assert np.allclose([lo, hi], r["ci"], rtol=1e-6, atol=1e-12), (name, part, (lo, hi), r["ci"])
        met[part] = _met(rule, lo, hi)
        assert met[part] == r["met"], f"test {name} ({part}): the rule's decision does not follow from the samples"
    expected = "fails" if not met["test"] else "does not discriminate" if met["control"] else "passes"
    assert rec["outcome"] == expected, f"test {name}: outcome {rec['outcome']!r}, the samples give {expected!r}"


def read_test(run, name: str) -> dict:
    """The verified record of test ``name`` of a chapter run (a ``ChapterRun``)."""
    rec = run[f"test_{name}"]
    verify_record(rec)
    return rec


def describe(rec: dict) -> str:
    lo, hi = rec["ci"]
    c = rec["control"]
    return (f"{rec['name']}: {rec['outcome']}; {rec['statistic']} = {rec['value']:.4g} [{lo:.4g}, {hi:.4g}] "
            f"(n = {rec['n']}), rule: {rec['rule']['text']}; control ({c['condition']}) = {c['value']:.4g} "
            f"[{c['ci'][0]:.4g}, {c['ci'][1]:.4g}]")


def assert_outcome(run, name: str, expected: str = "passes") -> dict:
    """Assert that test ``name`` of a chapter run has the outcome the claim predicts (after verifying its
    record); the message gives the value, the interval, the rule and the control."""
    assert expected in OUTCOMES, expected
    rec = read_test(run, name)
    assert rec["outcome"] == expected, f"chapter {run.slug!r}: expected {expected!r}; " + describe(rec)
    return rec


def assert_equivalence_estimate(run, name: str) -> dict:
    """For an equivalence test planned with a stated power: assert that its control fails the rule and that
    the point estimate lies inside the margin, without asserting the outcome.

    A two one-sided test (TOST) at the chapter's planned power puts the whole interval inside the margin at
    most seeds, not all: at a fraction of base seeds close to one minus the power it fails, and that is a
    result the ledger reports across seeds (``make robustness``), not a bug. What holds at every seed but
    a negligible fraction is weaker: the estimate itself falls inside the margin."""
    rec = read_test(run, name)
    rule = rec["rule"]
    assert rule["kind"] == "equivalent", f"{name}: not an equivalence test"
    assert not rec["control"]["met"], f"chapter {run.slug!r}: the control meets the rule; " + describe(rec)
    assert abs(rec["value"] - rule["threshold"]) < rule["margin"], f"chapter {run.slug!r}: " + describe(rec)
    return rec
