"""Random draws that compile in a fraction of the time `jax.random`'s take on CPU.

Plumbing, not science: these return exactly what `jax.random.normal`, `jax.random.uniform` and
`jax.random.bernoulli` return, bit for bit. They exist because on CPU (JAX 0.10.2, threefry2x32) XLA compiles
a draw slowly when its shape has two or more axes, and more slowly still under `jax.vmap` (which adds one): a
(3, 3, 8, 16) normal draw, or an MLP's initial weights under `jax.vmap` over seeds, compiles several times
slower than the same numbers drawn as a vector and reshaped (`python -m bench.draws` measures both on the
machine at hand; no timing is written here, where it would go stale). Every compiled program that contains
such a draw pays it again, and the chapters compile many. JAX generates the random bits of the flattened shape
and reshapes them, so drawing flat and reshaping gives the same numbers; `nbtests/test_package.py` checks that
for every function here, so a JAX upgrade that changes it fails the tests instead of silently changing the
book's results. (Inside a larger program XLA may fuse the arithmetic around a draw differently, so numbers
computed from it can differ in their last bits, as after any change to a program.) Every chapter uses them in
place of `jax.random`'s.
"""

import math

import jax


def _flat(shape):
    shape = tuple(int(s) for s in shape)
    return (math.prod(shape),), shape


def random_normal(key, shape, dtype=float):
    """Standard normal numbers of the given shape; equal to `jax.random.normal(key, shape, dtype)`."""
    flat, shape = _flat(shape)
    return jax.random.normal(key, flat, dtype).reshape(shape)


def random_uniform(key, shape, dtype=float, minval=0.0, maxval=1.0):
    """Uniform numbers in [minval, maxval); equal to `jax.random.uniform(key, shape, dtype, minval, maxval)`."""
    flat, shape = _flat(shape)
    return jax.random.uniform(key, flat, dtype, minval, maxval).reshape(shape)


def random_bernoulli(key, p, shape):
    """Booleans, True with probability p (a scalar); equal to `jax.random.bernoulli(key, p, shape)`."""
    flat, shape = _flat(shape)
    return jax.random.bernoulli(key, p, flat).reshape(shape)

