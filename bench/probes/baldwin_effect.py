# ruff: noqa: F821  (the chapter's names: this file is a cell appended to the chapter's own run)
"""Benchmark probe for ``baldwin_effect``, run in the chapter's kernel after its last cell (``bench/chapters.py``).

1. Times the chapter's own compiled program, ``evolve``, on the chapter's own main run (``n_seeds`` populations,
   ``n_generations_long`` generations, ``n_trials`` trials a lifetime), warm (the chapter compiled it), and
   asserts that it reproduces the chapter's result exactly, so the benchmark cannot time another program.
2. Times what a reader would otherwise run: a trial-by-trial simulation in the style of Stojic's ReScience
   replication of Hinton & Nowlan (each agent guesses its '?' switches afresh on every trial until it finds the
   right circuit or its lifetime ends; one Python iteration per agent and trial; NumPy), for
   ``bench_generations`` generations of one population drawn like the chapter's.
3. Cross-checks the two ways of computing a lifetime: the chapter's geometric shortcut (one draw per agent) and
   the trial-by-trial one give the same mean fitness on one population (reported with its standard error).
"""
import time as _time

bench_generations = 20  # generations of the trial-by-trial baseline (each costs more as wrong alleles vanish)
_rng = np.random.default_rng(0)


def _trials_fitness(genomes, budget, rng):
    """Hinton & Nowlan's fitness, one trial at a time: (n_agents,) float."""
    fitness = np.ones(len(genomes))
    for i, g in enumerate(genomes):
        if np.any(g == WRONG):
            continue
        unsure = np.flatnonzero(g == UNSURE)
        if unsure.size == 0:
            fitness[i] = 20.0
            continue
        for t in range(1, int(budget) + 1):
            if np.all(rng.random(unsure.size) < 0.5):  # every '?' guessed right on this trial
                fitness[i] = 1.0 + 19.0 * (budget - t) / budget
                break
    return fitness


def _trials_generation(genomes, budget, rng):
    fitness = _trials_fitness(genomes, budget, rng)
    n, n_l = genomes.shape
    p = fitness / fitness.sum()
    mum, dad = rng.choice(n, n, p=p), rng.choice(n, n, p=p)
    cut = rng.integers(1, n_l, (n, 1))
    return np.where(np.arange(n_l) < cut, genomes[mum], genomes[dad])


# 1. the chapter's program, warm, on the chapter's main run
_args = (jnp.array([float(n_trials)]), jax.random.split(k_long, n_seeds))
_t0 = _time.perf_counter()
_again = [a[0] for a in as_numpy(evolve(*_args, n_gens=n_generations_long))]
_book_s = _time.perf_counter() - _t0
assert all(np.array_equal(a, b) for a, b in zip(_again, (learn_fr, learn_fixed, learn_perfect), strict=True)), \
    "the benchmark's call of evolve does not reproduce the chapter's main run: the probe is out of date"

# 2. the trial-by-trial baseline
_genomes = _rng.choice(3, (n_agents, n_loci), p=np.asarray(ALLELE_P)).astype(np.int8)
_start = _genomes.copy()
_per_gen = []
for _ in range(bench_generations):
    _t0 = _time.perf_counter()
    _genomes = _trials_generation(_genomes, n_trials, _rng)
    _per_gen.append(_time.perf_counter() - _t0)

# 3. the two lifetimes on one population (the baseline's last one, where many agents learn)
_f_trials = _trials_fitness(_genomes, n_trials, _rng)
_f_book = np.asarray(jax.vmap(lambda k: lifetime_fitness(jnp.asarray(_genomes), float(n_trials), key=k))(
    jax.random.split(jax.random.key(1), 64)))
_book_per_pop_gen = _book_s / (n_seeds * n_generations_long)
glue_value("bench_probe", {
    "program": "evolve: the chapter's main run (learning, no mutation)",
    "book_s": _book_s, "book_runs": n_seeds, "book_steps": n_generations_long,
    "book_us_per_step": 1e6 * _book_per_pop_gen,
    "baseline": "trial-by-trial Hinton-Nowlan simulation in NumPy, one population (ReScience style)",
    "baseline_steps": bench_generations, "baseline_s_per_step": float(np.mean(_per_gen)),
    "baseline_s_by_step": [float(s) for s in _per_gen],
    "ratio": float(np.mean(_per_gen)) / _book_per_pop_gen,
    "unit": "population-generation",
    "published_baseline": "Stojic's R code: about 1.7 s of CPU per population-generation (peer comparison)",
    "agreement": {"what": "mean lifetime fitness of one population: trial by trial vs the chapter's shortcut",
                  "trials": float(_f_trials.mean()),
                  "trials_se": float(_f_trials.std(ddof=1) / np.sqrt(len(_f_trials))),
                  "book": float(_f_book.mean()),
                  "book_se": float(_f_book.mean(1).std(ddof=1) / np.sqrt(len(_f_book)))},
})
