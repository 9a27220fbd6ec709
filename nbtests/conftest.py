"""pytest plumbing: the ``--seed`` option and a cached, session-wide ``chapter`` runner.

``pytest nbtests --seed N`` reruns every chapter with base seed N; without it each chapter runs at its
own default parameters. Each chapter executes once per session however many tests read it.
"""

from __future__ import annotations

import pytest

from nbtests.build_book import build, failures
from nbtests.harness import ROOT, run_chapter


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


@pytest.fixture(scope="session")
def built():
    """Build the whole book once per session (as ``make book`` does) and return ``_build/html``."""
    result = build()
    problems = failures(result.stdout + result.stderr)
    assert result.returncode == 0 and not problems, "book build failed:\n" + "\n".join(problems[:40]) + \
        "\n" + result.stdout[-5000:] + result.stderr[-5000:]
    return ROOT / "_build" / "html"
