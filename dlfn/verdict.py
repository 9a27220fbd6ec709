"""The book's form of a verdict: checks apart from tests, every test with a control that must fail it.

A **check** verifies the implementation: an identity, a conservation law, a symmetry, a result that holds
by construction. If you can predict its outcome without running the experiment, it is a check.
:func:`check` asserts it on the spot (a failed check is a bug, so it stops the chapter) and records it for
the closing cell; checks never count toward a verdict.

A **test** is a claim about the modelled world whose outcome is not fixed in advance. :func:`hypothesis_test`
takes one statistic per independent run (its unit of replication), a decision rule with its level and the
source of its threshold, and the same statistic measured on a *control*: a condition in the same run where
the claim is false by design. The test *passes* when the rule holds for the claim's condition and fails for
the control; if the control meets the rule too, the test *does not discriminate*.

:func:`glue_verdict` turns the tests' outcomes into the chapter's verdict (:data:`VERDICTS`) and glues
everything the ledger, the intro and the tests read. First used and explained in ``learning_dynamics``.

Decision rules (each uses a two-sided confidence interval at level ``1 - 2 * alpha``, whose relevant end is
the one-sided bound at level ``1 - alpha``):

- :func:`above` / :func:`below`: the mean lies above / below a threshold (a one-sided test at ``alpha``);
- :func:`equivalent`: the mean lies within ``to +- margin`` (two one-sided tests, TOST, at ``alpha``), the
  form every "no effect" or "matches the published value" claim takes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from dlfn.glue import _REGISTRY, glue_value
from dlfn.stats import equivalence_test, one_sided_test

VERDICTS = ("holds", "partly holds", "does not hold", "inconclusive")
"""holds: every test passes (and every control fails); does not hold: no test passes and at least one
fails; inconclusive: no test passes or fails (every control met the rule too); partly holds: the rest."""

OUTCOMES = ("passes", "fails", "does not discriminate")
INTERVALS = ("t", "binomial")

_CHECKS: dict = {}  # name -> {"description", "ok"}, in the order they were made, for this kernel
_TESTS: dict = {}   # name -> record


class CheckError(AssertionError):
    """A check failed: the implementation does not do what the chapter says it does."""


# ----------------------------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class Rule:
    """A decision rule on the mean of one statistic per independent run."""

    kind: str        # "above", "below" or "equivalent"
    threshold: float  # above/below: the bound; equivalent: the centre
    margin: float    # equivalent: the half-width; 0 otherwise
    alpha: float     # level of each one-sided test

    @property
    def ci_level(self) -> float:
        return 1 - 2 * self.alpha

    def decide(self, lo: float, hi: float) -> bool:
        if self.kind == "above":
            return lo > self.threshold
        if self.kind == "below":
            return hi < self.threshold
        return self.threshold - self.margin < lo and hi < self.threshold + self.margin

    def p_value(self, samples, method: str = "t") -> float:
        """The p-value of the rule's test: one-sided for above/below, the larger of the two one-sided ones
        for equivalence (TOST); Student-t for means, exact binomial for proportions."""
        x = np.asarray(samples, dtype=float).ravel()
        if self.kind == "equivalent":
            return equivalence_test(x, low=self.threshold - self.margin, high=self.threshold + self.margin,
                                    method=method)
        return one_sided_test(x, self.threshold, greater=self.kind == "above", method=method)

    def describe(self) -> str:
        one_sided = f"one-sided {100 * (1 - self.alpha):g}% confidence bound"
        if self.kind == "above":
            return f"lower {one_sided} above {self.threshold:g}"
        if self.kind == "below":
            return f"upper {one_sided} below {self.threshold:g}"
        return (f"{100 * self.ci_level:g}% confidence interval inside {self.threshold:g} +- {self.margin:g} "
                f"(two one-sided tests at {self.alpha:g})")

    def as_dict(self) -> dict:
        return {"kind": self.kind, "threshold": self.threshold, "margin": self.margin, "alpha": self.alpha,
                "text": self.describe()}


def _check_alpha(alpha: float) -> float:
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha must be in (0, 0.5); got {alpha}")
    return float(alpha)


def above(threshold: float, *, alpha: float = 0.01) -> Rule:
    """The claim: the mean statistic exceeds ``threshold`` (one-sided test at level ``alpha``)."""
    return Rule("above", float(threshold), 0.0, _check_alpha(alpha))


def below(threshold: float, *, alpha: float = 0.01) -> Rule:
    """The claim: the mean statistic is below ``threshold`` (one-sided test at level ``alpha``)."""
    return Rule("below", float(threshold), 0.0, _check_alpha(alpha))


def equivalent(margin: float, *, to: float = 0.0, alpha: float = 0.05) -> Rule:
    """The claim: the mean statistic equals ``to`` within ``+- margin`` (TOST at level ``alpha``).

    Use it for "no effect" (``to=0``; the margin is declared in the parameters cell with its reason) and for
    agreement with a published value (``to`` = the value; the margin from its reported uncertainty).
    """
    if not margin > 0:
        raise ValueError(f"an equivalence margin must be positive; got {margin}")
    return Rule("equivalent", float(to), float(margin), _check_alpha(alpha))


# ------------------------------------------------------------------------------------------- intervals


def interval(samples, *, level: float, method: str = "t") -> tuple[float, float, float]:
    """``(estimate, lo, hi)``: a two-sided ``level`` confidence interval from one value per independent run.

    ``method="t"``: Student-t interval of the mean. ``method="binomial"``: samples are 0/1 outcomes and the
    interval is Clopper-Pearson's exact one for the proportion.
    """
    x = np.asarray(samples, dtype=float).ravel()
    if x.size < 2:
        raise ValueError(f"a test needs at least 2 independent runs; got {x.size}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"a test's samples must be finite; got {x.tolist()}")
    if method == "t":
        mean = float(x.mean())
        sem = float(x.std(ddof=1) / math.sqrt(x.size))
        half = float(stats.t.ppf(0.5 + level / 2, df=x.size - 1)) * sem
        return mean, mean - half, mean + half
    if method == "binomial":
        if not np.all((x == 0) | (x == 1)):
            raise ValueError("binomial intervals need 0/1 samples")
        k, n = int(x.sum()), x.size
        ci = stats.binomtest(k, n).proportion_ci(confidence_level=level, method="exact")
        return k / n, float(ci.low), float(ci.high)
    raise ValueError(f"unknown interval method {method!r}; use one of {INTERVALS}")


# -------------------------------------------------------------------------------------- checks, tests


def check(name: str, ok, description: str) -> bool:
    """Verify the implementation here and now; record the check for the closing cell.

    Args:
        name: a short snake_case id, unique in the chapter.
        ok: the condition (anything ``bool`` accepts).
        description: what holds and why it must (an identity, a property built in by construction).

    Raises:
        CheckError: if ``ok`` is false, naming the check: the code does not do what the chapter says.
    """
    ok = bool(ok)
    _CHECKS[name] = {"description": description, "ok": ok}
    if not ok:
        raise CheckError(f"check {name!r} failed: {description}")
    return ok


def _run_stats(samples, rule: Rule, method: str) -> dict:
    x = np.asarray(samples, dtype=float).ravel()
    value, lo, hi = interval(x, level=rule.ci_level, method=method)
    return {"samples": x.tolist(), "n": int(x.size), "value": value, "ci": [lo, hi],
            "p": rule.p_value(x, method), "met": bool(rule.decide(lo, hi))}


def hypothesis_test(name: str, *, claim: str, null: str, statistic: str, unit: str, samples, rule: Rule,
                    source: str, control: str, control_samples, published: dict | None = None,
                    interval_method: str = "t") -> dict:
    """A test in the book's form: a claim, its null, a statistic over independent runs, a decision rule
    whose threshold has a source, and a claim-breaking control measured in the same run.

    Args:
        name: snake_case id; the record is glued as ``test_<name>``.
        claim: the claim, in one sentence.
        null: the null hypothesis the rule rejects.
        statistic: what is measured in each run, in words (e.g. "mean relative half-time error over modes").
        unit: the unit of replication (e.g. "independent networks (seeds)").
        samples: one value of the statistic per independent run, shape ``(n,)``.
        rule: :func:`above`, :func:`below` or :func:`equivalent`.
        source: where the threshold comes from: a paper's number, chance, a significance level, a margin
            declared in the parameters cell before looking at results.
        control: the condition in which the claim is false by design (no learning, no evolution, a bias that
            does not match the world ...); it must not sit at a floor where every method fails.
        control_samples: the same statistic in the control condition, one value per independent run.
        published: optional ``{"value": text, "setup": text, "cite": bibkey, "differences": text}`` for the
            ledger: what the cited study reported, under which setup, and how this run's setup differs.
        interval_method: ``"t"`` (mean) or ``"binomial"`` (a proportion of 0/1 outcomes).

    Returns:
        The record (a plain dict) that is glued, with ``outcome`` one of :data:`OUTCOMES`.
    """
    if not name.isidentifier() or name != name.lower():
        raise ValueError(f"a test name is a snake_case identifier; got {name!r}")
    for field, text in [("claim", claim), ("null", null), ("statistic", statistic), ("unit", unit),
                        ("source", source), ("control", control)]:
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"test {name!r}: {field} must be a non-empty sentence")
    if published is not None:
        unknown = set(published) - {"value", "setup", "cite", "differences"}
        if unknown or "value" not in published:
            raise ValueError(f"test {name!r}: published takes value, setup, cite, differences; got "
                             f"{sorted(published)}")
    main = _run_stats(samples, rule, interval_method)
    ctrl = _run_stats(control_samples, rule, interval_method)
    outcome = OUTCOMES[1] if not main["met"] else OUTCOMES[2] if ctrl["met"] else OUTCOMES[0]
    record = {
        "name": name, "claim": claim, "null": null, "statistic": statistic, "unit": unit,
        "rule": rule.as_dict(), "ci_level": rule.ci_level, "interval": interval_method, "source": source,
        **main,
        "control": {"condition": control, **ctrl},
        "outcome": outcome,
        "published": published,
    }
    _TESTS[name] = record
    glue_value(f"test_{name}", record)
    lo, hi = main["ci"]
    clo, chi = ctrl["ci"]
    print(f"test {name}: {outcome}\n"
          f"  {statistic}: {main['value']:.4g} [{lo:.4g}, {hi:.4g}] over {main['n']} {unit}\n"
          f"  rule: {rule.describe()} ({'met' if main['met'] else 'not met'})\n"
          f"  control ({control}): {ctrl['value']:.4g} [{clo:.4g}, {chi:.4g}] "
          f"({'met: the test does not discriminate' if ctrl['met'] else 'not met, as it must be'})")
    return record


def verdict_of(outcomes) -> str:
    """The chapter's verdict from its tests' outcomes (see :data:`VERDICTS`)."""
    outcomes = list(outcomes)
    if not outcomes:
        raise ValueError("a verdict needs at least one test")
    unknown = set(outcomes) - set(OUTCOMES)
    if unknown:
        raise ValueError(f"unknown test outcomes {sorted(unknown)}; use {OUTCOMES}")
    n_pass, n_fail = outcomes.count(OUTCOMES[0]), outcomes.count(OUTCOMES[1])
    if n_pass == len(outcomes):
        return VERDICTS[0]
    if n_pass == 0:
        return VERDICTS[2] if n_fail else VERDICTS[3]
    return VERDICTS[1]


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def tests_table(records) -> str:
    """A Markdown table of test records: what the closing cell of a chapter shows."""
    rows = ["| test | this run | rule | control | outcome |", "|---|---|---|---|---|"]
    for r in records:
        lo, hi = r["ci"]
        clo, chi = r["control"]["ci"]
        rows.append(f"| **{r['name']}**: {r['claim']} | {_fmt(r['value'])} "
                    f"[{_fmt(lo)}, {_fmt(hi)}], n = {r['n']} | {r['rule']['text']}; {r['source']} | "
                    f"{r['control']['condition']}: {_fmt(r['control']['value'])} [{_fmt(clo)}, {_fmt(chi)}] "
                    f"| {r['outcome']} |")
    return "\n".join(rows)


def glue_verdict(tests, *, claim: str, where: str, name: str = "verdict") -> str:
    """Judge the chapter's claim from its tests and glue what the ledger, the intro and the tests read.

    Args:
        tests: the records returned by :func:`hypothesis_test` (at least one).
        claim: the chapter's claim of the paper, in one sentence (the ledger's first column).
        where: where in Richards et al. (2019) the claim is made: a box, a figure or a section that exists
            in the paper (e.g. ``"Box 1; Fig. 2"``).
        name: glue name of the verdict.

    Shows the tests and the checks made so far; glues ``name`` (one of :data:`VERDICTS`), ``name_met`` ("k of
    n tests pass"), ``name_tests`` (the test names, in order), ``name_checks`` ({name: ok}) and
    ``chapter_claim`` / ``chapter_where``; returns the verdict.
    """
    from IPython.display import Markdown, display

    records = list(tests)
    if not records:
        raise ValueError("a verdict needs at least one test; checks never count toward it")
    names = [r["name"] for r in records]
    if len(set(names)) != len(names):
        raise ValueError(f"test names repeat: {names}")
    for r in records:
        if _REGISTRY.get(f"test_{r['name']}") != r:
            raise ValueError(f"test {r['name']!r} was not made (and glued) by hypothesis_test in this kernel")
    if not claim.strip() or not where.strip():
        raise ValueError("glue_verdict needs the chapter's claim and where in the paper it is made")
    verdict = verdict_of(r["outcome"] for r in records)
    n_pass = sum(r["outcome"] == OUTCOMES[0] for r in records)
    checks_md = "\n".join(f"- [{'x' if c['ok'] else ' '}] `{k}`: {c['description']}" for k, c in _CHECKS.items())
    display(Markdown(f"**Tests** (they decide the verdict):\n\n{tests_table(records)}\n\n"
                     f"**Checks** (they verify the code and never count toward the verdict):\n\n"
                     f"{checks_md or '(none)'}\n\n"
                     f"**Verdict: {verdict}** ({n_pass} of {len(records)} tests pass)."))
    glue_value(name, verdict)
    glue_value(f"{name}_met", f"{n_pass} of {len(records)} tests pass")
    glue_value(f"{name}_tests", names)
    glue_value(f"{name}_checks", {k: c["ok"] for k, c in _CHECKS.items()})
    glue_value("chapter_claim", claim)
    glue_value("chapter_where", where)
    return verdict
