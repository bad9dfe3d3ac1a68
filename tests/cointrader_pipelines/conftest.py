"""Pipeline test fixtures: settings whose every store (warehouse, MLflow, Optuna, reports, IO) lives in tmp_path."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from cointrader_pipelines.defs.resources import build_resources
from cointrader_pipelines.settings import PipelineSettings


def tmp_settings(root: Path, **changes) -> PipelineSettings:
    values = dict(
        synthetic_days=60,
        warehouse_path=root / "warehouse" / "market.duckdb",
        mlflow_tracking_uri=f"sqlite:///{root}/mlruns/mlflow.db",
        mlflow_artifact_root=str(root / "mlruns" / "artifacts"),
        optuna_storage=f"sqlite:///{root}/optuna/optuna.db",
        report_dir=root / "results" / "weekly",
    )
    values.update(changes)
    return PipelineSettings(**values)


def tmp_resources(settings: PipelineSettings, root: Path) -> dict[str, object]:
    resources = build_resources(settings)
    resources["io_manager"] = dg.FilesystemIOManager(base_dir=str(root / "io"))
    return resources


@pytest.fixture
def settings(tmp_path: Path) -> PipelineSettings:
    return tmp_settings(tmp_path)
