"""Glue between a Dagster execution context and the MLflow tracking package: lineage tags and link metadata."""

from __future__ import annotations

from typing import Any

import dagster as dg

from cointrader_pipelines.resources.mlflow_tracker import MlflowResource
from cointrader_pipelines.tracking.lineage import Lineage
from cointrader_pipelines.tracking.runs import RunRef


def lineage_for(context: dg.AssetExecutionContext, mlflow_res: MlflowResource, data_version: str) -> Lineage:
    """Lineage of the asset being materialised; `data_version` is the Dagster data version of its input."""
    key = context.asset_key
    code_version = context.assets_def.code_versions_by_key.get(key) or "unversioned"
    return Lineage(
        dagster_run_id=context.run_id,
        asset_key=key.to_user_string(),
        partition_key=context.partition_key if context.has_partition_key else None,
        code_version=code_version,
        data_version=data_version,
        dagster_run_url=mlflow_res.dagster_run_url(context.run_id),
    )


def run_links(run: RunRef) -> dict[str, Any]:
    """Materialisation metadata pointing at an MLflow run."""
    return {"mlflow_run_id": run.run_id, "mlflow_run_url": dg.MetadataValue.url(run.url)}

