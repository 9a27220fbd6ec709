"""Claims of the chapter ``credit_assignment`` (book/03_credit_assignment.md): feedback alignment's fixed random
feedback comes to carry the gradient's direction while the network learns (Lillicrap et al. 2016), and not when
the feedback is redrawn at every step (the control). The variance laws of node and weight perturbation and the
1/K law of averaging are checks: they follow from the estimators' definitions.

The test reads the chapter's glued record, recomputes its interval and decision from the per-seed samples
(``nbtests.verdicts``), and asserts the outcome; the threshold lives only in the chapter's closing cell.
"""

import pytest

from nbtests.harness import ChapterError, run_chapter
from nbtests.verdicts import assert_outcome

SLUG = "credit_assignment"


def test_feedback_alignment_carries_the_gradient(chapter):
    """While learning, FA's hidden update is within 90 degrees of backprop's (one-sided, level alpha); with
    the feedback redrawn at every step it is not."""
    assert_outcome(chapter(SLUG), "feedback_alignment_carries_the_gradient", "passes")


def test_verdict_counts_the_test_and_every_check_passed(chapter):
    r = chapter(SLUG)
    assert r["verdict_tests"] == ["feedback_alignment_carries_the_gradient"]
    assert set(r["verdict_checks"]) == {
        "wp_variance_grows_as_the_number_of_weights", "np_variance_ignores_the_inputs",
        "np_variance_grows_as_the_number_of_outputs", "averaging_k_estimates_divides_the_error_by_k"}
    assert all(r["verdict_checks"].values())


def test_var_inputs_must_include_the_ratio_sizes():
    with pytest.raises(ChapterError, match="var_inputs"):
        run_chapter(SLUG, stop_after="check_parameters(", var_inputs=[5, 20])


def test_n_updates_must_be_a_multiple_of_eval_every():
    with pytest.raises(ChapterError, match="eval_every"):
        run_chapter(SLUG, stop_after="check_parameters(", n_updates=1001)
