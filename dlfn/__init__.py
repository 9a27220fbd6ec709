"""Plumbing shared by the chapters of the book.

The science (models, losses, learning rules) lives in the chapters. This package holds only what two or
more chapters need: parameter checks, data loading, random draws that compile quickly, one training loop,
statistics across seeds, glue and the plotting style. Each function's docstring names a chapter that explains
or uses it.
"""

from dlfn.data import digits_split, load_digits_images, one_hot
from dlfn.draws import random_bernoulli, random_normal, random_uniform
from dlfn.glue import VERDICTS, glue_figure, glue_value, glue_verdict, glued, verdict_of
from dlfn.params import ParameterError, check_parameters
from dlfn.plotting import COLORS, use_style
from dlfn.stats import mean_ci, paired_test
from dlfn.train import DivergenceError, check_finite, fit

__all__ = [
    "COLORS",
    "VERDICTS",
    "DivergenceError",
    "ParameterError",
    "check_finite",
    "check_parameters",
    "digits_split",
    "fit",
    "glue_figure",
    "glue_value",
    "glue_verdict",
    "glued",
    "load_digits_images",
    "mean_ci",
    "one_hot",
    "paired_test",
    "random_bernoulli",
    "random_normal",
    "random_uniform",
    "use_style",
    "verdict_of",
]
