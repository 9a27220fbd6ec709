"""Claims of the chapter ``learning_dynamics`` (book/02_learning_dynamics.md): from small random initial
weights, Saxe, McClelland & Ganguli's (2014) solution, given each mode's effective initial strength measured
before training, predicts when a deep linear network learns each mode; with inputs that are not whitened
(the theory's assumption broken) the same prediction fails.

The agreement from aligned weights, the order of the modes there, and the rotation symmetry of the hidden
layer are checks (they hold by construction); the chapter stops if one fails. The test reads the chapter's
glued record and recomputes its interval and decision from the per-run samples (``nbtests.verdicts``); the
threshold lives only in the chapter's closing cell.
"""

import pytest

from nbtests.verdicts import assert_outcome
from tools.run import ChapterError, run_chapter

SLUG = "learning_dynamics"


def test_formula_predicts_random_init_half_times(chapter):
    """The mean relative half-time error over modes is below the declared tolerance (one-sided, level
    alpha) from random initial weights, and not below it when the inputs are not whitened (the control)."""
    assert_outcome(chapter(SLUG), "formula_predicts_random_init_half_times", "passes")


def test_verdict_counts_the_test_and_every_check_passed(chapter):
    """The verdict is made from the one test; the checks (exact solution from aligned weights, the order of
    its modes, the rotation symmetry) all held, since a failed check stops the chapter."""
    r = chapter(SLUG)
    assert r["verdict_tests"] == ["formula_predicts_random_init_half_times"]
    assert set(r["verdict_checks"]) == {
        "aligned_effective_strength_is_u0", "aligned_half_times_match_the_exact_solution",
        "aligned_modes_in_order_of_strength", "rotated_copies_follow_one_trajectory",
        "rotated_copies_differ_only_by_a_rotation"}
    assert all(r["verdict_checks"].values())
    assert r["verdict"] == "holds"


def test_too_large_a_step_is_rejected():
    with pytest.raises(ChapterError, match="dt"):
        run_chapter(SLUG, stop_after="check_parameters(", dt=0.02)
