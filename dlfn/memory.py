"""Give the memory a kernel has freed back to the operating system after every cell.

XLA's compiler and numpy's temporaries allocate and free hundreds of megabytes through glibc's ``malloc``,
which keeps freed pages in its arenas instead of returning them. The process's resident memory then grows
cell after cell although little of it is in use, and Binder (which guarantees 1 GiB and stops a session at
2 GiB) counts resident memory. In ``recurrent_dynamics``, for instance, ``malloc_trim`` after the training
cell returns about 340 MiB of 700. Importing :mod:`dlfn` inside an IPython kernel registers
:func:`release_freed_memory` to run after each cell; it changes no number a chapter computes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

_LIBC = None
_INSTALLED: set[int] = set()


def _libc():
    global _LIBC
    if _LIBC is None:
        name = ctypes.util.find_library("c")
        try:
            lib = ctypes.CDLL(name) if name else None
            _LIBC = lib if lib is not None and hasattr(lib, "malloc_trim") else False
        except OSError:
            _LIBC = False
    return _LIBC


def release_freed_memory() -> bool:
    """Return freed heap pages to the operating system (glibc's ``malloc_trim(0)``).

    Returns True where it ran, False where the C library has no ``malloc_trim`` (macOS, Windows, musl),
    where there is nothing to do because those allocators return memory themselves or not at all.
    """
    lib = _libc()
    if not lib:
        return False
    lib.malloc_trim(0)
    return True


def _after_cell(*_args) -> None:
    release_freed_memory()


def install(shell=None) -> bool:
    """Run :func:`release_freed_memory` after every cell of ``shell`` (default: the running IPython shell).

    Registers once per shell; returns True if the callback is registered after the call.
    """
    if shell is None:
        ipython = sys.modules.get("IPython")
        shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or not hasattr(shell, "events") or not _libc():
        return False
    if id(shell) not in _INSTALLED:
        shell.events.register("post_run_cell", _after_cell)
        _INSTALLED.add(id(shell))
    return True
