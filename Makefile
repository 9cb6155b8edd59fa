# orderhub: the two commands are `make demo` and `make test`. Everything else is a helper.
# Works on a fresh machine with only python3 (3.11+) and pip: the venv is built on first use.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Re-install whenever the dependency list changes (the stamp is older than pyproject.toml).
VENV_STAMP := $(VENV)/.installed

DAGSTER_HOME ?= $(CURDIR)/dagster_home
HUB_DATA_DIR ?= $(CURDIR)/var
UI_HOST ?= 127.0.0.1
UI_PORT ?= 3000
PYTEST_ARGS ?=

.PHONY: demo test lint faults ui venv system-deps dagster-home clean

venv: $(VENV_STAMP)

$(VENV_STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# uv installs the whole set in ~15 s (pip: 20-40 s); compiled bytecode halves Dagster's first start.
	@test -x $(BIN)/uv || $(BIN)/pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip install --python $(BIN)/python --compile-bytecode -e '.[dev]'
	@touch $@

system-deps:
	@scripts/install-system-deps.sh

# A UI started from a fresh home shows a "join the community" pop-up over everything: mark it seen.
dagster-home:
	@mkdir -p $(DAGSTER_HOME)/.nux
	@test -f $(DAGSTER_HOME)/.nux/nux.yaml || printf 'seen: 1\n' > $(DAGSTER_HOME)/.nux/nux.yaml

demo: venv dagster-home
	DAGSTER_HOME=$(DAGSTER_HOME) HUB_DATA_DIR=$(HUB_DATA_DIR) $(BIN)/python -m sandbox demo

# pytest exits 5 when it collects nothing: that is a broken selection or layout, never a pass.
test: venv system-deps lint
	@status=0; $(BIN)/pytest $(PYTEST_ARGS) || status=$$?; \
	if [ $$status -eq 5 ]; then \
	  echo "make test: pytest collected no tests (exit 5); failing on purpose: check PYTEST_ARGS and tests/." >&2; \
	fi; \
	exit $$status

# Static checks of the whole tree: the one-way package graph (import-linter), then style and bug patterns
# (ruff), then types (mypy); each configured in pyproject.toml. `ruff format` is not part of it.
# Last, `dg check defs`: the Dagster code location loads ([tool.dg]; defs.yaml files against their
# component's schema), with the repository's partner profiles; no server, no network, no HUB_* secret.
# VIRTUAL_ENV names the venv dg should run the project in (it warns when it differs from .venv); the
# project's DAGSTER_HOME has telemetry off, which is where dg looks (not in pyproject.toml).
lint: venv dagster-home
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff check .
	$(BIN)/mypy
	DAGSTER_HOME=$(DAGSTER_HOME) VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/dg check defs

# The whole fault-injection suite (tests/faults/), slow scenarios included; `make test` runs its fast subset.
faults: venv system-deps
	$(BIN)/pytest tests/faults -m faults $(PYTEST_ARGS)

# Foreground UI + daemon over the demo's data, with the sandbox SFTP server and ERP running so the
# sensors and jobs work from the UI. `python -m sandbox ui` runs `dagster dev` in its own session with default
# signal handling (a `dagster dev` that inherits an ignored SIGINT would ignore Ctrl-C and SIGTERM).
ui: venv dagster-home
	DAGSTER_HOME=$(DAGSTER_HOME) HUB_DATA_DIR=$(HUB_DATA_DIR) $(BIN)/python -m sandbox ui --host $(UI_HOST) --port $(UI_PORT)

# Keeps the instance configuration (yaml + README) and drops runs, event logs, storage and data.
clean:
	rm -rf $(HUB_DATA_DIR)
	find $(DAGSTER_HOME) -mindepth 1 -maxdepth 1 \
	  ! -name dagster.yaml ! -name dagster.postgres.yaml ! -name README.md -exec rm -rf {} +
