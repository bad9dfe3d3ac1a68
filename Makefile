# Two entry points: `make demo` (fresh machine -> main job on the embedded synthetic market)
# and `make test` (fresh machine -> whole test suite). Both create .venv when it is missing.
PYTHON ?= $(shell for p in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12 /root/.pyenv/versions/3.12*/bin/python3.12 /usr/local/bin/python3.12 /usr/bin/python3.12; do $$p -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV := .venv
STAMP := $(VENV)/.installed
STACK_STAMP := $(VENV)/.installed-stack

.PHONY: demo test setup ui mlflow-ui bench clean stack-deps stack-up stack-ui stack-down stack-test

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.12 not found; set PYTHON=/path/to/python3.12"; exit 1; }
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	@# setuptools prints an informational banner for every editable install; it is not a problem of this project
	PYTHONWARNINGS='ignore:Editable installation' $(VENV)/bin/python -m pip install -q -e '.[dev]'
	@# compile the numba kernels once here, not in the first backtest or trader start (about 20 CPU-s otherwise)
	$(VENV)/bin/python -m trader_runtime.warm
	@touch $(STAMP)

# the [stack] extra (dagster-postgres, dagster-celery, psycopg2) for the distributed profile and its tests
$(STACK_STAMP): $(STAMP)
	PYTHONWARNINGS='ignore:Editable installation' $(VENV)/bin/python -m pip install -q -e '.[dev,stack]'
	@touch $(STACK_STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/cointrader demo

# The suite, then the distributed profile's integration test (tests/stack: PostgreSQL, Redis, MLflow server, Celery
# workers on loopback, hence the Debian packages; it shares one stack, so it runs alone, after the rest).
# Tests run in TEST_WORKERS parallel processes (pytest-xdist; every test keeps its stores in its own tmp folder and
# binds free loopback ports); many of them wait on sockets, child processes and the replay clock, so three workers
# keep two cores busy. Work stealing moves queued tests off a worker held by a long one. TEST_WORKERS=0: one process.
TEST_WORKERS ?= 3
# The suite's temporary folders (pytest's tmp_path and every child's temp files) go to a RAM file system when one
# with at least 4 GiB free is mounted at /dev/shm: the tests commit thousands of small sqlite and DuckDB
# transactions (Dagster event logs, MLflow stores, trade journals), and on a disk each one waits for its fsync.
# Same files, same libraries, no disk wait. TEST_TMPDIR=/some/dir picks another folder; TEST_TMPDIR= keeps $$TMPDIR.
TEST_TMPDIR ?= $(shell test -d /dev/shm -a -w /dev/shm && test "$$(df -Pk /dev/shm | awk 'NR==2 {print $$4}')" -ge 4194304 && echo /dev/shm)
# The run gets a folder of its own there, removed when the suite passes (a RAM folder would otherwise hold pytest's
# last three runs, 1-2 GB) and kept, with its path printed, when it fails.
# Python may write its bytecode cache there even where the shell sets PYTHONDONTWRITEBYTECODE: the suite starts
# hundreds of interpreters (CLI commands, crash and restart tests) that would each compile the project's modules again.
SUITE := env -u PYTHONDONTWRITEBYTECODE $(VENV)/bin/python -m pytest -q -n $(TEST_WORKERS) --dist worksteal --ignore=tests/stack
test: $(STACK_STAMP) stack-deps
	$(if $(TEST_TMPDIR),@dir=$$(mktemp -d "$(TEST_TMPDIR)/ct-tests.XXXXXX") && echo "test files in $$dir" && \
	    if TMPDIR=$$dir $(SUITE); then rm -rf "$$dir"; else echo "test files kept in $$dir (remove it when done)"; exit 1; fi,$(SUITE))
	$(VENV)/bin/python -m pytest -q -m "slow or not slow" tests/stack

# Dagster instance in .dagster_home/ (git-ignored; the same one `make demo` writes to), configured by a copy of
# deploy/dagster/dagster.yaml (kept out of the repository root, where `dagster dev` would warn that it is ignored)
ui: $(STAMP)
	@mkdir -p .dagster_home && cp deploy/dagster/dagster.yaml .dagster_home/dagster.yaml
	@# `dagster dev` says it is superseded by `dg dev` (a separate package this project does not install)
	DAGSTER_HOME=$(CURDIR)/.dagster_home PYTHONWARNINGS='ignore:Function `dev_command` is superseded' $(VENV)/bin/dagster dev -w workspace.yaml

mlflow-ui: $(STAMP)
	$(VENV)/bin/mlflow ui --backend-store-uri sqlite:///mlruns/mlflow.db --default-artifact-root ./mlruns/artifacts

bench: $(STAMP)
	$(VENV)/bin/python bench/run_all.py

# The distributed profile on loopback (deploy/stack/README.md): PostgreSQL, Redis, MLflow server, Dagster daemon,
# Celery workers; state and generated credentials (0600) in .stack/ (git-ignored)
STACK := $(VENV)/bin/python deploy/stack/stack.py

stack-deps:
	@bash deploy/stack/install-deps.sh

stack-up: $(STACK_STAMP) stack-deps
	$(STACK) up

stack-ui: $(STACK_STAMP) stack-deps
	$(STACK) up --ui

stack-down:
	@test -x $(VENV)/bin/python && $(STACK) down || true

stack-test: $(STACK_STAMP) stack-deps
	$(VENV)/bin/python -m pytest -q -m "slow or not slow" tests/stack

clean:
	rm -rf $(VENV) .dagster_home .pytest_cache
