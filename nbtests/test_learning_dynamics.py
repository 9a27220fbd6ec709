"""Claims of the chapter ``learning_dynamics`` (book/02_learning_dynamics.md): a deep linear network learns
each input-output mode along the sigmoid of Saxe, McClelland & Ganguli (2014), strongest mode first, and
the trajectories agree across seeds although the hidden weights differ by a rotation.

Thresholds are those of issue 6 (the book's plan for this chapter), not values fitted to one run.
"""

import pytest

from nbtests.harness import ChapterError, run_chapter

SLUG = "learning_dynamics"


def test_half_times_match_saxe_formula_from_aligned_init(chapter):
    """From aligned, balanced, small initial weights the exact solution applies: every mode's simulated
    half-time is within 2% of t = ln(s/u0 - 1) / (2s) (issue 6). The remaining error is the finite step
    of gradient descent (relative error about s * dt / 2)."""
    r = chapter(SLUG)
    assert 0 <= r["half_time_max_rel_error"] < 0.02


def test_modes_are_learned_in_order_of_singular_value(chapter):
    """Stage-like learning, strongest mode first, in every seed (fraction == 1.0, issue 6). The chapter
    measures it from random initial weights, where the order is not guaranteed by construction."""
    r = chapter(SLUG)
    assert r["modes_in_order_fraction"] == 1.0
    assert r["modes_in_order_fraction_aligned"] == 1.0


def test_mode_trajectories_agree_across_seeds(chapter):
    """The same mode follows the same trajectory in every seed of the aligned initialisation, within 1% of
    its strength s at every recorded time (issue 6), although the hidden weights differ."""
    r = chapter(SLUG)
    assert r["trajectory_spread_across_seeds"] < 0.01


def test_hidden_weights_differ_by_a_rotation(chapter):
    """The seeds' first-layer weights are far apart (a distance of at least 10% of their norm), yet an
    orthogonal rotation of the hidden units maps one onto the other within 1% of the norm (the same 1%
    tolerance as the trajectories)."""
    r = chapter(SLUG)
    assert r["hidden_weight_distance"] > 0.1
    assert r["hidden_weight_distance_after_rotation"] < 0.01


def test_shallow_network_has_no_staircase(chapter):
    """Contrast: a shallow network's modes approach their targets exponentially, all with half-time
    ln 2 (in units of tau), so their half-times span far less than the deep network's."""
    r = chapter(SLUG)
    shallow, deep = r["half_time_shallow"], r["half_time_aligned"]
    assert max(shallow) - min(shallow) < 0.1 * (max(deep) - min(deep))


def test_invalid_parameter_stops_the_chapter():
    with pytest.raises(ChapterError, match="n_seeds"):
        run_chapter(SLUG, stop_after="check_parameters(", n_seeds=0)


def test_too_large_a_step_is_rejected():
    with pytest.raises(ChapterError, match="dt"):
        run_chapter(SLUG, stop_after="check_parameters(", dt=0.05)
