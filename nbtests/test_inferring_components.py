"""Claims of the chapter ``inferring_components`` (book/06_inferring_components.md): CKA between a brain's deepest
layer and candidate networks picks out the brain's objective (control: responses shuffled across stimuli), and
the learning rule inferred from rate distributions depresses low rates, which a non-plastic gain change (the
control) mimics, so that test does not discriminate (Lim et al. 2015 needed the input currents too).

Each test reads the chapter's glued record, recomputes its interval and decision from the samples
(``nbtests.verdicts``); the thresholds live only in the chapter's closing cell.
"""

import pytest

from nbtests.verdicts import assert_outcome, read_test
from tools.run import ChapterError, run_chapter

SLUG = "inferring_components"


def test_cka_identifies_the_objective(chapter):
    """The margin of the brain's own objective is above 0; with the brain's responses shuffled across
    stimuli (the control) it is not."""
    assert_outcome(chapter(SLUG), "cka_identifies_the_objective", "passes")


def test_a_gain_change_mimics_the_threshold_rule(chapter):
    """A finding: the distributions show depression at low rates under the threshold rule, and so does a
    gain change with no plasticity (the control meets the rule too)."""
    rec = read_test(chapter(SLUG), "inferred_rule_depresses_low_rates")
    assert rec["control"]["met"], "the gain-change control no longer mimics depression at low rates"
    assert rec["outcome"] != "passes"


def test_verdict_counts_the_tests(chapter):
    r = chapter(SLUG)
    assert r["verdict_tests"] == ["cka_identifies_the_objective", "inferred_rule_depresses_low_rates"]


def test_too_many_recorded_units_stop_the_chapter():
    with pytest.raises(ChapterError, match="recorded_units"):
        run_chapter(SLUG, stop_after="check_parameters(", recorded_units=[1, 1000])
