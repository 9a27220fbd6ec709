"""Claims of the chapter ``recurrent_dynamics`` (book/12_recurrent_dynamics.md): recurrent networks trained on
context-dependent integration (Mante et al. 2013) integrate, build a line attractor in each context, select the
relevant input by their dynamics, and share fixed-point topology across architectures while their geometry
differs (Maheswaranathan et al. 2019).

Each test reads the chapter's glued record and recomputes its interval and decision from the per-run samples
(``nbtests.verdicts``). Outcomes that vary with the seed are verified, not asserted; what is asserted holds at
every seed of ``make robustness`` (the chapter's section 6 says why some tests do not pass).
"""

import pytest

from nbtests.verdicts import read_test
from tools.run import ChapterError, run_chapter

SLUG = "recurrent_dynamics"
TESTS = ["networks_integrate", "vanilla_networks_build_a_line_attractor", "grus_build_a_line_attractor",
         "context_selects_by_the_dynamics", "geometry_is_individual"]


def test_trained_networks_remember_longer_than_their_leak(chapter):
    """The trained networks beat the observer who forgets at the leak's rate, and networks trained to report
    the last sample do not."""
    rec = read_test(chapter(SLUG), "networks_integrate")
    assert rec["met"] and not rec["control"]["met"], rec


def test_networks_that_need_no_memory_fail_the_line_attractor_criterion(chapter):
    """The criterion of this version (central slow points, one slow mode that the readout sees the relevant
    evidence through) is not met by networks trained on the no-integration task; whether the trained networks
    meet it varies with the seed and is verified, not asserted (section 6)."""
    rec = read_test(chapter(SLUG), "vanilla_networks_build_a_line_attractor")
    assert not rec["control"]["met"], rec


def test_untrained_grus_have_no_line_attractor(chapter):
    rec = read_test(chapter(SLUG), "grus_build_a_line_attractor")
    assert not rec["control"]["met"], rec


def test_input_gating_fails_the_selection_test(chapter):
    """The input-gated control must not meet the selection rule; the trained networks' outcome varies with
    the seed (section 6) and is verified, not asserted."""
    rec = read_test(chapter(SLUG), "context_selects_by_the_dynamics")
    assert not rec["control"]["met"], rec


def test_geometry_differs_more_between_architectures_than_within(chapter):
    """Within-architecture CKA exceeds between-architecture CKA (point estimate; with four quadruples the
    interval excludes zero at most seeds, not all), and the crossed-label control does not meet the rule."""
    rec = read_test(chapter(SLUG), "geometry_is_individual")
    assert rec["value"] > 0 and not rec["control"]["met"], rec


def test_verdict_counts_the_tests_and_every_check_passed(chapter):
    r = chapter(SLUG)
    assert r["verdict_tests"] == TESTS
    assert r["verdict_checks"] == {"slow_point_search_finds_a_known_fixed_point": True,
                                   "cka_ignores_rotations": True}
    assert r["verdict"] in {"holds", "partly holds", "does not hold"}


def test_odd_number_of_networks_stops_the_chapter():
    with pytest.raises(ChapterError, match="n_nets"):
        run_chapter(SLUG, stop_after="check_parameters(", n_nets=5)
