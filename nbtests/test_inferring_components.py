"""Claims of the chapter ``inferring_components`` (book/06_inferring_components.md): where the truth is
known, a network's objective can be identified from its hidden responses (CKA against candidates
trained with each objective), and a Hebbian rule's threshold can be recovered from novel and familiar
rate distributions (after Lim et al. 2015).

Thresholds are those of issue 5 (the book's plan for this chapter), not values fitted to one run.
"""

import math

import pytest

from nbtests.harness import ChapterError, run_chapter

SLUG = "inferring_components"


def test_cka_identifies_a_classification_brains_objective(chapter):
    """Deepest hidden layer, linear CKA: the classification objective scores highest for at least 90%
    of classification brains (issue 5), with a mean margin over the next objective above 0.03."""
    r = chapter(SLUG)
    assert r["objective_win_rate_classification_brain"] >= 0.9
    assert r["objective_margin_classification_brain"] > 0.03


def test_cka_identifies_an_autoencoder_brains_objective(chapter):
    """Deepest hidden layer, linear CKA: the autoencoding objective scores highest for at least 90% of
    autoencoder brains (issue 5), with a mean margin over the next objective above 0.03."""
    r = chapter(SLUG)
    assert r["objective_win_rate_autoencoder_brain"] >= 0.9
    assert r["objective_margin_autoencoder_brain"] > 0.03


def test_rule_threshold_is_recovered_from_rate_distributions(chapter):
    """Quantile matching of novel and familiar rates recovers the rule's threshold theta to within 0.03
    in normalised rate units (issue 5; theta at or below the novel rates' 35th percentile)."""
    r = chapter(SLUG)
    assert r["theta_quantile"] <= 0.35
    assert math.isfinite(r["theta_abs_error"])
    assert r["theta_abs_error"] < 0.03


def test_threshold_rule_shows_exactly_one_sign_change(chapter):
    """Depression below theta, potentiation above: the recovered rule changes sign exactly once in every
    simulated population (issue 5)."""
    r = chapter(SLUG)
    assert len(r["rule_sign_changes"]) >= 2
    assert all(n == 1 for n in r["rule_sign_changes"]), r["rule_sign_changes"]


def test_pure_potentiation_control_shows_no_threshold(chapter):
    """A rule positive at every rate must not produce a spurious threshold: zero sign changes summed over
    all populations (issue 5)."""
    r = chapter(SLUG)
    assert r["control_sign_changes"] == 0


def test_invalid_parameter_stops_the_chapter():
    """A bad parameter stops the chapter at its parameter check, naming the parameter."""
    with pytest.raises(ChapterError, match="n_rule_seeds"):
        run_chapter(SLUG, stop_after="check_parameters(", n_rule_seeds=0)
    with pytest.raises(ChapterError, match="n_nets"):
        run_chapter(SLUG, stop_after="check_parameters(", n_nets=0)
    with pytest.raises(ChapterError, match="recorded_units"):
        run_chapter(SLUG, stop_after="check_parameters(", recorded_units=[64])
