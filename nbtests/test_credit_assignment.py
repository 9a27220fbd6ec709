"""Claims of the chapter ``credit_assignment`` (book/03_credit_assignment.md): at each rule's best learning rate,
node perturbation is slower than gradient descent by a factor that scales as the number of outputs, and weight
perturbation slower still by a factor that scales as the number of inputs (Werfel et al. 2005; the controls are
the same ratios against the size they do not depend on); feedback alignment's fixed random feedback comes to
carry the gradient's direction while the network learns (Lillicrap et al. 2016), and not when the feedback is
redrawn at every step (the control). The variance laws of node and weight perturbation and the 1/K law of
averaging are checks: they follow from the estimators' definitions.

Each test reads the chapter's glued record, recomputes its interval and decision from the per-seed samples
(``nbtests.verdicts``), and asserts the outcome; the threshold lives only in the chapter's closing cell.
"""

import pytest

from nbtests.verdicts import assert_outcome
from tools.run import ChapterError, run_chapter

SLUG = "credit_assignment"


def test_feedback_alignment_carries_the_gradient(chapter):
    """While learning, FA's hidden update is within 90 degrees of backprop's (one-sided, level alpha); with
    the feedback redrawn at every step it is not."""
    assert_outcome(chapter(SLUG), "feedback_alignment_carries_the_gradient", "passes")


def test_node_perturbation_slows_as_the_number_of_outputs(chapter):
    """The log-log slope of GD's speed over NP's against the outputs is 1 within the declared margin (TOST);
    against the inputs, which it should not depend on, it is not."""
    assert_outcome(chapter(SLUG), "node_perturbation_slows_as_the_outputs", "passes")


def test_weight_perturbation_slows_further_as_the_number_of_inputs(chapter):
    """The slope of NP's speed over WP's against the inputs is 1 within the margin; against the outputs it is
    not."""
    assert_outcome(chapter(SLUG), "weight_perturbation_slows_further_as_the_inputs", "passes")


def test_verdict_counts_the_tests_and_every_check_passed(chapter):
    r = chapter(SLUG)
    assert r["verdict_tests"] == ["node_perturbation_slows_as_the_outputs",
                                  "weight_perturbation_slows_further_as_the_inputs",
                                  "feedback_alignment_carries_the_gradient"]
    assert set(r["verdict_checks"]) == {
        "best_rates_lie_inside_the_grids", "kolen_pollack_gap_shrinks_geometrically",
        "wp_variance_grows_as_the_number_of_weights", "np_variance_ignores_the_inputs",
        "np_variance_grows_as_the_number_of_outputs", "averaging_k_estimates_divides_the_error_by_k"}
    assert all(r["verdict_checks"].values())


def test_var_inputs_must_include_the_ratio_sizes():
    with pytest.raises(ChapterError, match="var_inputs"):
        run_chapter(SLUG, stop_after="check_parameters(", var_inputs=[5, 20])


def test_n_updates_must_be_a_multiple_of_eval_every():
    with pytest.raises(ChapterError, match="eval_every"):
        run_chapter(SLUG, stop_after="check_parameters(", n_updates=1001)


def test_a_speed_sweep_needs_two_sizes():
    with pytest.raises(ChapterError, match="speed_outputs"):
        run_chapter(SLUG, stop_after="check_parameters(", speed_outputs=[8, 8])
