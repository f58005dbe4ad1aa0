# formulae — two commands do everything on a fresh machine:
#   make report   set up (uv), ingest the default corpora, build the default reports
#   make test     set up (uv), run the whole test suite
SHELL := /bin/bash
.DEFAULT_GOAL := help

# uv from PATH, else the copy pip installs into this Python (`python3 -m uv`).
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := python3 -m uv
endif
RUN := $(UV) run --frozen
# test workers (pytest-xdist); `make test TEST_WORKERS=0` runs the suite in one process
TEST_WORKERS ?= 2
VENV_STAMP := .venv/.synced

.PHONY: help setup corpora report test check lint types bench clean

help:
	@echo "make report   set up, ingest default corpora, build default reports"
	@echo "make test     set up, run the test suite"
	@echo "make check    tests + ruff + import layers + mypy"
	@echo "make bench    benchmarks (long; prints medians and ratios)"

$(VENV_STAMP): pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen --all-groups --compile-bytecode
	@touch $@

setup: $(VENV_STAMP)

corpora: setup
	$(RUN) formulae ingest --all

report: corpora
	$(RUN) formulae report build --all

test: setup
	$(RUN) pytest -q -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder

lint: setup
	$(RUN) ruff check analysis tests bench

check: test lint types

types: setup
	$(RUN) lint-imports
	$(RUN) mypy

bench: setup
	$(RUN) python bench/run.py

clean:
	rm -rf build reports/_build
