"""Statistics across seeds: a mean with its confidence interval, and a paired test.

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
