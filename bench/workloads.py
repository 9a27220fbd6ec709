"""The book's three heaviest training workloads, each written twice, and their FLOP counts.

Each workload copies the model, loss, optimiser, sizes and seeds of one chapter at its default parameters
(keep them in sync when the chapter changes) and implements the training in two ways:

- **batched**, the book's way, exactly as the chapter does it: one ``jax.jit`` around all the runs (seeds, and
  whatever else the chapter batches), each a ``jax.lax.scan`` over optimiser steps (``dlfn.fit`` or the
  chapter's own scan), the runs batched with ``jax.vmap`` or, where the chapter found that vmap does not pay
  (``inductive_biases``), run one after another with ``jax.lax.map``;
- **baseline**, what course notebooks typically do: Python loops over the runs (seeds, sizes, ...) and over
  steps, calling one jitted optimiser step per iteration. The baseline is given every advantage that keeps
  its structure: the step is compiled once (data, keys and the step index are arguments, not constants),
  minibatches are drawn inside the jitted step, and losses stay on the device until the run ends (no
  ``float(loss)`` per step, which would add a device-to-host sync to every step).

Both draw the same minibatches from the same keys, so their loss curves agree up to float32 rounding (the
benchmark checks it). Only training is timed: data, initial weights and keys are prepared once, outside
(initial weights come from ``dlfn.random_normal``: the same numbers as ``jax.random.normal``, compiled faster).

FLOPs count the matrix products of the forward and backward passes (``2 m k n`` for an ``(m, k) @ (k, n)``
product); elementwise work is not counted. Backward of a product ``x @ W`` costs ``2 m k n`` for ``dW`` and
again for ``dx``, except where ``x`` is data (no ``dx`` needed). The formulas are in each workload's
``flops_formula``; :func:`xla_step_flops` cross-checks them with XLA's own cost analysis of one step.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

from dlfn import digits_split, fit, load_digits_images, one_hot, random_normal


@dataclass
class Workload:
    """One training workload of a chapter, ready to time.

    ``batched`` is the book's jitted program, ``inputs -> outputs``; ``curves(outputs)`` turns its outputs into
    loss curves, a NumPy array of shape ``(n_runs, n_points)``. ``baseline(inputs)`` returns the same array from
    the per-run Python loops (runs in the same order); ``inputs`` is what ``prepare()`` returned.
    ``step_fns(inputs)`` gives ``[(jitted single step, example args, number of such steps), ...]``: calling each
    once compiles the baseline, and XLA's cost analysis of each gives :func:`xla_step_flops`.
    ``diagnose(inputs)``, where set, measures what bounds the batched program (a small extra experiment).
    """

    name: str
    chapter: str
    description: str
    n_runs: int
    n_steps: int
    flops: float  # matmul FLOPs of the whole workload (forward + backward, all runs, all steps)
    flops_per_run_step: float  # the same for one step of one run (the unit the baseline dispatches)
    flops_formula: str
    shapes: str  # the largest matrix products, in words, for the report
    prepare: Callable
    batched: Callable
    curves: Callable
    baseline: Callable
    step_fns: Callable
    flops_xla_comparable: float | None = None  # `flops` with every inner loop body counted once, as XLA counts
    diagnose: Callable | None = None
    labels: list[str] | None = None  # a group name per run (e.g. the model), to compare the results per group
    agreement_note: str = ""  # why the two implementations' results may legitimately differ
    extra: dict = field(default_factory=dict)


def _adam_step(loss_fn, optimizer, batch_size):
    """One optax step with a minibatch drawn inside, as ``dlfn.fit`` draws it.

    Returns ``step(params, opt_state, data, step_keys, i, n_valid) -> (params, opt_state, loss)``, where
    ``step_keys`` has shape ``(n_steps,)`` (the keys ``fit`` would split) and ``i`` is the step index.
    """
    def step(params, opt_state, data, step_keys, i, n_valid):
        idx = jax.random.randint(step_keys[i], (batch_size,), 0, n_valid)
        batch = jax.tree_util.tree_map(lambda x: x[idx], data)
        loss, grads = jax.value_and_grad(loss_fn)(params, batch)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss
    return step


def _python_loop(step, params, opt_state, data, key, n_steps, n_valid):
    """The baseline's inner loop: ``n_steps`` calls of the jitted ``step``; losses, shape ``(n_steps,)``."""
    step_keys = jax.random.split(key, n_steps)
    losses = []
    for i in range(n_steps):
        params, opt_state, loss = step(params, opt_state, data, step_keys, i, n_valid)
        losses.append(loss)
    return jnp.stack(losses)


def batching_sweep(train, args, widths, n_probe_steps, *, what, others=None) -> dict:
    """Milliseconds per optimiser step of one run when ``width`` runs are trained together in one compiled
    ``jax.vmap`` over a ``jax.lax.scan`` (width 1: one run, no Python loop), for each ``width``; then for each of
    ``others``, ``{label: (function of all of args, number of runs)}``, e.g. the runs one after another with
    ``jax.lax.map``.

    Args:
        train: one run of ``n_probe_steps`` steps, ``(*run_args) -> pytree`` (losses or parameters).
        args: tuple of pytrees whose leaves have a leading axis of at least ``max(widths)`` (one entry per run).
    Returns ``{"what", "steps", "results": {label: {"runs", "ms_per_run_step"}}}``; best of 2 timings each
    (of up to 5 for short programs).
    """
    programs = {f"vmap {w}": (jax.vmap(train), w) for w in widths}
    programs.update(others or {})
    out = {}
    for name, (program, width) in programs.items():
        sub = jax.tree_util.tree_map(lambda a, width=width: a[:width], args)
        compiled = jax.jit(program).lower(*sub).compile()
        times = []
        while len(times) < 2 or (len(times) < 5 and sum(times) < 1.0):  # short programs: best of up to 5
            t0 = time.perf_counter()
            jax.block_until_ready(compiled(*sub))
            times.append(time.perf_counter() - t0)
        out[name] = {"runs": width, "ms_per_run_step": round(1e3 * min(times) / (width * n_probe_steps), 4)}
    return {"what": what, "steps": n_probe_steps, "results": out}


def product_rate(m: int, k: int, n: int, repeats: int = 200) -> dict:
    """GFLOP/s of one ``(m, k) @ (k, n)`` float32 product, repeated ``repeats`` times inside one compiled loop
    (no dispatch in the measurement); best of 3."""
    a, b = jnp.ones((m, k)), jnp.full((k, n), 1e-3)

    def body(i, a):  # each product feeds the next (a tiny (m, 1) update), so XLA cannot hoist it out of the loop
        return a + 1e-9 * (a @ b)[:, :1]

    loop = jax.jit(lambda a: jax.lax.fori_loop(0, repeats, body, a))
    jax.block_until_ready(loop(a))
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        jax.block_until_ready(loop(a))
        best = min(best, time.perf_counter() - t0)
    return {"shape": f"({m}, {k}) @ ({k}, {n})", "gflops": round(2 * m * k * n * repeats / best / 1e9, 1)}


# --------------------------------------------------------------------------------------------------------
# 1. inductive_biases (book/07): MLP and CNN on digits, 3 training sizes x 8 seeds x 2 pixel orders.
# --------------------------------------------------------------------------------------------------------

def inductive_biases() -> Workload:
    """Chapter 07 at defaults: for each of 2 models (MLP 144-128-10; CNN with 3x3 convs of 8 and 16 channels,
    global max, linear readout), 3 training sizes x 8 seeds x 2 conditions (plain, scrambled pixels) = 48 runs
    of 300 Adam steps on minibatches of 32 from 300 centred 12x12 digits: 96 runs in all."""
    seed, n_seeds, train_sizes, n_test, canvas = 0, 8, [50, 100, 300], 500, 12
    mlp_hidden, (c1, c2), learning_rate, batch_size, n_steps = 128, (8, 16), 0.01, 32, 300
    margin = (canvas - 8) // 2
    d = canvas * canvas

    def place(image, shift):
        centred = jnp.pad(image, ((margin, canvas - 8 - margin), (margin, canvas - 8 - margin)))
        return jnp.roll(centred, shift, axis=(0, 1))

    def scramble(x, perm):
        return x.reshape(x.shape[0], -1)[:, perm].reshape(x.shape)

    def init_mlp(*, key):
        k1, k2 = jax.random.split(key)
        return {"W1": random_normal(k1, (d, mlp_hidden)) * jnp.sqrt(2 / d), "b1": jnp.zeros(mlp_hidden),
                "W2": random_normal(k2, (mlp_hidden, 10)) * jnp.sqrt(1 / mlp_hidden), "b2": jnp.zeros(10)}

    def mlp(params, x):
        h = jax.nn.relu(x.reshape(x.shape[0], -1) @ params["W1"] + params["b1"])
        return h @ params["W2"] + params["b2"]

    def conv3x3(x, kernel):
        n, height, width, c_in = x.shape
        padded = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
        patches = jnp.stack([padded[:, i:i + height, j:j + width, :] for i in range(3) for j in range(3)], axis=3)
        return jnp.einsum("nhwkc,kco->nhwo", patches, kernel.reshape(9, c_in, -1))

    def init_cnn(*, key):
        k1, k2, k3 = jax.random.split(key, 3)
        return {"K1": random_normal(k1, (3, 3, 1, c1)) * jnp.sqrt(2 / 9), "b1": jnp.zeros(c1),
                "K2": random_normal(k2, (3, 3, c1, c2)) * jnp.sqrt(2 / (9 * c1)), "b2": jnp.zeros(c2),
                "W": random_normal(k3, (c2, 10)) * jnp.sqrt(1 / c2), "b": jnp.zeros(10)}

    def cnn(params, x):
        h = jax.nn.relu(conv3x3(x[..., None], params["K1"]) + params["b1"])
        h = jax.nn.relu(conv3x3(h, params["K2"]) + params["b2"])
        return h.max(axis=(1, 2)) @ params["W"] + params["b"]

    def cross_entropy(apply):
        def loss(params, batch):
            x, y = batch
            return optax.softmax_cross_entropy_with_integer_labels(apply(params, x), y).mean()
        return loss

    models = {"mlp": (init_mlp, mlp), "cnn": (init_cnn, cnn)}
    optimizer = optax.adam(learning_rate)

    def prepare():
        """Per seed, as the chapter's ``run_one``: training canvases for both conditions (n_seeds, 2, 300, 12, 12),
        labels (n_seeds, 300), initial weights per model (leading axis n_seeds), minibatch keys (n_seeds,)."""
        images, labels = (jnp.asarray(a) for a in load_digits_images())
        key = jax.random.key(seed)
        key, _, _ = jax.random.split(key, 3)  # the chapter's demo figure draws these two keys
        _, k_runs = jax.random.split(key)
        seed_keys = jax.random.split(k_runs, n_seeds)

        def per_seed(key):
            k_split, _, k_perm, k_init, k_batches = jax.random.split(key, 5)
            _, pool_idx = digits_split(key=k_split, n_test=n_test)
            train_idx = pool_idx[:max(train_sizes)]
            x = jax.vmap(place)(images[train_idx], jnp.zeros((len(train_idx), 2), dtype=jnp.int32))
            perm = jax.random.permutation(k_perm, d)
            params0 = {name: init(key=jax.random.fold_in(k_init, i)) for i, (name, (init, _)) in
                       enumerate(models.items())}
            return jnp.stack([x, scramble(x, perm)]), labels[train_idx], params0, k_batches

        x, y, params0, k_batches = jax.jit(jax.vmap(per_seed))(seed_keys)
        return {"x": x, "y": y, "params0": params0, "k_batches": k_batches, "sizes": jnp.array(train_sizes)}

    @jax.jit
    def batched_program(inputs):
        """The chapter's program (since it replaced its nested vmaps, commit 9e1b642): one jit, ``jax.lax.map``
        over the (size, seed) grid and, per model, over the two conditions, each run a ``dlfn.fit`` scan."""
        grid_sizes = jnp.repeat(inputs["sizes"], n_seeds)  # grid index = size index * n_seeds + seed
        grid_seeds = jnp.tile(jnp.arange(n_seeds), len(train_sizes))

        def one_run(size_and_seed):
            n_train, s = size_and_seed
            x, y, k_batches = inputs["x"][s], inputs["y"][s], inputs["k_batches"][s]
            out = {}
            for name, (_, apply) in models.items():
                params0 = jax.tree_util.tree_map(lambda a, s=s: a[s], inputs["params0"][name])

                def train(x_tr, params0=params0, apply=apply):
                    return fit(cross_entropy(apply), params0, optimizer, (x_tr, y), n_steps=n_steps,
                               key=k_batches, batch_size=batch_size, n_valid=n_train)[1]
                out[name] = jax.lax.map(train, x)  # (2 conditions, n_steps)
            return out
        return jax.lax.map(one_run, (grid_sizes, grid_seeds))

    def curves(out):  # {model: (sizes * seeds, conditions, n_steps)} -> (96, n_steps), as the baseline's loops
        return np.concatenate([np.asarray(out[name]).reshape(-1, n_steps) for name in models])

    steps = {name: jax.jit(_adam_step(cross_entropy(apply), optimizer, batch_size))
             for name, (_, apply) in models.items()}

    def baseline(inputs):
        curves = []
        for name in models:
            for n_train in train_sizes:
                n_valid = jnp.int32(n_train)
                for s in range(n_seeds):
                    params0 = jax.tree_util.tree_map(lambda a, s=s: a[s], inputs["params0"][name])
                    for c in range(2):
                        data = (inputs["x"][s, c], inputs["y"][s])
                        curves.append(_python_loop(steps[name], params0, optimizer.init(params0), data,
                                                   inputs["k_batches"][s], n_steps, n_valid))
        return np.asarray(jnp.stack(curves))

    def step_fns(inputs):
        out = []
        for name in models:
            params0 = jax.tree_util.tree_map(lambda a: a[0], inputs["params0"][name])
            args = (params0, optimizer.init(params0), (inputs["x"][0, 0], inputs["y"][0]),
                    jax.random.split(inputs["k_batches"][0], n_steps), 0, jnp.int32(100))
            out.append((steps[name], args, n_steps * len(train_sizes) * n_seeds * 2))
        return out

    def diagnose(inputs, n_probe_steps=40):
        """The CNN (most of the FLOPs), 48 runs (3 sizes x 8 seeds x 2 conditions, as the chapter): vmapped 1 and
        8 and 48 at a time along one axis, 48 in nested vmaps (sizes, seeds, conditions; the chapter's program
        until it switched to ``jax.lax.map``), and 48 one after another in one program (``jax.lax.map``)."""
        loss = cross_entropy(models["cnn"][1])

        def train(x_tr, y, params0, k, n_train):
            return fit(loss, params0, optimizer, (x_tr, y), n_steps=n_probe_steps, key=k, batch_size=batch_size,
                       n_valid=n_train)[1]

        def nested(x, y, params0, k, n_train):  # the flat runs regrouped as the chapter's former vmaps
            unflat = lambda a: a.reshape(len(train_sizes), n_seeds, 2, *a.shape[1:])  # noqa: E731
            x, y, params0, k, n_train = jax.tree_util.tree_map(unflat, (x, y, params0, k, n_train))
            per_seed = jax.vmap(lambda n, x, y, p, k: jax.vmap(lambda xc: train(xc, y, p, k, n))(x),
                                in_axes=(None, 0, 0, 0, 0))
            return jax.vmap(per_seed, in_axes=(0, None, None, None, None))(
                n_train[:, 0, 0], x[0, :, :], y[0, :, 0], jax.tree_util.tree_map(lambda a: a[0, :, 0], params0),
                k[0, :, 0])

        runs = jnp.arange(2 * len(train_sizes) * n_seeds)  # run r: size r // 16, seed (r // 2) % 8, condition r % 2
        size, seed_, cond = runs // (2 * n_seeds), (runs // 2) % n_seeds, runs % 2
        args = (inputs["x"][seed_, cond], inputs["y"][seed_],
                jax.tree_util.tree_map(lambda a: a[seed_], inputs["params0"]["cnn"]), inputs["k_batches"][seed_],
                inputs["sizes"][size])
        n = len(runs)
        out = batching_sweep(train, args, (1, 8, n), n_probe_steps, others={
            f"nested vmaps over sizes, seeds and conditions ({n} runs, the chapter before 9e1b642)": (nested, n),
            f"lax.map over {n} runs, one at a time": (lambda *a: jax.lax.map(lambda t: train(*t), a), n)},
            what="CNN training, milliseconds per step of one run, by how the runs are batched")
        out["patches_mib_per_run"] = round(4 * batch_size * d * 9 * c1 / 2**20, 2)
        out["flops_per_run_step"] = float(cnn_step)
        out["products"] = [product_rate(batch_size * d, 9 * c1, c2), product_rate(batch_size * d, 9, c1)]
        out["where_time_goes"] = ("a step's time goes to the thinner products (the first convolution is "
                                  f"({batch_size * d}, 9) @ (9, {c1})) and to the data movement around them "
                                  "(building the im2col patches, their transpose in the backward pass, the global "
                                  "max's backward, elementwise work), not to FLOPs")
        return out

    b = batch_size
    mlp_fwd1, mlp_fwd2 = 2 * b * d * mlp_hidden, 2 * b * mlp_hidden * 10
    conv1, conv2, readout = 2 * b * d * 9 * 1 * c1, 2 * b * d * 9 * c1 * c2, 2 * b * c2 * 10
    mlp_step = 2 * mlp_fwd1 + 3 * mlp_fwd2
    cnn_step = 2 * conv1 + 3 * conv2 + 3 * readout
    runs_per_model = len(train_sizes) * n_seeds * 2
    return Workload(
        name="inductive_biases", chapter="book/07_inductive_biases.md",
        description=f"MLP and CNN on 12x12 digits: 2 models x {len(train_sizes)} sizes x {n_seeds} seeds x 2 pixel "
                    f"orders = {2 * runs_per_model} runs of {n_steps} Adam steps, minibatch {batch_size}; the book "
                    f"runs them in one jit, one after another (jax.lax.map), not vmapped",
        n_runs=2 * runs_per_model, n_steps=n_steps,
        flops=float(n_steps * runs_per_model * (mlp_step + cnn_step)),
        flops_per_run_step=float((mlp_step + cnn_step) / 2),
        flops_formula=("per step, B=32, P=144 pixels: MLP 2*(2*B*P*128) + 3*(2*B*128*10) (layer 1 has no input "
                       "gradient); CNN conv as patches@kernel: 2*(2*B*P*9*1*8) + 3*(2*B*P*9*8*16) + "
                       "3*(2*B*16*10); times 300 steps x 48 runs per model"),
        shapes="CNN conv2 per run: (32*144, 72) @ (72, 16); MLP layer 1: (32, 144) @ (144, 128)",
        prepare=prepare, batched=batched_program, curves=curves, baseline=baseline, step_fns=step_fns,
        diagnose=diagnose, labels=[name for name in models for _ in range(runs_per_model)],
        extra={"flops_per_step": {"mlp": mlp_step, "cnn": cnn_step},
                                  "patches_bytes_per_run": 4 * b * d * 9 * c1})


# --------------------------------------------------------------------------------------------------------
# 2. sparse_coding (book/05): dictionary learning with FISTA codes, 4 seeds x 2000 Adam steps.
# --------------------------------------------------------------------------------------------------------

def sparse_coding() -> Workload:
    """Chapter 05 at defaults, the natural-image dictionaries: 4 seeds, each 2000 Adam steps (cosine decay) on
    minibatches of 256 whitened 8x8 patches from 20000, 128 atoms, codes from 20 FISTA iterations."""
    seed, n_seeds, downsample, cutoff, patch_size, n_atoms = 0, 4, 2, 0.8, 8, 128
    sparsity, n_train_patches, n_steps, batch_size, n_fista, learning_rate = 1.0, 20000, 2000, 256, 20, 0.02
    pixels = patch_size**2

    def whitened_images():
        from sklearn.datasets import load_sample_images

        out = []
        for image in load_sample_images().images:
            grey = image.astype(np.float64).mean(axis=-1) / 255.0
            h, w = (grey.shape[0] // downsample) * downsample, (grey.shape[1] // downsample) * downsample
            blocks = grey[:h, :w].reshape(h // downsample, downsample, w // downsample, downsample)
            grey = blocks.mean(axis=(1, 3))
            grey = grey - grey.mean()
            fy = np.fft.fftfreq(grey.shape[0])[:, None]
            fx = np.fft.fftfreq(grey.shape[1])[None, :]
            f = np.sqrt(fx**2 + fy**2)
            whitening = f * np.exp(-((f / (cutoff * 0.5)) ** 4))
            white = np.real(np.fft.ifft2(np.fft.fft2(grey) * whitening))
            out.append(white / white.std())
        return jnp.asarray(np.stack(out), dtype=jnp.float32)

    def unit_norm(w):
        return w / jnp.linalg.norm(w, axis=0, keepdims=True)

    def largest_eigenvalue(g, n_iter=30):
        v = jnp.ones(g.shape[0]) / jnp.sqrt(g.shape[0])
        v = jax.lax.fori_loop(0, n_iter, lambda _, v: (g @ v) / jnp.linalg.norm(g @ v), v)
        return v @ g @ v

    def infer_codes(dictionary, x, n_iter, penalty):
        gram = dictionary.T @ dictionary
        drive = x @ dictionary
        step = 1.0 / (1.05 * largest_eigenvalue(dictionary @ dictionary.T))

        def soft(z, tau):
            return jnp.sign(z) * jnp.maximum(jnp.abs(z) - tau, 0.0)

        def iteration(carry, _):
            a, y, s = carry
            a_new = soft(y - step * (y @ gram - drive), step * penalty)
            s_new = 0.5 * (1.0 + jnp.sqrt(1.0 + 4.0 * s**2))
            y_new = a_new + ((s - 1.0) / s_new) * (a_new - a)
            return (a_new, y_new, s_new), None

        a0 = jnp.zeros((x.shape[0], dictionary.shape[1]))
        (a, _, _), _ = jax.lax.scan(iteration, (a0, a0, jnp.float32(1.0)), None, length=n_iter)
        return a

    def sparse_coding_loss(w, x):
        dictionary = unit_norm(w)
        a = jax.lax.stop_gradient(infer_codes(dictionary, x, n_fista, sparsity))
        residual = x - a @ dictionary.T
        return 0.5 * jnp.mean(jnp.sum(residual**2, axis=1)) + sparsity * jnp.mean(jnp.sum(jnp.abs(a), axis=1))

    optimizer = optax.adam(optax.cosine_decay_schedule(learning_rate, n_steps))

    def prepare():
        """Per seed, as the chapter's ``run_natural``: patches (n_seeds, 20000, 64), initial dictionaries
        (n_seeds, 64, 128), minibatch keys (n_seeds,)."""
        images = whitened_images()

        def sample_patches(*, key, n):
            k_img, k_row, k_col = jax.random.split(key, 3)
            i = jax.random.randint(k_img, (n,), 0, images.shape[0])
            r = jax.random.randint(k_row, (n,), 0, images.shape[1] - patch_size + 1)
            c = jax.random.randint(k_col, (n,), 0, images.shape[2] - patch_size + 1)

            def cut(i, r, c):
                return jax.lax.dynamic_slice(images, (i, r, c), (1, patch_size, patch_size)).reshape(-1)
            return jax.vmap(cut)(i, r, c)

        def per_seed(key):
            k_train, _, k_learn = jax.random.split(key, 3)
            x_train = sample_patches(key=k_train, n=n_train_patches)
            k_init, k_fit = jax.random.split(k_learn)
            return x_train, unit_norm(random_normal(k_init, (pixels, n_atoms))), k_fit

        k_natural, _ = jax.random.split(jax.random.key(seed))
        x, w0, k_fit = jax.jit(jax.vmap(per_seed))(jax.random.split(k_natural, n_seeds))
        return {"x": x, "w0": w0, "k_fit": k_fit}

    @jax.jit
    def batched_program(inputs):
        """``jax.vmap`` over seeds of ``dlfn.fit``, as the chapter's ``learn_and_code``."""
        def train(x, w0, k_fit):
            return fit(sparse_coding_loss, w0, optimizer, x, n_steps=n_steps, key=k_fit, batch_size=batch_size)[1]
        return jax.vmap(train)(inputs["x"], inputs["w0"], inputs["k_fit"])

    def curves(out):
        return np.asarray(out)

    step = jax.jit(_adam_step(sparse_coding_loss, optimizer, batch_size))

    def baseline(inputs):
        curves = []
        n_valid = jnp.int32(n_train_patches)
        for s in range(n_seeds):
            w0 = inputs["w0"][s]
            curves.append(_python_loop(step, w0, optimizer.init(w0), inputs["x"][s], inputs["k_fit"][s], n_steps,
                                       n_valid))
        return np.asarray(jnp.stack(curves))

    def step_fns(inputs):
        w0 = inputs["w0"][0]
        args = (w0, optimizer.init(w0), inputs["x"][0], jax.random.split(inputs["k_fit"][0], n_steps), 0,
                jnp.int32(n_train_patches))
        return [(step, args, n_steps * n_seeds)]

    def diagnose(inputs, n_probe_steps=100):
        """One dictionary alone and the 4 seeds vmapped, 100 steps each."""
        def train(x, w0, k_fit):
            return fit(sparse_coding_loss, w0, optimizer, x, n_steps=n_probe_steps, key=k_fit,
                       batch_size=batch_size)[1]
        return batching_sweep(train, (inputs["x"], inputs["w0"], inputs["k_fit"]), (1, n_seeds), n_probe_steps,
                              what="dictionary learning, milliseconds per step of one run, by how many runs are "
                                   "batched")

    b, p, a, t = batch_size, pixels, n_atoms, n_fista
    per_step = (2 * p * a * a          # gram = D^T D
                + 2 * b * p * a        # drive = x D
                + 2 * p * p * a        # D D^T for the step size
                + 30 * 2 * p * p       # power iteration, 30 matrix-vector products
                + t * 2 * b * a * a    # FISTA: y @ gram per iteration
                + 2 * b * a * p        # reconstruction a D^T
                + 2 * b * p * a)       # backward: dL/dD = residual^T a (codes are held fixed)
    return Workload(
        name="sparse_coding", chapter="book/05_sparse_coding.md",
        description=f"sparse dictionary learning on whitened natural-image patches: {n_seeds} seeds x {n_steps} "
                    f"Adam steps, minibatch {batch_size}, {n_atoms} atoms, {n_fista} FISTA iterations per step",
        n_runs=n_seeds, n_steps=n_steps, flops=float(per_step * n_steps * n_seeds), flops_per_run_step=float(per_step),
        flops_formula=("per step, B=256 patches, P=64 pixels, A=128 atoms, T=20: 2PA^2 (Gram) + 2BPA (drive) + 2P^2A "
                       "+ 30*2P^2 (step size) + T*2BA^2 (FISTA) + 2BAP (reconstruction) + 2BPA (gradient; the codes "
                       "are under stop_gradient, so FISTA has no backward pass); times 2000 steps x 4 seeds"),
        shapes="FISTA per run: (256, 128) @ (128, 128), 20 times per step",
        prepare=prepare, batched=batched_program, curves=curves, baseline=baseline, step_fns=step_fns,
        diagnose=diagnose,
        flops_xla_comparable=float((per_step - (t - 1) * 2 * b * a * a - 29 * 2 * p * p) * n_steps * n_seeds))


# --------------------------------------------------------------------------------------------------------
# 3. credit_assignment (book/03): four learning rules x seven learning rates x eight seeds on digits.
# --------------------------------------------------------------------------------------------------------

def credit_assignment() -> Workload:
    """Chapter 03 at defaults, the digits comparison of learning rules: 8 seeds x 4 rules (BP, FA, NP, WP) x 7
    learning rates = 224 runs of 1000 SGD steps (minibatch 32) of a 64-32-10 tanh network, with the full
    training loss every 50 steps."""
    seed, n_seeds, sigma, n_hidden, n_test, batch_size = 0, 8, 1e-3, 32, 300, 32
    n_updates, eval_every = 1000, 50
    learning_rates = [0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0]
    n_evals = n_updates // eval_every

    def forward(params, x):
        h = jnp.tanh(x @ params["w1"] + params["b1"])
        return h, h @ params["w2"] + params["b2"]

    def example_losses(logits, y):
        return -jnp.sum(y * jax.nn.log_softmax(logits), axis=-1)

    def loss_fn(params, batch):
        x, y = batch
        return jnp.mean(example_losses(forward(params, x)[1], y))

    def grad_bp(params, batch, *, feedback, key):
        return jax.grad(loss_fn)(params, batch)

    def grad_fa(params, batch, *, feedback, key):
        x, y = batch
        h, logits = forward(params, x)
        e = (jax.nn.softmax(logits) - y) / x.shape[0]
        d_h = (e @ feedback.T) * (1 - h**2)
        return {"w1": x.T @ d_h, "b1": d_h.sum(0), "w2": h.T @ e, "b2": e.sum(0)}

    def grad_np(params, batch, *, feedback, key):
        x, y = batch
        n = x.shape[0]
        xi = jax.random.normal(key, (n, n_hidden + 10))
        xi1, xi2 = xi[:, :n_hidden], xi[:, n_hidden:]
        a1 = x @ params["w1"] + params["b1"]
        h = jnp.tanh(a1)

        def losses_at(s):
            return example_losses(jnp.tanh(a1 + s * xi1) @ params["w2"] + params["b2"] + s * xi2, y)

        c = (losses_at(sigma) - losses_at(-sigma)) / (2 * sigma * n)
        d1, d2 = c[:, None] * xi1, c[:, None] * xi2
        return {"w1": x.T @ d1, "b1": d1.sum(0), "w2": h.T @ d2, "b2": d2.sum(0)}

    def grad_wp(params, batch, *, feedback, key):
        flat, unravel = ravel_pytree(params)
        z = jax.random.normal(key, flat.shape)
        c = (loss_fn(unravel(flat + sigma * z), batch) - loss_fn(unravel(flat - sigma * z), batch)) / (2 * sigma)
        return unravel(c * z)

    rules = {"BP": grad_bp, "FA": grad_fa, "NP": grad_np, "WP": grad_wp}

    def init_params(*, key):
        k1, k2, kb = jax.random.split(key, 3)
        params = {"w1": random_normal(k1, (64, n_hidden)) / 8.0, "b1": jnp.zeros(n_hidden),
                  "w2": random_normal(k2, (n_hidden, 10)) / jnp.sqrt(n_hidden), "b2": jnp.zeros(10)}
        return params, random_normal(kb, (n_hidden, 10)) / jnp.sqrt(n_hidden)

    def sgd_step(rule):
        """One SGD step with ``rule``'s gradient estimate, as the chapter's ``train.step``."""
        def step(params, data, feedback, k, lr):
            k_batch, k_rule = jax.random.split(k)
            idx = jax.random.randint(k_batch, (batch_size,), 0, data[0].shape[0])
            g = rule(params, (data[0][idx], data[1][idx]), feedback=feedback, key=k_rule)
            opt = optax.sgd(lr)
            updates, _ = opt.update(g, opt.init(params), params)
            return optax.apply_updates(params, updates)
        return step

    def prepare():
        """Per seed, as the chapter's ``digits_experiment``: training pool x (n_seeds, 1497, 64) and one-hot
        y (n_seeds, 1497, 10), initial weights and feedback matrices, training keys (n_seeds,)."""
        images, labels = load_digits_images()
        x_all, y_all = jnp.asarray(images.reshape(len(images), -1)), one_hot(labels)

        def per_seed(key):
            k_split, k_init, k_train, _, _ = jax.random.split(key, 5)
            _, pool_idx = digits_split(key=k_split, n_test=n_test)
            params0, feedback = init_params(key=k_init)
            return (x_all[pool_idx], y_all[pool_idx]), params0, feedback, k_train

        _, _, key_digits = jax.random.split(jax.random.key(seed), 3)
        data, params0, feedback, k_train = jax.jit(jax.vmap(per_seed))(jax.random.split(key_digits, n_seeds))
        return {"data": data, "params0": params0, "feedback": feedback, "k_train": k_train,
                "lrs": jnp.array(learning_rates)}

    def train(rule, lr, params0, feedback, data, *, key):
        """The chapter's ``train``: a scan over blocks of ``eval_every`` steps; loss curve (n_evals + 1,)."""
        step = sgd_step(rule)

        def block(params, keys):
            params, _ = jax.lax.scan(lambda p, k: (step(p, data, feedback, k, lr), None), params, keys)
            return params, loss_fn(params, data)

        keys = jax.random.split(key, (n_evals, eval_every))
        params, losses = jax.lax.scan(block, params0, keys)
        return jnp.concatenate([loss_fn(params0, data)[None], losses])

    @jax.jit
    def batched_program(inputs):
        """``jax.vmap`` over seeds; per seed, each rule ``jax.vmap``-ed over learning rates (as the chapter)."""
        def one_seed(data, params0, feedback, k_train):
            return jnp.stack([jax.vmap(lambda lr, rule=rule: train(rule, lr, params0, feedback, data, key=k_train))(
                inputs["lrs"]) for rule in rules.values()])  # (rules, lrs, n_evals + 1)
        return jax.vmap(one_seed)(inputs["data"], inputs["params0"], inputs["feedback"], inputs["k_train"])

    def curves(out):  # (seeds, rules, lrs, n_evals + 1) -> (224, n_evals + 1), as the baseline's loops
        return np.asarray(out).reshape(-1, n_evals + 1)

    def indexed(step):  # the baseline picks the step's key inside the jitted call: one dispatch per step
        return lambda params, data, feedback, keys, i, lr: step(params, data, feedback, keys[i], lr)

    steps = {name: jax.jit(indexed(sgd_step(rule))) for name, rule in rules.items()}
    evaluate = jax.jit(loss_fn)

    def baseline(inputs):
        curves = []
        for s in range(n_seeds):
            data = (inputs["data"][0][s], inputs["data"][1][s])
            params0 = jax.tree_util.tree_map(lambda a, s=s: a[s], inputs["params0"])
            feedback = inputs["feedback"][s]
            keys = jax.random.split(inputs["k_train"][s], n_updates)  # = the chapter's (n_evals, eval_every) keys
            for name in rules:
                for lr in learning_rates:
                    params, losses = params0, [evaluate(params0, data)]
                    for i in range(n_updates):
                        params = steps[name](params, data, feedback, keys, i, lr)
                        if (i + 1) % eval_every == 0:
                            losses.append(evaluate(params, data))
                    curves.append(jnp.stack(losses))
        return np.asarray(jnp.stack(curves))

    def step_fns(inputs):
        data = (inputs["data"][0][0], inputs["data"][1][0])
        params0 = jax.tree_util.tree_map(lambda a: a[0], inputs["params0"])
        keys = jax.random.split(inputs["k_train"][0], n_updates)
        out = [(steps[name], (params0, data, inputs["feedback"][0], keys, 0, 0.1),
                n_updates * n_seeds * len(learning_rates)) for name in rules]
        out.append((evaluate, (params0, data), (n_evals + 1) * n_seeds * len(learning_rates) * len(rules)))
        return out

    def diagnose(inputs, n_probe_steps=200):
        """Backprop alone (no evaluations), as 1 run, 7 learning rates (one seed) and 56 runs (7 rates x 8 seeds)
        vmapped, 200 steps each."""
        step = sgd_step(grad_bp)

        def train(data, params0, feedback, k, lr):
            keys = jax.random.split(k, n_probe_steps)
            return jax.lax.scan(lambda p, kk: (step(p, data, feedback, kk, lr), None), params0, keys)[0]

        n_lr = len(learning_rates)
        seeds, lrs = jnp.arange(n_seeds).repeat(n_lr), jnp.tile(inputs["lrs"], n_seeds)
        take = lambda tree: jax.tree_util.tree_map(lambda a: a[seeds], tree)  # noqa: E731
        args = (take(inputs["data"]), take(inputs["params0"]), take(inputs["feedback"]), inputs["k_train"][seeds],
                lrs)
        return batching_sweep(train, args, (1, n_lr, n_seeds * n_lr), n_probe_steps,
                              what="backprop on digits, milliseconds per step of one run, by how many runs are "
                                   "batched")

    b, d, h, o, n_pool = batch_size, 64, n_hidden, 10, 1797 - n_test
    f1, f2 = 2 * b * d * h, 2 * b * h * o
    per_rule = {"BP": 2 * f1 + 3 * f2, "FA": 2 * f1 + 3 * f2, "NP": 2 * f1 + 3 * f2, "WP": 2 * (f1 + f2)}
    evaluation = 2 * n_pool * d * h + 2 * n_pool * h * o
    runs_per_rule = n_seeds * len(learning_rates)
    total = runs_per_rule * (n_updates * sum(per_rule.values()) + len(rules) * (n_evals + 1) * evaluation)
    return Workload(
        name="credit_assignment", chapter="book/03_credit_assignment.md",
        description=f"four learning rules (BP, FA, NP, WP) on digits: {n_seeds} seeds x 4 rules x "
                    f"{len(learning_rates)} learning rates = {4 * runs_per_rule} runs of {n_updates} SGD steps, "
                    f"minibatch {batch_size}, 64-{n_hidden}-10 network, full training loss every {eval_every} steps",
        n_runs=4 * runs_per_rule, n_steps=n_updates, flops=float(total),
        flops_per_run_step=float(total / (4 * runs_per_rule * n_updates)),
        flops_formula=("per step, B=32, F1=2*B*64*32, F2=2*B*32*10: BP, FA and NP 2*F1 + 3*F2, WP 2*(F1 + F2) (two "
                       "forward passes); every 50 steps and once at the start the full loss on 1497 digits, "
                       "2*1497*(64*32 + 32*10); times 1000 steps x 56 runs per rule"),
        shapes="per run: (32, 64) @ (64, 32) and (32, 32) @ (32, 10)",
        prepare=prepare, batched=batched_program, curves=curves, baseline=baseline, step_fns=step_fns,
        diagnose=diagnose, labels=[rule for _ in range(n_seeds) for rule in rules for _ in learning_rates],
        agreement_note=("BP and FA follow exact gradients (or a fixed feedback matrix) and agree to float32 rounding "
                        "at moderate learning rates (at the largest, even a run that ends below its first loss can "
                        "be chaotic). "
                        "NP and WP update by a difference of two nearly equal float32 losses divided by 2*sigma = "
                        "2e-3, which magnifies any rounding difference between the vmapped and the unbatched "
                        "program, so single runs drift apart while their statistics agree."),
        extra={"flops_per_step": per_rule, "flops_per_evaluation": evaluation})


WORKLOADS = {"inductive_biases": inductive_biases, "sparse_coding": sparse_coding,
             "credit_assignment": credit_assignment}


def xla_step_flops(workload: Workload, inputs) -> float:
    """The whole workload's FLOPs according to XLA's cost analysis of each jitted single step (all operations,
    not only matrix products), times the number of such steps."""
    total = 0.0
    for fn, args, count in workload.step_fns(inputs):
        cost = fn.lower(*args).compile().cost_analysis()
        cost = cost[0] if isinstance(cost, list | tuple) else cost
        total += float(cost.get("flops", 0.0)) * count
    return total
