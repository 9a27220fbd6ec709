"""The book's benchmark: ``make bench`` (``python -m bench.run``).

It measures, on the machine it runs on, and reports (never asserts) against the targets of the issue
"Performance: a benchmark":

- every executed page's wall time from kernel start, peak memory and share of time spent compiling, at
  default parameters (:mod:`bench.chapters`, with :mod:`bench.kernel_probe` inside each kernel);
- the three heaviest training workloads, the book's batched implementation against the per-seed Python loop
  that course notebooks typically use, their FLOP/s as a fraction of the machine's float32 matmul peak, and
  what bounds them (:mod:`bench.workloads`, :mod:`bench.measure`);
- the book build, cold and warm (:mod:`bench.build`).

It writes ``bench/report.json`` (machine-readable), ``bench/report.md`` (every table, with the reasons for
missed targets) and the README's "How long does it take" table (:mod:`bench.readme`; ``python -m bench.readme``
redraws it from the committed report without measuring). Scratch output goes to ``_build/bench/``.

The compile share was checked against JAX's persistent compilation cache: with the cache warm, a chapter's wall
time drops by about the backend-compile time the probe measured without it (``baldwin_effect``: 9.1 s against
8.3 s).
"""
