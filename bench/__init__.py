"""The book's benchmark: ``make bench`` (``python -m bench.run``).

It measures, on the machine it runs on, and reports (never asserts) against the book's targets:

- every executed page's wall time from kernel start, peak memory and share of time spent compiling, at
  default parameters, run through the book's one runner (:mod:`tools.run`; :mod:`bench.chapters`, with
  :mod:`bench.kernel_probe` inside each kernel);
- for the chapters with a probe (``bench/probes/<slug>.py``, a cell appended to the chapter's own run), the
  chapter's own compiled program, timed warm, against what a reader would otherwise run on the same sizes: a
  trial-by-trial Hinton-Nowlan simulation for ``baldwin_effect``, the four credit-assignment rules in NumPy for
  ``credit_assignment``. A probe asserts that the program it timed reproduces the chapter's result exactly, so
  the benchmark can never time a copy that has drifted from its chapter;
- the book build, cold and warm (:mod:`bench.build`).

It writes ``bench/report.json`` (machine-readable), ``bench/report.md`` (every table) and the README's "How long
does it take" table (:mod:`bench.readme`; ``python -m bench.readme`` redraws them from the committed report
without measuring). ``make bench CHAPTER=slug`` measures one chapter and replaces its row. Scratch output goes to
``_build/bench/``.
"""
