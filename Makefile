# formulae — two commands do everything on a fresh machine:
#   make report   set up (uv), ingest the default corpora, build the default reports
#   make test     set up (uv), run the whole test suite
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
RUN := $(UV) run --frozen
VENV_STAMP := .venv/.synced

.PHONY: help setup corpora report test check lint bench clean

help:
	@echo "make report   set up, ingest default corpora, build default reports"
	@echo "make test     set up, run the test suite"
	@echo "make check    tests + ruff"
	@echo "make bench    benchmarks (long; prints medians and ratios)"

$(UV):
	python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv

$(VENV_STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-groups
	@touch $@

setup: $(VENV_STAMP)

corpora: setup
	$(RUN) formulae ingest --all

report: corpora
	$(RUN) formulae report build --all

test: setup
	$(RUN) pytest -q

lint: setup
	$(RUN) ruff check analysis tests bench

check: test lint

bench: setup
	$(RUN) python bench/run.py

clean:
	rm -rf build reports/_build
