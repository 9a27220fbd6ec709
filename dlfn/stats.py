"""Statistics across independent runs: a mean with its confidence interval, a paired test, one-sided and
equivalence (TOST) tests.

Used by every chapter that reports a quantity over several seeds (first: ``inductive_biases``).
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def mean_ci(samples, *, level: float = 0.95, axis: int = 0):
    """Mean and two-sided Student-t confidence interval over ``axis`` (the seeds).

    Args:
        samples: array of shape ``(n_seeds, ...)`` (seeds along ``axis``); needs at least 2 seeds.
        level: confidence level.

    Returns:
        ``(mean, lo, hi)``, each with the shape of ``samples`` without ``axis``.
    """
    x = np.asarray(samples, dtype=float)
    n = x.shape[axis]
    if n < 2:
        raise ValueError(f"a confidence interval needs at least 2 seeds; got {n}")
    mean = x.mean(axis=axis)
    sem = x.std(axis=axis, ddof=1) / np.sqrt(n)
    half = stats.t.ppf(0.5 + level / 2, df=n - 1) * sem
    return mean, mean - half, mean + half


def paired_test(a, b) -> dict:
    """Paired comparison of two conditions measured on the same seeds (or tasks).

    Returns the mean difference ``a - b``, the paired t-test's two-sided p-value, and the Wilcoxon
    signed-rank test's (which does not assume normal differences).

    Args:
        a, b: arrays of shape ``(n,)``, one value per seed, paired by position.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 1 or a.size < 2:
        raise ValueError(f"paired_test needs two 1-D arrays of the same length >= 2; got {a.shape}, {b.shape}")
    diff = a - b
    t = stats.ttest_rel(a, b)
    if np.all(diff == 0):
        p_wilcoxon = 1.0
    else:
        p_wilcoxon = float(stats.wilcoxon(a, b).pvalue)
    return {"mean_diff": float(diff.mean()), "t": float(t.statistic), "p_t": float(t.pvalue),
            "p_wilcoxon": p_wilcoxon}


def one_sided_test(samples, threshold: float, *, greater: bool, method: str = "t") -> float:
    """p-value of the one-sided test that the mean of ``samples`` (one value per independent run) is above
    (``greater``) or below ``threshold``: Student-t (``method="t"``), or exact binomial on 0/1 samples."""
    x = np.asarray(samples, dtype=float).ravel()
    if method == "binomial":
        return float(stats.binomtest(int(x.sum()), x.size, p=threshold,
                                     alternative="greater" if greater else "less").pvalue)
    if np.all(x == x[0]):  # no spread: the mean is known exactly
        return 0.0 if (x[0] > threshold if greater else x[0] < threshold) else 1.0
    return float(stats.ttest_1samp(x, threshold, alternative="greater" if greater else "less").pvalue)


def equivalence_test(samples, *, low: float, high: float, method: str = "t") -> float:
    """Two one-sided tests (TOST): the p-value for "the mean lies inside (low, high)", the larger of the
    p-values of "mean > low" and "mean < high". Reject the null of a difference at level alpha when it is
    below alpha, which is the same as the (1 - 2 alpha) confidence interval lying inside (low, high).

    Used by every chapter that claims "no effect" or "matches a published value"; the margin comes from the
    chapter's parameters cell, declared with its reason before the results are seen.
    """
    if not low < high:
        raise ValueError(f"equivalence_test needs low < high; got {low}, {high}")
    return max(one_sided_test(samples, low, greater=True, method=method),
               one_sided_test(samples, high, greater=False, method=method))
