"""pytest plumbing: the ``--seed`` option and a cached, session-wide ``chapter`` runner.

``pytest nbtests --seed N`` reruns every chapter with base seed N; without it each chapter runs at its
own default parameters. Each chapter executes once per session however many tests read it (and once more
only for the rerun check, when ``--seed`` differs from the default). Every kernel started in the session
refuses network connections other than loopback (see :func:`nbtests.harness.install_network_guard`).
"""

from __future__ import annotations

import pytest

from nbtests.build_book import build, failures
from nbtests.harness import ROOT, install_network_guard, run_chapter


def pytest_addoption(parser):
    parser.addoption("--seed", type=int, default=None,
                     help="base seed for every chapter (default: each chapter's own default)")


@pytest.fixture(scope="session")
def base_seed(request):
    return request.config.getoption("--seed")


def pytest_configure(config):
    install_network_guard(ROOT / "_build" / "ipython-no-network")


_RUNS = {}


def _run_once(slug, params):
    key = (slug, tuple(sorted(params.items())))
    if key not in _RUNS:
        _RUNS[key] = run_chapter(slug, **params)
    return _RUNS[key]


@pytest.fixture(scope="session")
def chapter(base_seed):
    """``chapter(slug)`` runs a chapter once per session (with ``--seed`` if given) and returns its
    :class:`~nbtests.harness.ChapterRun`."""
    return lambda slug: _run_once(slug, {} if base_seed is None else {"seed": base_seed})


@pytest.fixture(scope="session")
def default_chapter():
    """``default_chapter(slug)``: the chapter at its default parameters (the same run as ``chapter`` when
    no ``--seed`` is given)."""
    return lambda slug: _run_once(slug, {})


@pytest.fixture(scope="session")
def built():
    """Build the whole book once per session (as ``make book`` does) and return ``_build/html``."""
    result = build()
    problems = failures(result.stdout + result.stderr)
    assert result.returncode == 0 and not problems, "book build failed:\n" + "\n".join(problems[:40]) + \
        "\n" + result.stdout[-5000:] + result.stderr[-5000:]
    return ROOT / "_build" / "html"


@pytest.fixture(scope="session")
def student_built(built):
    """Build the student edition once per session (as ``make book-student`` does, after the regular build,
    whose execution cache it reads) and return ``_build/student/html``."""
    from nbtests.build_book import STUDENT_HTML

    result = build(student=True)
    STUDENT_HTML.parent.mkdir(parents=True, exist_ok=True)
    (STUDENT_HTML.parent / "build.log").write_text(result.stdout + result.stderr)  # read by test_site
    problems = failures(result.stdout + result.stderr, STUDENT_HTML)
    assert result.returncode == 0 and not problems, "student edition build failed:\n" + "\n".join(problems[:40]) + \
        "\n" + result.stdout[-5000:] + result.stderr[-5000:]
    return STUDENT_HTML
