"""Unit tests of the shared package dlfn."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from dlfn import (
    DivergenceError,
    ParameterError,
    check_finite,
    check_parameters,
    digits_split,
    fit,
    load_digits_images,
    mean_ci,
    paired_test,
    random_bernoulli,
    random_normal,
    random_uniform,
)
from dlfn.glue import _plain
from tools.run import run_chapter

SPEC = {"seed": ("int", 0, 10), "lr": ("float", 1e-3, 1.0), "sizes": ("int-list", 1, 5)}


def test_check_parameters_accepts_valid_values():
    assert check_parameters(SPEC, {"seed": 3, "lr": 0.1, "sizes": [1, 5]}) == {"seed": 3, "lr": 0.1, "sizes": [1, 5]}


@pytest.mark.parametrize("bad, name", [
    ({"seed": -1}, "seed"), ({"seed": 2.0}, "seed"), ({"seed": True}, "seed"), ({"lr": 0.0}, "lr"),
    ({"lr": float("nan")}, "lr"), ({"sizes": []}, "sizes"), ({"sizes": [1, 9]}, "sizes"), ({"lr": "0.1"}, "lr"),
])
def test_check_parameters_names_the_bad_parameter_and_range(bad, name):
    values = {"seed": 3, "lr": 0.1, "sizes": [1, 5], **bad}
    with pytest.raises(ParameterError, match=rf"'{name}' must be .*\[") as err:
        check_parameters(SPEC, values)
    assert isinstance(err.value, ValueError)


def test_check_parameters_reports_a_missing_parameter():
    with pytest.raises(ParameterError, match="'lr'"):
        check_parameters(SPEC, {"seed": 1, "sizes": [1]})


def test_fit_minimises_a_quadratic_and_vmaps_over_seeds():
    def loss(params, batch):
        x, y = batch
        return jnp.mean((x @ params - y) ** 2)

    def one(key):
        kx, kb = jax.random.split(key)
        x = jax.random.normal(kx, (64, 3))
        y = x @ jnp.array([1.0, -2.0, 0.5])
        return fit(loss, jnp.zeros(3), optax.sgd(0.1), (x, y), n_steps=200, key=kb, batch_size=16)

    params, losses = jax.jit(jax.vmap(one))(jax.random.split(jax.random.key(0), 4))
    assert losses.shape == (4, 200)
    np.testing.assert_allclose(params, np.tile([1.0, -2.0, 0.5], (4, 1)), atol=1e-3)


def test_fit_n_valid_draws_only_from_the_first_examples():
    def loss(params, batch):
        return jnp.mean((params - batch) ** 2)

    data = jnp.concatenate([jnp.zeros(5), 100 * jnp.ones(5)])
    params, _ = fit(loss, jnp.array(1.0), optax.sgd(0.1), data, n_steps=100, key=jax.random.key(0),
                    batch_size=4, n_valid=5)
    assert abs(float(params)) < 1e-3


def test_check_finite_names_quantity_step_and_run():
    losses = np.ones((3, 10))
    losses[2, 6] = np.nan
    losses[1, 8] = np.inf
    with pytest.raises(DivergenceError, match=r"CNN loss diverged: nan at step 6 in run \(2,\)"):
        check_finite(losses, "CNN loss")
    check_finite(np.ones(5), "fine")


def test_mean_ci_covers_the_mean_and_shrinks_with_more_seeds():
    rng = np.random.default_rng(0)
    m, lo, hi = mean_ci(rng.normal(size=(10, 3)))
    assert np.all(lo < m) and np.all(m < hi)
    _, lo2, hi2 = mean_ci(rng.normal(size=(1000, 3)))
    assert np.all(hi2 - lo2 < hi - lo)
    with pytest.raises(ValueError):
        mean_ci(np.ones((1, 2)))


def test_paired_test_detects_a_shift_and_not_its_absence():
    rng = np.random.default_rng(1)
    a = rng.normal(size=20)
    assert paired_test(a + 1.0, a + rng.normal(scale=0.1, size=20))["p_t"] < 1e-6
    assert paired_test(a, a)["p_wilcoxon"] == 1.0


def test_glue_values_are_plain_python():
    assert _plain(np.float32(0.5)) == 0.5 and type(_plain(np.float32(0.5))) is float
    assert _plain(jnp.array([1, 2])) == [1, 2]
    assert _plain({"a": np.int64(3)}) == {"a": 3}


def test_digits_and_split():
    images, labels = load_digits_images()
    assert images.shape == (1797, 8, 8) and labels.shape == (1797,)
    assert 0 <= images.min() and images.max() <= 1
    test_idx, pool = digits_split(key=jax.random.key(0), n_test=100)
    assert len(set(np.asarray(test_idx)) | set(np.asarray(pool))) == 1797


def test_chapter_template_executes():
    """The template for new chapters runs, so it never rots, and its test record verifies."""
    from nbtests.verdicts import assert_outcome

    r = run_chapter("chapter_template")
    assert_outcome(r, "learns_the_task", "passes")
    assert r["verdict"] == "holds" and r["verdict_checks"] == {"training_lowers_the_loss": True}
    assert "fig_template_loss" in r.figures


def test_verdict_follows_from_the_tests_outcomes():
    from dlfn import VERDICTS, verdict_of

    assert verdict_of(["passes", "passes"]) == "holds"
    assert verdict_of(["passes", "fails"]) == "partly holds"
    assert verdict_of(["passes", "does not discriminate"]) == "partly holds"
    assert verdict_of(["fails"]) == "does not hold"
    assert verdict_of(["fails", "does not discriminate"]) == "does not hold"
    assert verdict_of(["does not discriminate"]) == "inconclusive"
    assert set(VERDICTS) == {"holds", "partly holds", "does not hold", "inconclusive"}
    with pytest.raises(ValueError):
        verdict_of([])
    with pytest.raises(ValueError):
        verdict_of(["holds"])


def _record(samples, control, rule, **kw):
    from dlfn import hypothesis_test

    return hypothesis_test("t", claim="c", null="n", statistic="s", unit="runs", samples=samples, rule=rule,
                           source="declared", control="ctrl", control_samples=control, **kw)


def test_a_test_passes_only_when_its_control_fails():
    from dlfn import above

    rng = np.random.default_rng(0)
    good, bad = rng.normal(1.0, 0.1, 8), rng.normal(0.0, 0.1, 8)
    assert _record(good, bad, above(0.5))["outcome"] == "passes"
    assert _record(bad, bad, above(0.5))["outcome"] == "fails"
    assert _record(good, good, above(0.5))["outcome"] == "does not discriminate"


def test_rules_use_the_one_sided_bound_and_tost():
    from dlfn import above, below, equivalent
    from nbtests.verdicts import verify_record

    rng = np.random.default_rng(1)
    x = rng.normal(0.10, 0.05, 8)  # mean near 0.1, one-sided 99% bound about 0.05 below it
    assert not _record(x, x - 1, above(0.09))["met"]  # the mean is above 0.09, its lower bound is not
    assert _record(x, x + 1, below(0.2))["met"]
    eq = _record(x - x.mean(), x + 1, equivalent(0.1))  # centred: 90% CI well inside +-0.1
    assert eq["met"] and eq["p"] < 0.05 and eq["outcome"] == "passes"
    assert not _record(x - x.mean(), x, equivalent(0.01))["met"]  # too narrow a margin for this noise
    for rec in (eq, _record(x, x, above(0.0)), _record([1] * 10, [1, 0] * 5, above(0.5, alpha=0.05),
                                                       interval_method="binomial")):
        verify_record(rec)  # the tests' own recomputation agrees with dlfn's
    with pytest.raises(ValueError):
        _record([1.0], [0.0, 1.0], above(0))  # one run is not a replication
    with pytest.raises(ValueError):
        equivalent(0)


def test_equivalence_test_is_two_one_sided_tests():
    from dlfn import equivalence_test, one_sided_test

    rng = np.random.default_rng(2)
    x = rng.normal(0.0, 1.0, 30)
    assert equivalence_test(x, low=-5, high=5) < 1e-6
    assert equivalence_test(x + 10, low=-5, high=5) > 0.5
    p = equivalence_test(x, low=-0.3, high=0.4)
    assert p == max(one_sided_test(x, -0.3, greater=True), one_sided_test(x, 0.4, greater=False))


def test_a_failed_check_stops_with_its_name():
    from dlfn import CheckError, check

    assert check("fine", True, "an identity")
    with pytest.raises(CheckError, match="'broken'"):
        check("broken", 1 > 2, "one is more than two")


@pytest.mark.parametrize("shape", [(), (5,), (4, 3), (3, 3, 8, 16)])
def test_draws_equal_jax_random_bit_for_bit(shape):
    """dlfn's quick-to-compile draws must return exactly jax.random's numbers (every chapter uses them in
    place of jax.random's; a JAX version that changes how bits map to shapes must fail here)."""
    key = jax.random.key(7)
    pairs = [
        (random_normal(key, shape), jax.random.normal(key, shape)),
        (random_normal(key, shape, jnp.float16), jax.random.normal(key, shape, jnp.float16)),
        (random_uniform(key, shape, minval=-2.0, maxval=3.0), jax.random.uniform(key, shape, minval=-2.0, maxval=3.0)),
        (random_bernoulli(key, 0.3, shape), jax.random.bernoulli(key, 0.3, shape)),
    ]
    for ours, theirs in pairs:
        assert ours.shape == theirs.shape == shape and ours.dtype == theirs.dtype
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
    # and under jit and vmap, as the chapters use them
    keys = jax.random.split(key, 3)
    np.testing.assert_array_equal(np.asarray(jax.jit(jax.vmap(lambda k: random_normal(k, shape)))(keys)),
                                  np.asarray(jax.vmap(lambda k: jax.random.normal(k, shape))(keys)))


def test_memory_release_registers_once_per_shell_and_returns_freed_pages():
    import subprocess
    import sys

    from dlfn import memory

    class Events:
        def __init__(self):
            self.callbacks = []

        def register(self, event, fn):
            self.callbacks.append((event, fn))

    class Shell:
        events = Events()

    shell = Shell()
    if not memory.release_freed_memory():
        pytest.skip("this C library has no malloc_trim")
    assert memory.install(shell) and memory.install(shell)
    assert [event for event, _ in shell.events.callbacks] == ["post_run_cell"]
    # Many small blocks freed in a pattern that leaves the heap fragmented: glibc keeps the pages until
    # malloc_trim returns them. Run in a fresh interpreter so that the numbers are its own.
    probe = (
        "import dlfn.memory as m\n"
        "def rss():\n"
        "    return next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmRSS'))\n"
        "blocks = [bytearray(4096) for _ in range(100_000)]\n"
        "keep = blocks[::64]\n"
        "del blocks\n"
        "before = rss()\n"
        "m.release_freed_memory()\n"
        "print(before - rss())\n"
    )
    freed_kib = int(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                                   check=True).stdout)
    assert freed_kib > 100_000  # about 390 MiB were freed by Python; most of it must go back


def test_a_glue_key_glued_twice_stops_the_run():
    import nbformat

    from tools.run import GLUE_TEXT, ChapterError, read_glued

    out = nbformat.v4.new_output("display_data", data={GLUE_TEXT: "1"}, metadata={"scrapbook": {"name": "x"}})
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(outputs=[out, out])])
    with pytest.raises(ChapterError, match="'x' is glued twice"):
        read_glued(nb)
    nb.cells[0].outputs = [out]
    assert read_glued(nb)[0] == {"x": 1}
