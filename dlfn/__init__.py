"""Plumbing shared by the chapters of the book.

The science (models, losses, learning rules) lives in the chapters. This package holds only what two or
more chapters need: parameter checks, data loading, random draws that compile quickly, one training loop,
statistics across seeds, glue and the plotting style, and (:mod:`dlfn.memory`) a hook that returns freed
memory to the operating system after every cell of a kernel. Each function's docstring names a chapter that explains
or uses it.
"""

from dlfn.data import digits_split, load_digits_images, one_hot
from dlfn.draws import random_bernoulli, random_normal, random_uniform
from dlfn.glue import glue_figure, glue_value, glued
from dlfn.memory import install as _install_memory_release
from dlfn.memory import release_freed_memory
from dlfn.params import ParameterError, check_parameters
from dlfn.plotting import COLORS, use_style
from dlfn.stats import equivalence_test, mean_ci, one_sided_test, paired_test
from dlfn.train import DivergenceError, check_finite, fit
from dlfn.verdict import (
    OUTCOMES,
    VERDICTS,
    CheckError,
    above,
    below,
    check,
    equivalent,
    glue_verdict,
    hypothesis_test,
    verdict_of,
)

__all__ = [
    "COLORS",
    "OUTCOMES",
    "VERDICTS",
    "CheckError",
    "DivergenceError",
    "ParameterError",
    "above",
    "below",
    "check",
    "check_finite",
    "check_parameters",
    "digits_split",
    "equivalence_test",
    "equivalent",
    "fit",
    "glue_figure",
    "glue_value",
    "glue_verdict",
    "glued",
    "hypothesis_test",
    "load_digits_images",
    "mean_ci",
    "one_hot",
    "one_sided_test",
    "paired_test",
    "random_bernoulli",
    "random_normal",
    "random_uniform",
    "release_freed_memory",
    "use_style",
    "verdict_of",
]

_install_memory_release()  # inside an IPython kernel: after every cell, see dlfn/memory.py
