"""Claims of the chapter ``what_evolution_stores`` (book/11_what_evolution_stores.md): in a fixed world
evolution stores the behaviour in the newborn's weights and lets a costly learning rate fall; when the world
changes across generations and experience is reliable it stores learning instead, and not when experience is
unreliable (Stephens 1991; Dunlap & Stephens 2009).

Each test reads the chapter's glued record, recomputes its interval and decision from the per-run samples
(``nbtests.verdicts``), and asserts the outcome the claim predicts; the thresholds live only in the chapter's
closing cell.
"""

import pytest

from nbtests.verdicts import assert_outcome
from tools.run import ChapterError, run_chapter

SLUG = "what_evolution_stores"


def test_fixed_world_stores_the_behaviour(chapter):
    """At p = 0 the evolved innate projection is above 1/stored_factor of the best fixed behaviour;
    in a world that flips half the time (the control) it is not."""
    assert_outcome(chapter(SLUG), "fixed_world_stores_the_behaviour", "passes")


def test_fixed_world_lets_learning_wither(chapter):
    """At p = 0 the learning rate at least halves over the run (the declared factor); where the world
    changes and experience is reliable (the control) it does not."""
    assert_outcome(chapter(SLUG), "fixed_world_lets_learning_wither", "passes")


def test_changing_world_with_reliable_experience_stores_learning(chapter):
    """At p = 1/2, r = 1 the learning rate at least doubles; at p = 1/2, r = 0 (the decisive control: as much change,
    unreliable experience) it does not."""
    assert_outcome(chapter(SLUG), "changing_world_with_reliable_experience_stores_learning", "passes")


def test_verdict_counts_the_tests_and_every_check_passed(chapter):
    r = chapter(SLUG)
    assert r["verdict_tests"] == ["fixed_world_stores_the_behaviour", "fixed_world_lets_learning_wither",
                                  "changing_world_with_reliable_experience_stores_learning"]
    assert r["verdict_checks"] == {"learning_step_is_the_gradient": True, "no_learning_no_change": True}
    assert r["verdict"] == "holds"


@pytest.mark.parametrize("bad", [{"change_grid": [0.1, 0.5]}, {"reliability_grid": [0.0, 0.5]},
                                 {"population": 31}])
def test_grids_without_the_tested_corners_stop_the_chapter(bad):
    with pytest.raises(ChapterError, match=next(iter(bad))):
        run_chapter(SLUG, stop_after="check_parameters(", **bad)
