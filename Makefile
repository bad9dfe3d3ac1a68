# Two entry points: `make demo` (fresh machine -> main job on the embedded synthetic market)
# and `make test` (fresh machine -> whole test suite). Both create .venv when it is missing.
PYTHON ?= $(shell command -v python3.12 2>/dev/null || ls -1 $$HOME/.pyenv/versions/3.12*/bin/python3.12 /root/.pyenv/versions/3.12*/bin/python3.12 2>/dev/null | head -n 1)
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: demo test setup ui mlflow-ui bench clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.12 not found; set PYTHON=/path/to/python3.12"; exit 1; }
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/cointrader demo

test: $(STAMP)
	$(VENV)/bin/python -m pytest -q

ui: $(STAMP)
	$(VENV)/bin/dagster dev -w workspace.yaml

mlflow-ui: $(STAMP)
	$(VENV)/bin/mlflow ui --backend-store-uri sqlite:///mlruns/mlflow.db --default-artifact-root ./mlruns/artifacts

bench: $(STAMP)
	$(VENV)/bin/python bench/run_all.py

clean:
	rm -rf $(VENV) .dagster_home .pytest_cache
