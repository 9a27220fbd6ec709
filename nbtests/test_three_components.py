"""Claims of the chapter ``three_components`` (book/01_three_components.md): one compact recipe makes
networks that behave and represent alike, whose weights differ and whose description grows with size.

Thresholds are those of issue 6 (the book's plan for this chapter), not values fitted to one run.
"""

import numpy as np
import pytest

from nbtests.harness import ChapterError, run_chapter

SLUG = "three_components"


def loglog_slope(x, y):
    return np.polyfit(np.log(np.asarray(x, float)), np.log(np.asarray(y, float)), 1)[0]


def test_seeds_of_one_recipe_reach_the_same_accuracy(chapter):
    """Same behaviour: test accuracies over seeds lie within a 3-point band (issue 6). With 360 test
    images one image is 0.3 points, so this allows a handful of images of disagreement."""
    r = chapter(SLUG)
    assert 0 <= r["acc_spread"] < 0.03


def test_hidden_representations_are_similar_across_seeds(chapter):
    """Similar representations: mean linear CKA (Kornblith et al. 2019) over seed pairs above 0.95, and
    at least 0.08 above the CKA of untrained networks, which is already high (about 0.8 in the
    prototype of the book's plan), so that the similarity is due to training (issue 6)."""
    r = chapter(SLUG)
    assert r["cka_hidden_mean"] > 0.95
    assert r["cka_hidden_mean"] > r["cka_hidden_null"] + 0.08


def test_matched_weight_correlation_is_low(chapter):
    """Different weights: after Hungarian matching of hidden units, the first-layer weights of two trained
    networks correlate by less than 0.6 on average (issue 6)."""
    r = chapter(SLUG)
    assert r["weight_corr_matched_mean"] < 0.6


@pytest.mark.xfail(strict=True, reason=(
    "finding (issue 6): with this recipe training raises the matched weight correlation by 0.25-0.26 over "
    "two random initialisations (about 0.31 -> 0.56-0.57 at seeds 0, 1, 7, 12345), more than the 0.2 the "
    "claim allows; the chapter reports it (glued weight_corr_verdict, weight_corr_summary). Strict: if a run "
    "meets the claim, this test fails and the finding must be revisited"))
def test_matched_weight_correlation_is_near_its_random_baseline(chapter):
    """Matching flatters: two random initialisations already correlate (about 0.33 in the prototype of
    the book's plan). The claim, as issue 6 states it, is that training adds less than 0.2 to this
    baseline."""
    r = chapter(SLUG)
    assert r["weight_corr_matched_mean"] < r["weight_corr_matched_null"] + 0.2


def test_quantised_weights_grow_in_proportion_to_the_parameter_count(chapter):
    """Description length of the weights (8-bit + gzip) is proportional to the number of parameters:
    log-log slope within 1 +- 0.15 (issue 6)."""
    r = chapter(SLUG)
    slope = loglog_slope(r["n_params_by_width"], r["weights_bytes_quantised_by_width"])
    assert abs(slope - 1) < 0.15, slope


def test_recipe_length_does_not_grow_with_the_network(chapter):
    """The recipe's description does not change with width: log-log slope within 0 +- 0.15, the same
    tolerance that the weights' slope is allowed around 1 (issue 6)."""
    r = chapter(SLUG)
    slope = loglog_slope(r["n_params_by_width"], r["recipe_bytes_by_width"])
    assert abs(slope) < 0.15, slope
    assert r["recipe_bytes"] == r["recipe_bytes_by_width"][-1]


def test_widest_network_weights_dwarf_the_recipe(chapter):
    """At the widest network the quantised weights take more than 20 times the bytes of the recipe
    (issue 6)."""
    r = chapter(SLUG)
    assert r["weights_bytes_quantised_widest"] > 20 * r["recipe_bytes"]


def test_quantisation_costs_less_than_one_point_of_accuracy(chapter):
    """The 8-bit description is of a network that still works: the largest accuracy loss over widths is
    below 0.01 (issue 6)."""
    r = chapter(SLUG)
    assert r["acc_loss_quantised"] < 0.01


def test_invalid_parameter_stops_the_chapter():
    with pytest.raises(ChapterError, match="n_seeds"):
        run_chapter(SLUG, stop_after="check_parameters(", n_seeds=0)


def test_single_width_is_rejected():
    with pytest.raises(ChapterError, match="widths"):
        run_chapter(SLUG, stop_after="check_parameters(", widths=[64])
