"""Claims of the chapter `non_gradient_plasticity` (book/04_non_gradient_plasticity.md): Oja's rule finds
the first principal component without following a gradient, and a rotational rule leaves the objective
unchanged. Thresholds come from issue 4."""

import pytest

from nbtests.harness import ChapterError, run_chapter

SLUG = "non_gradient_plasticity"


def test_oja_converges_to_first_principal_component(chapter):
    """Oja (1982): the weights converge to the first PC. Issue 4: |cos| > 0.99, for every repetition."""
    r = chapter(SLUG)
    assert r["oja_cos_pc1"] > 0.99
    assert min(r["oja_cos_seeds"]) > 0.99


def test_oja_weights_converge_to_unit_norm(chapter):
    """Oja (1982): the decay term normalises the weights to |w| = 1. Issue 4: |norm - 1| < 0.02, for every
    repetition."""
    r = chapter(SLUG)
    assert abs(r["oja_norm"] - 1.0) < 0.02
    assert max(abs(n - 1.0) for n in r["oja_norm_seeds"]) < 0.02


def test_oja_field_is_not_a_gradient(chapter):
    """A gradient field has a symmetric Jacobian. Issue 4: relative asymmetry ||J - J^T|| / ||J|| > 0.1."""
    assert chapter(SLUG)["oja_jacobian_asymmetry"] > 0.1


def test_hebb_field_is_a_gradient_control(chapter):
    """Control: plain Hebb's averaged field C w is the gradient of w^T C w / 2, so its asymmetry is zero up to
    float32 rounding (1e-5 allows for it); the asymmetry test above can therefore tell the two apart."""
    assert chapter(SLUG)["hebb_jacobian_asymmetry"] < 1e-5


def test_rotational_rule_leaves_objective_unchanged(chapter):
    """Box 3 / Fig. 3: a rotation S grad F changes w but not F. Issue 4: relative change of F < 1e-4."""
    assert chapter(SLUG)["rotation_objective_change"] < 1e-4


def test_mixed_rule_still_improves_objective(chapter):
    """Fig. 3: a rule with a gradient component and a rotational one still lowers F (dF/dt = -|grad F|^2):
    the relative change of F must be negative (F decreases)."""
    assert chapter(SLUG)["mixed_objective_change"] < 0


def test_invalid_parameter_stops_the_chapter():
    """A bad parameter must stop the chapter at the parameter check, naming the parameter."""
    with pytest.raises(ChapterError, match="n_seeds"):
        run_chapter(SLUG, stop_after="check_parameters(", n_seeds=0)
