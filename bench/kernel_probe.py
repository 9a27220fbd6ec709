"""IPython startup file that the benchmark puts into the kernel of each chapter it runs.

:mod:`bench.chapters` copies this file into ``$IPYTHONDIR/profile_default/startup/`` of a temporary IPython
directory and starts the chapter's kernel with that ``IPYTHONDIR`` and ``DLFN_BENCH_PROBE=<json path>`` in its
environment. Inside the kernel it:

- listens to JAX's compilation events (``jax.monitoring`` time spans) and adds up, per event, the time spent
  tracing to a jaxpr, lowering to MLIR and compiling with XLA. Nested events (a jit traced inside another
  jit's trace) overlap, so the total compile time is the length of the *union* of all the intervals, not
  their sum;
- after every cell, rewrites the JSON file with those totals and the kernel's own peak resident memory
  (``getrusage(RUSAGE_SELF).ru_maxrss``), so the numbers survive however the kernel is shut down.

The JSON holds: ``started`` (epoch seconds when the probe loaded, i.e. kernel start), ``updated``,
``compile_s`` (union of all compile intervals), ``by_event`` ({event: summed seconds}), ``count``
({event: number of events}), ``maxrss_kib``, and ``cells``: the same numbers (with ``t``, the time) after
each executed cell, so that a measurement can stop at the chapter's last cell, before the benchmark's probe
cells.
"""

import json
import os
import resource
import time

import jax.monitoring

_STARTED = time.time()
_PATH = os.environ.get("DLFN_BENCH_PROBE")
_EVENTS = {
    "/jax/core/compile/jaxpr_trace_duration": "trace",
    "/jax/core/compile/jaxpr_to_mlir_module_duration": "lower",
    "/jax/core/compile/backend_compile_duration": "backend_compile",
}
_spans: list[tuple[float, float]] = []
_by_event = {name: 0.0 for name in _EVENTS.values()}
_count = {name: 0 for name in _EVENTS.values()}


def _on_span(event, start, end, **kwargs):
    name = _EVENTS.get(event)
    if name is not None:
        _spans.append((start, end))
        _by_event[name] += end - start
        _count[name] += 1


def _union_length(spans):
    """Total length of a union of intervals [(start, end), ...]."""
    total, cur_start, cur_end = 0.0, None, None
    for start, end in sorted(spans):
        if cur_end is None or start > cur_end:
            if cur_end is not None:
                total += cur_end - cur_start
            cur_start, cur_end = start, end
        else:
            cur_end = max(cur_end, end)
    if cur_end is not None:
        total += cur_end - cur_start
    return total


_cells: list[dict] = []  # one snapshot after every cell: the benchmark reads the chapter's last one, before probes


def _dump(*_args):
    if not _PATH:
        return
    now, maxrss = time.time(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    compile_s = _union_length(_spans)
    if _args:  # after a cell (IPython passes the result), not at startup
        _cells.append({"t": now, "compile_s": compile_s, "maxrss_kib": maxrss,
                       "by_event": dict(_by_event), "count": dict(_count)})
    report = {"started": _STARTED, "updated": now, "compile_s": compile_s, "by_event": _by_event, "count": _count,
              "maxrss_kib": maxrss, "cells": _cells}
    tmp = _PATH + ".tmp"
    with open(tmp, "w") as f:
        json.dump(report, f)
    os.replace(tmp, _PATH)


jax.monitoring.register_event_time_span_listener(_on_span)
try:
    get_ipython().events.register("post_run_cell", _dump)  # noqa: F821 (defined in IPython startup files)
except NameError:  # imported outside IPython (tests of this module): dump on demand only
    pass
_dump()
