"""Claims of the chapter ``sparse_coding`` (book/05_sparse_coding.md): with the same whitened patches of
natural images, a sparse-coding objective learns local, oriented atoms with heavy-tailed responses, while
PCA learns global components.

Thresholds are those of issue 5 (the book's plan for this chapter, after Olshausen & Field 1996), not
values fitted to one run. Values are medians over atoms, averaged over the chapter's seeds.
"""

import pytest

from nbtests.harness import ChapterError, run_chapter

SLUG = "sparse_coding"


def test_sparse_atoms_are_local(chapter):
    """Locality = energy in the best 4x4 window of the 8x8 patch; a pattern spread evenly over the patch
    scores 0.25. Issue 5: sparse atoms above 0.70 (most energy in a quarter of the patch)."""
    r = chapter(SLUG)
    assert r["locality_sparse"] > 0.70


def test_pca_components_are_global(chapter):
    """Issue 5: principal components below 0.42, near the 0.25 of a pattern spread evenly."""
    r = chapter(SLUG)
    assert r["locality_pca"] < 0.42


def test_sparse_atoms_are_more_orientation_selective_than_pca(chapter):
    """Orientation selectivity |sum P e^{2i theta}| / sum P of the atom's power spectrum (1: one
    orientation; 0: all orientations). Issue 5: sparse atoms exceed PCA components by more than 0.1."""
    r = chapter(SLUG)
    assert r["osi_sparse"] > r["osi_pca"] + 0.1


def test_sparse_responses_are_heavier_tailed_than_pca(chapter):
    """Excess kurtosis of the coefficients on held-out patches. Issue 5: sparse codes more than five
    times PCA's (whose coefficients are themselves heavy-tailed, as natural images are not Gaussian)."""
    r = chapter(SLUG)
    assert r["kurtosis_pca"] > 0
    assert r["kurtosis_sparse"] > 5 * r["kurtosis_pca"]


def test_sparse_codes_reconstruct_held_out_patches(chapter):
    """The sparse code is still a good code: relative squared reconstruction error of held-out patches
    below 0.2 (issue 5), i.e. more than 80% of their variance explained by few active atoms."""
    r = chapter(SLUG)
    assert 0 <= r["reconstruction_error_sparse"] < 0.2


def test_invalid_parameter_stops_the_chapter():
    """A bad parameter stops the chapter at its parameter check, naming the parameter."""
    with pytest.raises(ChapterError, match="n_seeds"):
        run_chapter(SLUG, stop_after="check_parameters(", n_seeds=0)
    with pytest.raises(ChapterError, match="cutoff"):
        run_chapter(SLUG, stop_after="check_parameters(", cutoff=0.0)
