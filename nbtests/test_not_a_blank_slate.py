"""Claims of the chapter ``not_a_blank_slate`` (book/08_not_a_blank_slate.md): a starting point evolved for
what it can learn in one lifetime learns new tasks of its world better than a pretrained one, and not in a
world it was not built for (faster sinusoids, the control); in a widely varying world what evolution stores is
mostly learned (the pretrained start, the control, is mostly innate); in a narrow world the evolved newborn
already does most of its task (in the wide world, the control, it does not).

The test reads the chapter's glued record, recomputes its interval and decision from the per-repetition
samples (``nbtests.verdicts``), and asserts the outcome; the threshold lives only in the chapter's closing cell.
"""

import pytest

from nbtests.verdicts import assert_outcome
from tools.run import ChapterError, run_chapter

SLUG = "not_a_blank_slate"


def test_evolved_prior_learns_better_than_pretrained(chapter):
    """After one lifetime step the evolved start's error is below the pretrained start's over independent
    repetitions; on twice-faster sinusoids (the control) it is not."""
    assert_outcome(chapter(SLUG), "evolved_prior_learns_better_than_pretrained", "passes")


def test_wide_world_prior_is_mostly_learned(chapter):
    """In the full task family less than half of the evolved learner's gain is present at birth; the pretrained
    start's (the control) is not below the half-way mark."""
    assert_outcome(chapter(SLUG), "wide_world_prior_is_mostly_learned", "passes")


def test_narrow_world_prior_is_mostly_innate(chapter):
    """In the narrowest varying family of the sweep the evolved newborn already removes more than half of the
    blank slate's error; in the sweep's full family (the control) it does not."""
    assert_outcome(chapter(SLUG), "narrow_world_prior_is_mostly_innate", "passes")


def test_verdict_counts_the_tests(chapter):
    r = chapter(SLUG)
    assert r["verdict_tests"] == ["evolved_prior_learns_better_than_pretrained",
                                  "wide_world_prior_is_mostly_learned", "narrow_world_prior_is_mostly_innate"]


def test_odd_population_stops_the_chapter():
    with pytest.raises(ChapterError, match="population"):
        run_chapter(SLUG, stop_after="check_parameters(", population=63)
