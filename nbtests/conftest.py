"""pytest plumbing: the ``--seed`` and ``--chapter`` options and the session's chapter runs.

``pytest nbtests --seed N`` reruns every chapter with base seed N; without it each chapter runs at its
own default parameters. ``pytest nbtests --chapter slug`` (``make test CHAPTER=slug``) checks one chapter:
its own test file and the house rules applied to it, without building the site.

Every run goes through the book's one runner, :mod:`tools.run`. At default parameters the tests read the very
executions the book build renders (:func:`tools.run.default_run`): in a full session the first test that needs a
chapter executes every notebook, two at a time (:func:`tools.run.execute_book`), and the build then executes
nothing. The bit-identical check compares each execution with the one ``make robustness`` recorded from the same
sources, or, where there is none, executes the chapter once more, fresh, again two at a time
(:func:`tools.run.run_many`). Every kernel refuses network connections other than loopback and shares JAX's
persistent compilation cache with the build, so a second execution skips most of XLA's compiling; the
bit-identical check proves that this changes no glued value.
"""

from __future__ import annotations

import pytest

from tools.book import ROOT, chapter_paths
from tools.run import (
    ChapterError,
    default_run,
    execute_book,
    install_network_guard,
    run_chapter,
    run_many,
    use_compilation_cache,
)

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


class Runs:
    """The session's chapter runs, each executed at most once per set of parameters. ``batch``: the slugs to
    execute together, two at a time, the first time any of them is asked for (every chapter in a full session,
    the one chapter with ``--chapter``)."""

    def __init__(self, batch):
        self.batch, self.done = list(batch), {}

    def get(self, slug, params, *, fresh=False):
        key = (slug, tuple(sorted(params.items())), fresh)
        if key not in self.done:
            todo = [s for s in self.batch if (s, key[1], fresh) not in self.done] if slug in self.batch else [slug]
            if fresh:  # a second execution only where make robustness recorded none to compare with
                from tools.robustness import current_reference

                todo = [s for s in todo if s == slug or current_reference(s) is None]  # (a guess: see the test)
            if not params and not fresh and len(todo) > 1:
                runs = execute_book()  # every notebook, the intro too: the build will execute none of them
                found = {s: runs[s] for s in todo}
            elif len(todo) > 1:
                found = run_many([(s, dict(params)) if not fresh else (s, None, None, True) for s in todo])
            else:
                found = {slug: (default_run(slug, fresh=fresh) if not params else run_chapter(slug, **params))}
            for s, run in found.items():
                self.done[(s, key[1], fresh)] = run
        run = self.done[key]
        if isinstance(run, ChapterError):
            raise run
        return run


@pytest.fixture(scope="session")
def _runs(request):
    slug = request.config.getoption("--chapter")
    return Runs([slug] if slug else list(chapter_paths()))


@pytest.fixture(scope="session")
def chapter(base_seed, _runs):
    """``chapter(slug)`` runs a chapter once per session (with ``--seed`` if given) and returns its
    :class:`~tools.run.ChapterRun`."""
    return lambda slug: _runs.get(slug, {} if base_seed is None else {"seed": base_seed})


@pytest.fixture(scope="session")
def default_chapter(_runs):
    """``default_chapter(slug)``: the chapter at its default parameters, the execution the book build renders
    (the same run as ``chapter`` when no ``--seed`` is given)."""
    return lambda slug: _runs.get(slug, {})


@pytest.fixture(scope="session")
def rerun_chapter(_runs):
    """``rerun_chapter(slug)``: the chapter at its default parameters executed once more, fresh."""
    return lambda slug: _runs.get(slug, {}, fresh=True)


@pytest.fixture(scope="session")
def built():
    """Build the whole book once per session (as ``make book`` does) and return ``_build/html``."""
    from tools.build import build, failures

    result = build()
    problems = failures(result.stdout + result.stderr)
    assert result.returncode == 0 and not problems, "book build failed:\n" + "\n".join(problems[:40]) + \
        "\n" + result.stdout[-5000:] + result.stderr[-5000:]
    return ROOT / "_build" / "html"


@pytest.fixture(scope="session")
def student_built(built):
    """Build the student edition once per session (as ``make book-student`` does, after the regular build,
    whose executions it renders) and return ``_build/student/html``."""
    from tools.build import STUDENT_HTML, build, failures

    result = build(student=True)
    STUDENT_HTML.parent.mkdir(parents=True, exist_ok=True)
    (STUDENT_HTML.parent / "build.log").write_text(result.stdout + result.stderr)  # read by test_site
    problems = failures(result.stdout + result.stderr, STUDENT_HTML)
    assert result.returncode == 0 and not problems, "student edition build failed:\n" + "\n".join(problems[:40]) + \
        "\n" + result.stdout[-5000:] + result.stderr[-5000:]
    return STUDENT_HTML
