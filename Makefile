# The book's two commands: `make book` (build the site) and `make test` (run every check).
# Each creates .venv from requirements.txt (pinned by requirements.lock) if it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: book book-student test bench robustness lock audit clean help

help:
	@echo "make book   build the site into _build/html (executes every chapter)"
	@echo "make book-student  build the student edition (solutions removed) into _build/student/html"
	@echo "make test   run the tests: package, chapter claims, hygiene, book build + HTML checks"
	@echo "make test CHAPTER=slug  check one chapter (its tests and the house rules), without building the site"
	@echo "make robustness  run every chapter (or CHAPTER=slug) at base seeds 0-4 and rewrite robustness/report.json,"
	@echo "            which the ledger renders and the tests check is current (about an hour for the whole book)"
	@echo "make lock   regenerate requirements.lock from requirements.txt"
	@echo "make audit  check requirements.lock for known vulnerabilities (needs the internet; not in make test)"
	@echo "make bench  time every chapter (and, in its kernel, the chapter's own program against a reader's"
	@echo "            baseline) and the book build; writes bench/report.json, bench/report.md and the README table"
	@echo "            (python -m bench.readme redraws it); make bench CHAPTER=slug replaces that chapter's row"
	@echo "make clean  remove build outputs (not the venv)"

$(STAMP): requirements.txt requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet pip==26.3  # pinned too: the installer is part of the environment
	$(BIN)/python -m pip install --quiet -r requirements.txt -c requirements.lock
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 > /dev/null
	touch $(STAMP)

book: $(STAMP)
	$(BIN)/python -m tools.build

book-student: $(STAMP)
	$(BIN)/python -m tools.build --student

test: $(STAMP)
	$(BIN)/python -m pytest nbtests $(if $(CHAPTER),--chapter $(CHAPTER)) $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench.run $(if $(CHAPTER),--chapters $(CHAPTER)) $(BENCH_ARGS)

robustness: $(STAMP)
	$(BIN)/python -m tools.robustness $(if $(CHAPTER),--chapters $(CHAPTER)) $(ROBUSTNESS_ARGS)

lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet -r requirements.txt
	.lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^-e ' > requirements.lock
	rm -rf .lock-venv

# pip-audit asks PyPI's vulnerability service about every locked version: it needs the internet, so it is a
# step for a connected machine (the package-registry mirror on the book's build machines has no
# vulnerability data), run when the lock changes; make test checks that the lock is consistent.
audit:
	rm -rf .audit-venv && $(PYTHON) -m venv .audit-venv
	.audit-venv/bin/python -m pip install --quiet pip-audit==2.10.1
	.audit-venv/bin/pip-audit --strict --no-deps --disable-pip --progress-spinner off -r requirements.lock
	rm -rf .audit-venv

clean:
	rm -rf _build
