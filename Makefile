# Two entry points: `make demo` (fresh machine -> main job on the embedded synthetic market)
# and `make test` (fresh machine -> whole test suite). Both create .venv when it is missing.
PYTHON ?= $(shell for p in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12 /root/.pyenv/versions/3.12*/bin/python3.12 /usr/local/bin/python3.12 /usr/bin/python3.12; do $$p -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: demo test setup ui mlflow-ui bench clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.12 not found; set PYTHON=/path/to/python3.12"; exit 1; }
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	@# setuptools prints an informational banner for every editable install; it is not a problem of this project
	PYTHONWARNINGS='ignore:Editable installation' $(VENV)/bin/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/cointrader demo

test: $(STAMP)
	$(VENV)/bin/python -m pytest -q

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

clean:
	rm -rf $(VENV) .dagster_home .pytest_cache
