"""pytest plumbing: the ``--seed`` and ``--chapter`` options and a cached, session-wide ``chapter`` runner.

``pytest nbtests --seed N`` reruns every chapter with base seed N; without it each chapter runs at its
own default parameters. ``pytest nbtests --chapter slug`` (``make test CHAPTER=slug``) checks one chapter:
its own test file and the house rules applied to it, without building the site. Each chapter executes once
per session however many tests read it (and once more only for the rerun check, when ``--seed`` differs
from the default). Every kernel started in the session refuses network connections other than loopback
(see :func:`nbtests.harness.install_network_guard`), and shares JAX's persistent compilation cache with
the book build (:func:`nbtests.harness.use_compilation_cache`), so a chapter's second execution skips most
of XLA's compiling; the rerun check proves that this changes no glued value.
"""

from __future__ import annotations

import pytest

from nbtests.harness import ROOT, chapter_paths, install_network_guard, run_chapter, use_compilation_cache

SITE_FIXTURES = {"built", "student_built", "site_audit", "public_text"}


def pytest_addoption(parser):
    parser.addoption("--seed", type=int, default=None,
                     help="base seed for every chapter (default: each chapter's own default)")
    parser.addoption("--chapter", default=None,
                     help="check one chapter (by slug): its tests and the house rules, without building the site")


@pytest.fixture(scope="session")
def base_seed(request):
    return request.config.getoption("--seed")


def pytest_configure(config):
    install_network_guard(ROOT / "_build" / "ipython-no-network")
    use_compilation_cache()


def pytest_collection_modifyitems(config, items):
    """With ``--chapter slug``: keep the chapter's own test file and the tests parametrized by its slug that
    need no site build; deselect everything else."""
    slug = config.getoption("--chapter")
    if slug is None:
        return
    if slug not in chapter_paths():
        raise pytest.UsageError(f"--chapter {slug!r}: no such chapter; chapters are {list(chapter_paths())}")
    keep, drop = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        mine = item.path.name == f"test_{slug}.py" or params.get("slug") == slug
        needs_site = bool(SITE_FIXTURES & set(getattr(item, "fixturenames", ())))
        (keep if mine and not needs_site else drop).append(item)
    config.hook.pytest_deselected(items=drop)
    items[:] = keep


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
    from nbtests.build_book import build, failures

    result = build()
    problems = failures(result.stdout + result.stderr)
    assert result.returncode == 0 and not problems, "book build failed:\n" + "\n".join(problems[:40]) + \
        "\n" + result.stdout[-5000:] + result.stderr[-5000:]
    return ROOT / "_build" / "html"


@pytest.fixture(scope="session")
def student_built(built):
    """Build the student edition once per session (as ``make book-student`` does, after the regular build,
    whose execution cache it reads) and return ``_build/student/html``."""
    from nbtests.build_book import STUDENT_HTML, build, failures

    result = build(student=True)
    STUDENT_HTML.parent.mkdir(parents=True, exist_ok=True)
    (STUDENT_HTML.parent / "build.log").write_text(result.stdout + result.stderr)  # read by test_site
    problems = failures(result.stdout + result.stderr, STUDENT_HTML)
    assert result.returncode == 0 and not problems, "student edition build failed:\n" + "\n".join(problems[:40]) + \
        "\n" + result.stdout[-5000:] + result.stderr[-5000:]
    return STUDENT_HTML
