"""Synthetic markets for the research assets and an MLflow store in tmp_path (telemetry off: tests stay local)."""

from __future__ import annotations

import os

import pytest

from fixtures.mlflow_store import fresh_store, mlflow_template  # noqa: F401  (fixture)
from trader_runtime.market.synthetic import generate_market

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


@pytest.fixture(scope="session")
def frames() -> dict:
    """Two symbols of one seeded year (the same BTC/ETH paths), as combined 15m frames."""
    return {s: generate_market(s, 365, 7).combined for s in ("XRPUSDT", "SOLUSDT")}


@pytest.fixture(scope="session")
def mlflow_dir(tmp_path_factory, mlflow_template):
    """One MLflow store for the session (MLflow caches a store per URI; one URI keeps teardown quiet), starting as
    a copy of the initialised template."""
    folder = tmp_path_factory.mktemp("mlflow")
    fresh_store(mlflow_template, folder, "mlflow.db")
    return folder
