"""Random draws with many axes that compile in a fraction of a second.

Plumbing, not science: these return exactly what `jax.random.normal`, `jax.random.uniform` and
`jax.random.bernoulli` return, bit for bit. They exist because on CPU (JAX 0.10.2, threefry2x32) XLA takes
seconds to compile a draw whose shape has three or more axes: 2.9 s for a (3, 3, 8, 16) normal draw, against
0.2 s for the same 1152 numbers drawn as a vector and reshaped, on the book's 2-core test machine, and
every compiled program that contains such a draw pays it again. JAX generates the random bits of the flattened
shape and reshapes them, so drawing flat and reshaping gives the same numbers; `nbtests/test_package.py`
checks that for every function here, so a JAX upgrade that changes it fails the tests instead of silently
changing the book's results. Used by `03_credit_assignment` (batches of examples), `07_inductive_biases`
(convolution kernels) and `09_baldwin_effect` (trials).
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
