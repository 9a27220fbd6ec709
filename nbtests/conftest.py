"""pytest plumbing: the ``--seed`` option and a cached, session-wide ``chapter`` runner.

``pytest nbtests --seed N`` reruns every chapter with base seed N; without it each chapter runs at its
own default parameters. Each chapter executes once per session however many tests read it.
"""

from __future__ import annotations

import pytest

from nbtests.harness import run_chapter


def pytest_addoption(parser):
    parser.addoption("--seed", type=int, default=None,
                     help="base seed for every chapter (default: each chapter's own default)")


@pytest.fixture(scope="session")
def base_seed(request):
    return request.config.getoption("--seed")


@pytest.fixture(scope="session")
def chapter(base_seed):
    """``chapter(slug)`` runs a chapter once per session (with ``--seed`` if given) and returns its
    :class:`~nbtests.harness.ChapterRun`."""
    cache = {}

    def get(slug):
        if slug not in cache:
            params = {} if base_seed is None else {"seed": base_seed}
            cache[slug] = run_chapter(slug, **params)
        return cache[slug]

    return get
