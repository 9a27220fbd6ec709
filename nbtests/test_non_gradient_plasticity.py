"""Claims of the chapter ``non_gradient_plasticity`` (book/04_non_gradient_plasticity.md): Oja's rule raises
the Rayleigh quotient along noisy, finite-step learning without following its gradient (Richards et al. 2019,
Box 3 and Fig. 3, right), and a BCM synapse whose threshold is slightly slower than the synapse settles on a
closed orbit, so no objective improves along its learning (Box 3, "may not follow the gradient of any
objective function at all").

Each test reads the chapter's glued record, recomputes its interval and decision from the raw per-run samples
(``nbtests.verdicts``), and asserts the outcome the claim predicts. The thresholds live only in the chapter's
closing cell.
"""

import pytest

from nbtests.verdicts import assert_outcome
from tools.run import ChapterError, run_chapter

SLUG = "non_gradient_plasticity"


def test_oja_improves_rayleigh_quotient(chapter):
    """Along online Oja learning the mean dR/dt is above 0 (one-sided, level alpha), while the unpaired
    control (presynaptic activity from an independent sample) does not meet the same rule."""
    assert_outcome(chapter(SLUG), "oja_improves_rayleigh_quotient", "passes")


def test_bcm_settles_on_a_closed_orbit(chapter):
    """Online BCM with a slow threshold makes more than one turn around its fixed point (outside
    loop_radius) in the second half of learning, while a preconditioned gradient ascent with the same
    threshold rule, on the same inputs, does not."""
    assert_outcome(chapter(SLUG), "bcm_settles_on_a_closed_orbit", "passes")


def test_verdict_counts_tests_and_every_check_passed(chapter):
    """The verdict is made from the two tests; the checks (identities of the averaged flows, exact
    integrations of Fig. 3) all held, since a failed check stops the chapter."""
    r = chapter(SLUG)
    assert r["verdict_tests"] == ["oja_improves_rayleigh_quotient", "bcm_settles_on_a_closed_orbit"]
    assert r["verdict_checks"] and all(r["verdict_checks"].values())
    assert r["verdict"] == "holds"


def test_inconsistent_bcm_range_stops_the_chapter():
    with pytest.raises(ChapterError, match="bcm_p_range"):
        run_chapter(SLUG, stop_after="check_parameters(", bcm_p_range=[0.8, 0.4])
