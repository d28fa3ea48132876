# Every target installs what it needs from scratch: a fresh machine has only python3.11, pip and git.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
CONSTRAINTS := constraints/constraints-3.11.txt
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml $(CONSTRAINTS) 2>/dev/null | sha256sum | cut -c1-16)
PYTEST_ARGS ?=
# Each test file whole on one of two workers, longest first (tests/conftest.py orders the files).
XDIST := -n 2 --dist loadfile --no-loadscope-reorder
LINT_PATHS := $(wildcard provider tests dags benchmarks)

.PHONY: install bubblewrap lint typecheck test durations e2e bench demo sandbox constraints clean

$(PY):
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(PY) pyproject.toml $(CONSTRAINTS)
	$(PY) -m pip install --quiet -c $(CONSTRAINTS) -e ".[dev,e2e]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)
	@command -v bwrap >/dev/null 2>&1 || $(MAKE) --no-print-directory bubblewrap

# code_tests' namespace layer (isolation="strict"); without it the suite still runs, minus that layer.
bubblewrap:
	-@SUDO=$$([ "$$(id -u)" = 0 ] || echo "sudo -n"); \
	  $$SUDO apt-get install -y -qq bubblewrap >/dev/null 2>&1 \
	  || ($$SUDO apt-get update -qq >/dev/null 2>&1 && $$SUDO apt-get install -y -qq bubblewrap >/dev/null 2>&1) \
	  || echo "note: could not install bubblewrap; code_tests runs without its namespace layer"

lint: install
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)

typecheck: install
	$(VENV)/bin/mypy

# The whole suite: lint + type check + tests (unit, contract, integration, DAGs).
test: lint typecheck
	$(PY) -m pytest $(XDIST) --durations=20 $(PYTEST_ARGS)

# Rewrites tests/durations.json (seconds per test file): the order xdist hands files to workers, longest
# first (tests/support/scheduling.py). A scheduling hint only; refresh it when the slow tests change.
durations: install
	$(PY) -m pytest $(XDIST) -q --durations=0 $(PYTEST_ARGS) > durations-report.txt \
	  || (tail -40 durations-report.txt; exit 1)
	$(PY) tests/support/scheduling.py < durations-report.txt > tests/durations.json

# The real services (PostgreSQL, Redis, CeleryExecutor x2 workers, scheduler, dag-processor, triggerer,
# api-server) on 127.0.0.1, driven through the REST API; see tests/e2e/ and README "Running on a real Airflow".
e2e: install
	$(PY) -m tests.e2e

bench: install
	$(PY) -m benchmarks

# TASK=math|code|judge|tools picks the task family (default math).
TASK ?= math
demo: install
	$(PY) -m bedrock_rft_provider.demo --task $(TASK)

sandbox: install
	$(VENV)/bin/bedrock-rft sandbox

# Regenerate the lock file from a clean venv resolved against pyproject.toml.
constraints:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet --upgrade pip
	.venv-lock/bin/pip install --quiet -e ".[dev,e2e]"
	.venv-lock/bin/pip freeze --exclude-editable | grep -v '^-e' > $(CONSTRAINTS)
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache build *.egg-info
