"""The book's one plotting style: white backgrounds (readable in the site's dark mode) and the
Okabe-Ito colour-blind-safe palette. Every chapter calls :func:`use_style` once."""

from __future__ import annotations

from importlib import resources

import matplotlib.pyplot as plt

# Okabe & Ito (2008), safe for the common colour-vision deficiencies.
COLORS = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "sky": "#56B4E9",
    "yellow": "#F0E442",
    "black": "#000000",
    "grey": "#999999",
}


def use_style() -> None:
    """Apply the book's matplotlib style (``dlfn/book.mplstyle``)."""
    with resources.as_file(resources.files("dlfn") / "book.mplstyle") as path:
        plt.style.use(str(path))
