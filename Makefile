# Holdfast: `make run` sets up and starts the bot; `make test` sets up and runs lint, types and tests.
# Dependencies are installed from the hash-locked files in requirements/ (`make lock` updates them).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --generate-hashes \
	--no-emit-index-url --no-emit-find-links --strip-extras --allow-unsafe

.PHONY: run install test lint types unit bench emulator lock lock-upgrade clean sim

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Holdfast needs Python 3.11 or newer; found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The Dockerfile runs these same two pip commands (tests/test_deploy.py keeps them in step).
$(VENV)/.installed-run: pyproject.toml requirements/run.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/run.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

# The demo needs only what running needs, and jsonschema for the emulator: a quicker first start.
$(VENV)/.installed-demo: pyproject.toml requirements/demo.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/demo.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@ $(VENV)/.installed-run

$(VENV)/.installed-test: pyproject.toml requirements/test.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/test.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@ $(VENV)/.installed-run $(VENV)/.installed-demo

install: $(VENV)/.installed-run

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

# The seeded simulation: SIM_SEEDS worlds of SIM_GROUPS groups over SIM_DAYS days under faults
# (`make test` runs a few small ones and the regression list; see README, "Simulation").
SIM_SEEDS ?= 0-199
SIM_DAYS ?= 365
SIM_GROUPS ?= 20
SIM_JOBS ?= $(shell nproc 2>/dev/null || echo 1)
# Tier 2 (`--real`): the real discord.py client against the emulator, in small, busier worlds.
SIM_REAL_SEEDS ?= 0-9
SIM_REAL_DAYS ?= 20
SIM_REAL_GROUPS ?= 2
SIM_REAL_OPS ?= 3
sim: $(VENV)/.installed-test
	$(BIN)/python -m tests.sim --seeds $(SIM_SEEDS) --days $(SIM_DAYS) --groups $(SIM_GROUPS) \
		--jobs $(SIM_JOBS)
	$(BIN)/python -m tests.sim --seeds $(SIM_REAL_SEEDS) --days $(SIM_REAL_DAYS) \
		--groups $(SIM_REAL_GROUPS) --ops $(SIM_REAL_OPS) --jobs $(SIM_JOBS) --real

# Re-lock after changing dependencies in pyproject.toml (keeps other pins as they are);
# lock-upgrade moves every pin to the newest release the ranges allow.
lock: $(VENV)/.installed-test
	$(PIP_COMPILE) $(LOCK_FLAGS) -o requirements/run.txt pyproject.toml
	$(PIP_COMPILE) $(LOCK_FLAGS) --extra test -o requirements/test.txt pyproject.toml
	$(PIP_COMPILE) $(LOCK_FLAGS) --extra demo -c requirements/test.txt -o requirements/demo.txt pyproject.toml

lock-upgrade: LOCK_FLAGS = --upgrade
lock-upgrade: lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

.PHONY: demo screenshots

# Try Holdfast in two minutes without Discord: prints the page's address (DEMO_PORT to choose
# the port, DEMO_NO_BROWSER=1 never to open a browser); Ctrl-C stops everything.
demo: $(VENV)/.installed-demo
	$(BIN)/python -m demo

# The README's pictures of the demo (docs/demo-*.png), taken by its browser test.
screenshots: $(VENV)/.installed-test
	DEMO_SCREENSHOTS=docs $(BIN)/python -m pytest -q tests/e2e/test_demo_page.py
