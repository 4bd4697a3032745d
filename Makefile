# journalkonvert — two commands on a fresh Debian 12 machine with Python 3.11:
#   make demo   install, then convert the bundled synthetic demo practice and say where the package is
#   make test   install, then run lint, types and the whole test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] && echo "" || (command -v sudo >/dev/null && echo sudo -n))

.PHONY: demo test lint typecheck unit bench bench-practice clean system-deps

demo: $(STAMP)
	$(PY) convert.py demo demo-output

test: $(STAMP) lint typecheck unit

lint: $(STAMP)
	$(VENV)/bin/ruff check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP)
	$(VENV)/bin/pytest -q -p no:cacheprovider

bench: $(STAMP)
	$(PY) -m benchmarks.convert_scaling --factors 1,20

# the demo practice at 10,000 and 100,000 patients: generator, conversion and a DuckDB baseline
bench-practice: $(STAMP)
	$(PY) -m benchmarks.practice_scaling --patients 10000,100000

# Python's venv module is a separate Debian package (python3-venv); install it where missing.
system-deps:
	@if ! $(PYTHON) -c 'import venv, ensurepip' >/dev/null 2>&1; then \
	  echo "python3-venv is missing; installing it with apt-get"; \
	  if [ "$$(id -u)" = 0 ] || [ -n "$(SUDO)" ]; then \
	    $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq python3-venv python3-pip; \
	  else \
	    echo "error: cannot install python3-venv: not root and no passwordless sudo."; \
	    echo "  -> run: sudo apt-get install python3-venv   then run make again"; exit 1; \
	  fi; \
	fi

$(STAMP): pyproject.toml | system-deps
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

clean:
	rm -rf $(VENV) demo-output build *.egg-info .mypy_cache .ruff_cache .pytest_cache .hypothesis
