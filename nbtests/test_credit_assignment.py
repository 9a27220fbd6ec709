"""Claims of the chapter `credit_assignment` (book/03_credit_assignment.md): bias and variance of BP, FA,
NP and WP, measured against the true gradient. Thresholds come from issue 4 and the cited theory."""

import pytest

from nbtests.harness import ChapterError, run_chapter

SLUG = "credit_assignment"


def test_wp_variance_grows_in_proportion_to_number_of_weights(chapter):
    """Werfel, Xie & Seung (2005): WP's single-sample relative variance is ~P+1, log-log slope 1 in P.
    Tolerance 1 +- 0.15 from issue 4."""
    assert abs(chapter(SLUG)["wp_variance_slope"] - 1.0) <= 0.15


def test_np_variance_does_not_grow_with_inputs(chapter):
    """Werfel et al. (2005): NP's relative variance is ~M+1, independent of the number of inputs N.
    The ratio at N=40 over N=10 (M fixed) must lie in [0.8, 1.25] (issue 4)."""
    assert 0.8 <= chapter(SLUG)["np_variance_ratio_inputs"] <= 1.25


def test_np_variance_grows_with_outputs(chapter):
    """NP's relative variance ~M+1 grows in proportion to the outputs M. We use the same tolerance as the
    issue's WP law (slope 1 +- 0.15); M+1 itself has slope ~0.94 over the chapter's range of M."""
    assert abs(chapter(SLUG)["np_variance_slope_outputs"] - 1.0) <= 0.15


def test_fa_starts_orthogonal_to_backprop(chapter):
    """Lillicrap et al. (2016): with random feedback, FA's hidden update starts at ~90 deg from BP's.
    Band 90 +- 25 deg from issue 4."""
    assert abs(chapter(SLUG)["fa_angle_start_deg"] - 90.0) <= 25.0


def test_fa_aligns_with_backprop(chapter):
    """Lillicrap et al. (2016): the forward weights align with the feedback, so the angle falls far below
    90 deg. Issue 4: below 60 deg (mean over the last 10% of training)."""
    assert chapter(SLUG)["fa_angle_end_deg"] < 60.0


def test_fa_loss_goes_to_near_zero(chapter):
    """Lillicrap et al. (2016): FA still solves the linear task. 'Near zero' taken as a fall of at least
    two orders of magnitude from the initial loss (the teacher is exactly representable)."""
    assert chapter(SLUG)["fa_loss_ratio"] < 1e-2


def test_averaging_k_perturbation_estimates_shrinks_error_as_one_over_k(chapter):
    """Unbiased estimators: the error of a K-sample mean is variance / K, log-log slope -1 in K.
    Tolerance +-0.15, as for the issue's variance law."""
    r = chapter(SLUG)
    assert abs(r["np_k_slope"] + 1.0) <= 0.15
    assert abs(r["wp_k_slope"] + 1.0) <= 0.15


def test_perturbation_rules_are_unbiased_and_fa_is_biased(chapter):
    """Box 1 / Fig. 2 of Richards et al. (2019): NP and WP are (nearly) unbiased, FA is biased.
    Bias as 1 - cos; 0.1 corresponds to an angle of about 26 deg between mean update and gradient."""
    r = chapter(SLUG)
    assert abs(r["plane_bias_np"]) < 0.1
    assert abs(r["plane_bias_wp"]) < 0.1
    assert r["plane_bias_fa_init"] > 0.1
    assert r["plane_var_wp"] > r["plane_var_np"] > 0


def test_backprop_beats_perturbation_rules_on_digits(chapter):
    """Issue 4: after the same number of updates BP reaches a lower loss than NP and WP (mean and every
    repetition)."""
    r = chapter(SLUG)
    assert r["final_loss_bp"] < r["final_loss_np"]
    assert r["final_loss_bp"] < r["final_loss_wp"]
    for bp, np_, wp in zip(r["final_loss_bp_seeds"], r["final_loss_np_seeds"], r["final_loss_wp_seeds"],
                           strict=True):
        assert bp < np_ and bp < wp


def test_invalid_parameter_stops_the_chapter():
    """A bad parameter must stop the chapter at the parameter check, naming the parameter."""
    with pytest.raises(ChapterError, match="n_seeds"):
        run_chapter(SLUG, stop_after="check_parameters(", n_seeds=0)
