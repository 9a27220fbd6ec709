"""Data that ships inside scikit-learn, so nothing is downloaded at run time.

``load_digits`` (1797 images of 8x8 handwritten digits) is used by several chapters, first by
``inductive_biases``.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np


@functools.cache
def _digits():
    from sklearn.datasets import load_digits

    d = load_digits()
    images = (d.images / 16.0).astype(np.float32)
    labels = d.target.astype(np.int32)
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def load_digits_images():
    """The sklearn digits as ``(images, labels)``.

    Returns:
        images: float32 array of shape ``(1797, 8, 8)``, pixel values scaled to ``[0, 1]``.
        labels: int32 array of shape ``(1797,)``, values 0..9.
    """
    images, labels = _digits()
    return images.copy(), labels.copy()


def digits_split(*, key: jax.Array, n_test: int, n_total: int = 1797):
    """A random split of example indices into a test set and a pool for training.

    Args:
        key: keyword-only JAX key (vmap over keys for one split per seed).
        n_test: size of the test set.
        n_total: number of examples.

    Returns:
        ``(test_idx, pool_idx)`` with shapes ``(n_test,)`` and ``(n_total - n_test,)``.
    """
    if not 0 < n_test < n_total:
        raise ValueError(f"n_test must be in [1, {n_total - 1}]; got {n_test}")
    perm = jax.random.permutation(key, n_total)
    return perm[:n_test], perm[n_test:]


def one_hot(labels, n_classes: int = 10):
    """One-hot encoding, shape ``labels.shape + (n_classes,)``."""
    return jax.nn.one_hot(jnp.asarray(labels), n_classes)
