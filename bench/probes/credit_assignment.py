# ruff: noqa: F821  (the chapter's names: this file is a cell appended to the chapter's own run)
"""Benchmark probe for ``credit_assignment``, run in the chapter's kernel after its last cell (``bench/chapters.py``).

1. Times the chapter's own digits experiment (every rule at every learning rate, ``n_seeds`` repetitions, one
   ``jax.jit`` around ``digits_experiment``), compiled once more and then run warm, and asserts that it
   reproduces the chapter's result exactly, so the benchmark cannot time another program.
2. Times what a reader would otherwise run: the four rules in plain NumPy in the style of the Neuromatch course
   (W2D3 "Microlearning"): one Python iteration per update, on the chapter's network (64-``n_hidden``-10, tanh,
   cross-entropy), minibatch size, perturbation size and number of updates, float32, from the chapter's own
   initial weights and data.
3. Reports each NumPy rule's final training loss next to the chapter's, at the same learning rate (a
   cross-check of the two implementations, not of timing).
"""
import time as _time

bench_lr = 0.1  # the learning rate of the NumPy runs (one of the chapter's learning_rates)
_rng = np.random.default_rng(0)


def _np_forward(p, x):
    h = np.tanh(x @ p["w1"] + p["b1"])
    return h, h @ p["w2"] + p["b2"]


def _np_losses(logits, y):
    z = logits - logits.max(1, keepdims=True)
    return -np.sum(y * (z - np.log(np.exp(z).sum(1, keepdims=True))), axis=1)


def _np_loss(p, x, y):
    return float(np.mean(_np_losses(_np_forward(p, x)[1], y)))


def _np_grad(rule, p, x, y, fb, rng):
    n = len(x)
    if rule in ("BP", "FA"):
        h, logits = _np_forward(p, x)
        e = np.exp(logits - logits.max(1, keepdims=True))
        e = (e / e.sum(1, keepdims=True) - y) / n
        d_h = (e @ (p["w2"] if rule == "BP" else fb).T) * (1 - h**2)
        return {"w1": x.T @ d_h, "b1": d_h.sum(0), "w2": h.T @ e, "b2": e.sum(0)}
    if rule == "NP":
        xi1 = rng.standard_normal((n, n_hidden)).astype(np.float32)
        xi2 = rng.standard_normal((n, 10)).astype(np.float32)
        a1 = x @ p["w1"] + p["b1"]
        h = np.tanh(a1)
        plus = _np_losses(np.tanh(a1 + sigma * xi1) @ p["w2"] + p["b2"] + sigma * xi2, y)
        minus = _np_losses(np.tanh(a1 - sigma * xi1) @ p["w2"] + p["b2"] - sigma * xi2, y)
        c = (plus - minus) / (2 * sigma * n)
        d1, d2 = c[:, None] * xi1, c[:, None] * xi2
        return {"w1": x.T @ d1, "b1": d1.sum(0), "w2": h.T @ d2, "b2": d2.sum(0)}
    z = {k: rng.standard_normal(v.shape).astype(np.float32) for k, v in p.items()}  # WP
    c = (_np_loss({k: p[k] + sigma * z[k] for k in p}, x, y)
         - _np_loss({k: p[k] - sigma * z[k] for k in p}, x, y)) / (2 * sigma)
    return {k: c * z[k] for k in p}


# 1. the chapter's program, compiled again (timed apart) and run warm
_keys = jax.random.split(key_digits, n_seeds)
_program = jax.jit(lambda ks: jax.lax.map(lambda k: digits_experiment(key=k), ks))
_t0 = _time.perf_counter()
_program.lower(_keys).compile()
_compile_s = _time.perf_counter() - _t0
_t0 = _time.perf_counter()
_again = jax.tree_util.tree_map(np.asarray, jax.block_until_ready(_program(_keys)))
_book_s = _time.perf_counter() - _t0
_same = jax.tree_util.tree_map(lambda a, b: bool(np.array_equal(a, b, equal_nan=True)), _again, digits)
assert all(jax.tree_util.tree_leaves(_same)), \
    "the benchmark's call of digits_experiment does not reproduce the chapter's digits: the probe is out of date"
_book_steps = n_seeds * len(learning_rates) * len(RULES) * n_updates

# 2. the NumPy rules, from one repetition's initial network and data (the chapter's init_params, digits_split)
_k_split, _k_init = jax.random.split(jax.random.key(1))
_test_idx, _pool_idx = digits_split(key=_k_split, n_test=n_test)
_x, _y = np.asarray(x_all[_pool_idx]), np.asarray(y_all[_pool_idx])
_p0, _fb = jax.tree_util.tree_map(np.asarray, init_params(key=_k_init))
_np_us, _np_final = {}, {}
for _rule in RULES:
    _p = {k: v.copy() for k, v in _p0.items()}
    _t0 = _time.perf_counter()
    for _ in range(n_updates):
        _idx = _rng.integers(0, len(_x), batch_size)
        _g = _np_grad(_rule, _p, _x[_idx], _y[_idx], _fb, _rng)
        _p = {k: _p[k] - np.float32(bench_lr) * _g[k] for k in _p}
    _np_us[_rule] = 1e6 * (_time.perf_counter() - _t0) / n_updates
    _np_final[_rule] = _np_loss(_p, _x, _y)
_i_lr = list(learning_rates).index(bench_lr)
_book_us = 1e6 * _book_s / _book_steps
glue_value("bench_probe", {
    "program": "digits_experiment over all repetitions: every rule at every learning rate",
    "book_s": _book_s, "book_compile_s": _compile_s, "book_runs": n_seeds * len(learning_rates) * len(RULES),
    "book_steps": n_updates, "book_us_per_step": _book_us,
    "book_note": "includes its loss evaluations and the bias-variance samples, so its cost per update is an "
                 "upper bound",
    "baseline": "the four rules in NumPy, one Python iteration per update (Neuromatch style)",
    "baseline_us_per_step_by_rule": _np_us, "baseline_s_per_step": 1e-6 * float(np.mean(list(_np_us.values()))),
    "ratio": float(np.mean(list(_np_us.values()))) / _book_us, "unit": "run-update",
    "published_baseline": "Neuromatch's update(), 64-32-10, batch 32: BP 82-93, FA 75-90, NP 402-573, WP 134-197 "
                          "us per update (peer comparison, loaded machine)",
    "agreement": {"what": f"final training loss at learning rate {bench_lr}: NumPy (one run) vs the chapter "
                          "(median over its repetitions)",
                  "numpy": _np_final,
                  "book": {r: float(np.median(digits[r]["losses"][:, _i_lr, -1])) for r in RULES}},
})
