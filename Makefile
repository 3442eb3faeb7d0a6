# One command each for set-up, the demo and the tests. Every target creates
# the virtual environment in .venv when it is missing and installs the pinned
# versions from constraints.txt.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
PIP_INSTALL := $(PIP) install --quiet --constraint constraints.txt

.PHONY: setup setup-dev setup-bench demo test test-slow bench browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP_INSTALL) --editable .
	touch $@

$(VENV)/.installed-dev: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP_INSTALL) --editable ".[dev]"
	touch $(VENV)/.installed $@

$(VENV)/.installed-bench: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP_INSTALL) --editable ".[dev,bench]"
	touch $(VENV)/.installed $(VENV)/.installed-dev $@

setup: $(VENV)/.installed

setup-dev: $(VENV)/.installed-dev

setup-bench: $(VENV)/.installed-bench

## Train, calibrate and tune on real handwritten digits; writes skcal-demo/.
demo: setup
	$(BIN)/skcal demo

## The test suite (slow checks excluded); installs headless Chromium with apt
## when it is missing and apt is available, for the report rendering test.
test: setup-dev browser
	$(BIN)/python -m pytest

test-slow: setup-dev browser
	$(BIN)/python -m pytest -m slow

bench: setup-bench
	$(BIN)/python benchmarks/bench_temperature.py
	$(BIN)/python benchmarks/bench_threshold.py
	$(BIN)/python benchmarks/bench_bootstrap.py

browser:
	@if command -v chromium >/dev/null 2>&1; then \
		echo "chromium: $$(command -v chromium)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else \
		echo "chromium is not installed and apt-get cannot run as root here;" \
		     "the report rendering test will be skipped."; \
	fi

clean:
	rm -rf $(VENV) skcal-demo .pytest_cache
