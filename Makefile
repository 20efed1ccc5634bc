# Holdfast: `make run` sets up and starts the bot; `make test` sets up and runs lint, types and tests.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint types unit bench emulator clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Holdfast needs Python 3.11 or newer; found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/python -m bot run

lint: $(VENV)/.installed-test
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

types: $(VENV)/.installed-test
	$(BIN)/mypy

unit: $(VENV)/.installed-test
	@test -x /usr/bin/chromium || echo "Note: the demo page's browser test will be skipped: install chromium: apt-get install chromium"
	$(BIN)/python -m pytest -q

test: lint types unit

bench: $(VENV)/.installed-test
	$(BIN)/python -m bench

emulator: $(VENV)/.installed-test
	$(BIN)/python -m tests.emulator

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

.PHONY: demo screenshots

# Try Holdfast in two minutes without Discord: prints the page's address (DEMO_PORT to choose
# the port, DEMO_NO_BROWSER=1 never to open a browser); Ctrl-C stops everything.
demo: $(VENV)/.installed-test
	$(BIN)/python -m demo

# The README's pictures of the demo (docs/demo-*.png), taken by its browser test.
screenshots: $(VENV)/.installed-test
	DEMO_SCREENSHOTS=docs $(BIN)/python -m pytest -q tests/e2e/test_demo_page.py
