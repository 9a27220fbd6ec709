"""``python -m bench.draws``: how long XLA takes to compile `jax.random` draws against `dlfn.draws`' flat ones,
the numbers `dlfn/draws.py` quotes, measured again on this machine."""

import time

import jax

from dlfn import random_normal


def _compile_seconds(fn, *args):
    start = time.perf_counter()
    jax.jit(fn).lower(*args).compile()
    return time.perf_counter() - start


def _mlp_init(draw):
    """Initial weights of a 64-128-10 MLP, vmapped over seeds, drawn with `draw`."""
    shapes = [(64, 128), (128, 10)]
    return jax.vmap(lambda k: [draw(ki, s) for ki, s in zip(jax.random.split(k), shapes, strict=True)])


if __name__ == "__main__":
    key = jax.random.key(0)
    cases = {
        "normal (3, 3, 8, 16)": (lambda k: jax.random.normal(k, (3, 3, 8, 16)),
                                 lambda k: random_normal(k, (3, 3, 8, 16)), key),
        "MLP initial weights, vmapped over 8 seeds": (_mlp_init(jax.random.normal), _mlp_init(random_normal),
                                                      jax.random.split(key, 8)),
    }
    for name, (theirs, ours, arg) in cases.items():
        print(f"{name}: jax.random {_compile_seconds(theirs, arg):.2f} s to compile, "
              f"dlfn.draws {_compile_seconds(ours, arg):.2f} s")
