"""The book's machinery, shared by the tests (``nbtests/``), the benchmark (``bench/``) and the site
(``_ext/``): which files are chapters, and how to read back what a chapter glued."""
