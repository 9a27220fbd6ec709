"""Claims of the chapter ``baldwin_effect`` (Hinton & Nowlan 1987, replicated by Stojić 2017)."""

import math

import pytest

from nbtests.harness import ChapterError, run_chapter

SLUG = "baldwin_effect"


def test_learning_fixes_correct_alleles_by_generation_50_in_every_seed(chapter):
    """Stojić's (2017) ReScience replication: correct alleles "close to 75%" by generation 50. The threshold
    0.65 (set in the issue) leaves room for seed-to-seed spread below that published value, yet is far above
    the initial 0.25 that a population without selection keeps."""
    r = chapter(SLUG)
    assert len(r["correct_per_seed"]) == r["n_seeds"]
    assert min(r["correct_per_seed"]) > 0.65
    assert r["correct_final_min"] > 0.65


def test_learning_removes_incorrect_alleles_by_generation_50_in_every_seed(chapter):
    """Hinton & Nowlan (1987) and Stojić (2017): incorrect alleles go to zero; the issue's threshold is 0.01
    (from an initial 0.25)."""
    r = chapter(SLUG)
    assert max(r["incorrect_per_seed"]) < 0.01
    assert r["incorrect_final"] < 0.01


def test_without_learning_the_target_is_never_found(chapter):
    """Without learning only an individual born with all 20 alleles correct is fit; its chance per birth is
    0.25**20 (about 1e-12), so across all runs the expected count is far below one: it must be 0."""
    assert chapter(SLUG)["hits_without_learning"] == 0


def test_allele_fractions_sum_to_one(chapter):
    """Every allele is correct, incorrect or undecided: the three fractions sum to 1 (float32 rounding)."""
    r = chapter(SLUG)
    total = r["correct_final"] + r["incorrect_final"] + r["undecided_final"]
    assert math.isclose(total, 1.0, abs_tol=1e-5)
    assert r["fraction_sum_max_error"] < 1e-5


def test_invalid_parameter_stops_the_chapter():
    """A bad parameter (zero seeds) must stop the chapter at its parameter check, naming the parameter."""
    with pytest.raises(ChapterError, match="n_seeds"):
        run_chapter(SLUG, stop_after="check_parameters(", n_seeds=0)
