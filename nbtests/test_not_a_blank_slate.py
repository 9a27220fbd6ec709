"""Claims of the chapter ``not_a_blank_slate`` (book/08_not_a_blank_slate.md): a starting point evolved for
what it can learn in one lifetime learns new tasks of its world better than a pretrained one, and not in a
world it was not built for (faster sinusoids, the control).

The test reads the chapter's glued record, recomputes its interval and decision from the per-repetition
samples (``nbtests.verdicts``), and asserts the outcome; the threshold lives only in the chapter's closing cell.
"""

import pytest

from nbtests.harness import ChapterError, run_chapter
from nbtests.verdicts import assert_outcome

SLUG = "not_a_blank_slate"


def test_evolved_prior_learns_better_than_pretrained(chapter):
    """After one lifetime step the evolved start's error is below the pretrained start's over independent
    repetitions; on twice-faster sinusoids (the control) it is not."""
    assert_outcome(chapter(SLUG), "evolved_prior_learns_better_than_pretrained", "passes")


def test_verdict_counts_the_test(chapter):
    r = chapter(SLUG)
    assert r["verdict_tests"] == ["evolved_prior_learns_better_than_pretrained"]


def test_odd_population_stops_the_chapter():
    with pytest.raises(ChapterError, match="population"):
        run_chapter(SLUG, stop_after="check_parameters(", population=63)
