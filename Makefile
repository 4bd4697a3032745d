# journalkonvert — two commands on a fresh Debian 12 machine with Python 3.11:
#   make demo   install, then convert the bundled synthetic demo practice and say where the package is
#   make test   install, then run lint, types and the whole test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] && echo "" || (command -v sudo >/dev/null && echo sudo -n))

.PHONY: demo test lint typecheck unit bench bench-practice bench-documents clean system-deps document-deps report-deps

demo: $(STAMP)
	$(PY) convert.py demo demo-output

test: $(STAMP) lint typecheck unit

lint: $(STAMP)
	$(VENV)/bin/ruff check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# the suite runs on up to 4 CPUs (pytest-xdist); each worker starts its own database servers
unit: $(STAMP)
	$(VENV)/bin/pytest -q -p no:cacheprovider -n auto --maxprocesses=4

bench: $(STAMP)
	$(PY) -m benchmarks.convert_scaling --factors 1,20

# the demo practice at 10,000 and 100,000 patients: generator, conversion and a DuckDB baseline
bench-practice: $(STAMP)
	$(PY) -m benchmarks.practice_scaling --patients 10000,100000

# documents/s and pages/s per input type, and the baseline of copying the bytes
bench-documents: $(STAMP)
	$(PY) -m benchmarks.document_throughput

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
	@$(MAKE) --no-print-directory document-deps
	@$(MAKE) --no-print-directory report-deps

# The report's HTML test (tests/test_report_html.py) opens the page in a real headless Chromium.
# Installed where missing; without it that test is skipped with this message.
report-deps:
	@if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then \
	  if command -v apt-get >/dev/null && { [ "$$(id -u)" = 0 ] || [ -n "$(SUDO)" ]; }; then \
	    echo "installing chromium for the report's browser test"; \
	    $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null \
	      || echo "warning: apt-get could not install chromium; the browser test will be skipped"; \
	  else \
	    echo "warning: chromium is missing; the report's browser test will be skipped."; \
	    echo "  -> run: sudo apt-get install chromium"; \
	  fi; \
	fi

# Document normalisation (docs/documents.md): WeasyPrint's C libraries, fonts with æøå, poppler
# (pdftotext), LibreOffice (RTF/DOC/DOCX/ODT), Ghostscript (PDFs whose fonts are not embedded).
# Installed where missing; without them the affected documents are kept as originals and reported.
DOC_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-liberation2 \
	poppler-utils ghostscript libreoffice-writer-nogui
document-deps:
	@missing=""; for p in $(DOC_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if ! command -v apt-get >/dev/null; then \
	    echo "warning: no apt-get; install these for document normalisation:$$missing"; \
	  elif [ "$$(id -u)" = 0 ] || [ -n "$(SUDO)" ]; then \
	    echo "installing for document normalisation:$$missing"; \
	    $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
	      --no-install-recommends $$missing >/dev/null || echo "warning: apt-get could not install:$$missing"; \
	  else \
	    echo "warning: documents of these kinds will be kept as originals only (not normalised)."; \
	    echo "  -> run: sudo apt-get install --no-install-recommends$$missing"; \
	  fi; \
	fi

$(STAMP): pyproject.toml | system-deps
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

clean:
	rm -rf $(VENV) demo-output build *.egg-info .mypy_cache .ruff_cache .pytest_cache .hypothesis
