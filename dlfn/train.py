"""The book's one training loop, and the check that makes divergence loud.

``fit`` is a pure function: a ``jax.lax.scan`` over optimiser steps, so a chapter trains many seeds at
once with ``jax.vmap(fit, ...)`` under one ``jax.jit``. The model and its loss stay in the chapter; this
loop only applies ``optax`` updates. Eight chapters use it; the first is ``three_components``.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax


class DivergenceError(FloatingPointError):
    """Training produced a NaN or an infinity."""


def fit(loss_fn: Callable, params, optimizer: optax.GradientTransformation, data, *, n_steps: int,
        key: jax.Array | None = None, batch_size: int | None = None, n_valid=None):
    """Minimise ``loss_fn(params, batch)`` with ``optimizer`` for ``n_steps`` steps.

    Args:
        loss_fn: ``(params, batch) -> scalar loss``; ``batch`` has the structure of ``data``.
        params: initial parameters (any pytree).
        optimizer: an optax gradient transformation.
        data: pytree of arrays whose leading axis indexes examples, shape ``(n, ...)``.
        n_steps: number of updates (static).
        key: keyword-only; needed when ``batch_size`` is set, to draw minibatches.
        batch_size: examples per step, drawn with replacement; ``None`` for full-batch steps.
        n_valid: draw minibatches from the first ``n_valid`` examples only (may be a traced value), so
            that one compiled program trains on several training-set sizes at once (``jax.vmap`` over
            ``n_valid``). Needs ``batch_size``.

    Returns:
        ``(params, losses)``: the trained parameters and the loss before each update, shape ``(n_steps,)``.
    """
    if batch_size is not None and key is None:
        raise ValueError("fit: minibatches (batch_size set) need a key")
    if n_valid is not None and batch_size is None:
        raise ValueError("fit: n_valid needs minibatches (batch_size set)")
    n = jax.tree_util.tree_leaves(data)[0].shape[0] if n_valid is None else n_valid
    opt_state = optimizer.init(params)
    step_keys = jax.random.split(key, n_steps) if key is not None else jnp.zeros((n_steps,))

    def step(carry, step_key):
        params, opt_state = carry
        if batch_size is None:
            batch = data
        else:
            idx = jax.random.randint(step_key, (batch_size,), 0, n)
            batch = jax.tree_util.tree_map(lambda x: x[idx], data)
        loss, grads = jax.value_and_grad(loss_fn)(params, batch)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        return (params, opt_state), loss

    (params, _), losses = jax.lax.scan(step, (params, opt_state), step_keys)
    return params, losses


def check_finite(values, what: str, *, step_axis: int = -1) -> None:
    """Raise :class:`DivergenceError` if ``values`` holds a NaN or an infinity.

    The message names ``what`` diverged, the first step at which it did (along ``step_axis``) and,
    for batched runs, the index of the run (e.g. the seed), so a chapter stops with a clear message
    instead of plotting garbage.

    Args:
        values: array, e.g. losses of shape ``(n_seeds, n_steps)``.
        what: a name for the quantity, e.g. ``"CNN training loss"``.
    """
    v = np.asarray(values)
    bad = ~np.isfinite(v)
    if not bad.any():
        return
    v_steps = np.moveaxis(bad, step_axis, -1)
    first_per_run = np.where(v_steps.any(-1), v_steps.argmax(-1), np.iinfo(np.int64).max)
    run = np.unravel_index(np.argmin(first_per_run), first_per_run.shape)
    step = int(first_per_run[run])
    value = np.moveaxis(v, step_axis, -1)[run + (step,)]
    where = f" in run {tuple(int(i) for i in run)}" if run else ""
    raise DivergenceError(f"{what} diverged: {value} at step {step}{where}. "
                          "Try a smaller learning rate.")
