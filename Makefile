# SpineGuide — two commands on a fresh machine: `make run` and `make test`.
# The interpreter of the virtual environment: the distribution's own Python 3 (/usr/bin/python3)
# when it is 3.11 or newer and has venv, else the first python3 on PATH. Debian's interpreter is
# linked statically and built with profile-guided optimisation; a source build with
# --enable-shared (pyenv's default) runs the assessment about 5-7 % slower on this machine
# (bench/bench_assess.py prints which interpreter it ran on). Override: make PYTHON=/path/python3
PYTHON ?= $(firstword $(foreach p,/usr/bin/python3 python3,$(shell $(p) -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && echo $(p))) python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: run test bench lint format install install-dev clean eval

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[server]'
	touch $@

$(DEVSTAMP): pyproject.toml $(STAMP)
	$(BIN)/pip install --quiet -e '.[server,dev]'
	touch $@

install: $(STAMP)
install-dev: $(DEVSTAMP)

## run: install into .venv and start the server on the embedded default (SQLite), demo account printed
run: $(STAMP)
	$(BIN)/spineguide kb validate
	$(BIN)/spineguide serve --seed-demo

## test: install dev dependencies and run the whole test suite (exit 5 = no tests = failure)
test: $(DEVSTAMP)
	@$(BIN)/python -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

## bench: benchmarks that print ratios against a peer measured in the same run (~6 min on 2 idle cores)
bench: $(DEVSTAMP)
	$(BIN)/pip install --quiet -e '.[server,dev,bench]'
	$(BIN)/python bench/bench_startup.py
	$(BIN)/python bench/bench_assess.py
	$(BIN)/python bench/bench_imaging.py
	@if [ -f bench/bench_notes.py ]; then $(BIN)/python bench/bench_notes.py; \
	else echo "bench/bench_notes.py not present: note-reader benchmark not run"; fi
	@command -v wrk >/dev/null || echo "wrk not installed (apt-get install -y wrk): bench_api falls back to an httpx driver that competes with the server for the CPU"
	$(BIN)/python bench/bench_api.py --duration 15
	$(BIN)/python bench/bench_web.py
	$(BIN)/python bench/bench_batch.py --records 100000 --memory-records 10000

## eval: accuracy on the shared development sets
eval: $(STAMP)
	$(BIN)/spineguide eval cases ../shared/cases/dev_vignettes.jsonl
	$(BIN)/spineguide eval imaging ../shared/imaging/dev_reports.jsonl

lint: $(DEVSTAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

format: $(DEVSTAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
