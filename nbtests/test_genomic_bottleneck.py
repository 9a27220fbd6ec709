"""Claims of the chapter ``genomic_bottleneck`` (Zador 2019; Shuvaev, Lachi, Koulakov & Zador 2024): a genome
far smaller than the phenotype wires a network that classifies digits before any learning, gives lifetime
learning a head start, stays tunable by learning, and, when the world changes at birth, adapts better than
a phenotype inherited uncompressed.

Each test reads the chapter's glued record, recomputes its interval and decision from the per-seed samples
(``nbtests.verdicts``), and asserts the outcome the claim predicts; the thresholds live only in the chapter's
closing cell.
"""

import pytest

from nbtests.verdicts import assert_outcome
from tools.run import ChapterError, run_chapter

SLUG = "genomic_bottleneck"


def test_bottleneck_genome_wires_an_innate_behaviour(chapter):
    """The strongly compressed newborn is above chance (one-sided, level alpha); the same genome before
    evolution (the control) is not."""
    assert_outcome(chapter(SLUG), "bottleneck_genome_wires_an_innate_behaviour", "passes")


def test_innate_wiring_gives_a_head_start(chapter):
    """A few lifetime steps in, the milder genome's start is ahead of a random start; the unevolved genome's
    start (the control) is not."""
    assert_outcome(chapter(SLUG), "innate_wiring_gives_a_head_start", "passes")


def test_learning_tunes_the_innate_network(chapter):
    """Lifetime learning raises the strongly compressed newborn's accuracy; with shuffled labels (the
    control) it does not."""
    assert_outcome(chapter(SLUG), "learning_tunes_the_innate_network", "passes")


def test_compressed_genome_adapts_better_than_the_inherited_phenotype(chapter):
    """After every digit is relabelled at birth, the milder genome's start scores higher over the lifetime than
    the phenotype inherited uncompressed; in the unchanged world (the control) it does not."""
    assert_outcome(chapter(SLUG), "compressed_genome_adapts_better_than_the_inherited_phenotype", "passes")


def test_verdict_counts_the_tests_and_every_check_passed(chapter):
    r = chapter(SLUG)
    assert r["verdict_tests"] == ["bottleneck_genome_wires_an_innate_behaviour",
                                  "innate_wiring_gives_a_head_start", "learning_tunes_the_innate_network",
                                  "compressed_genome_adapts_better_than_the_inherited_phenotype"]
    assert r["verdict_checks"] and all(r["verdict_checks"].values())


def test_mismatched_genome_levels_stop_the_chapter():
    with pytest.raises(ChapterError, match="genome_units_layer1"):
        run_chapter(SLUG, stop_after="check_parameters(", genome_units_layer1=[16, 2, 1])
