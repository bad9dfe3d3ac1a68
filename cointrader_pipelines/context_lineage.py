"""Glue between a Dagster execution context and the MLflow tracking package: lineage tags and link metadata."""

from __future__ import annotations

import math
from typing import Any

import dagster as dg

from cointrader_pipelines.resources.mlflow_tracker import MlflowResource
from cointrader_pipelines.tracking.asset_runs import asset_lineage
from cointrader_pipelines.tracking.lineage import Lineage
from cointrader_pipelines.tracking.runs import RunRef


def lineage_for(context: dg.AssetExecutionContext, mlflow_res: MlflowResource, data_version: str) -> Lineage:
    """Lineage of the asset being materialised; `data_version` is the Dagster data version of its input."""
    return asset_lineage(context, mlflow_res, data_version)


def run_links(run: RunRef) -> dict[str, Any]:
    """Materialisation metadata pointing at an MLflow run."""
    return {"mlflow_run_id": run.run_id, "mlflow_run_url": dg.MetadataValue.url(run.url)}



def rounded(metadata: dict[str, Any], digits: int = 4) -> dict[str, Any]:
    """Plain floats rounded for the Dagster UI (0.5123 instead of 0.512345678901); other values unchanged.

    Integers, text and MetadataValue objects pass through; non-finite floats become text ("inf", "nan")."""
    out: dict[str, Any] = {}
    for key, value in metadata.items():
        if isinstance(value, float) and not isinstance(value, bool):
            out[key] = round(value, digits) if math.isfinite(value) else str(value)
        else:
            out[key] = value
    return out


def records_table(rows: list[dict[str, Any]], columns: dict[str, str], digits: int = 4) -> dg.TableMetadataValue:
    """Rows as Dagster table metadata; `columns` maps each column to its kind (string/int/float/bool)."""
    def cell(value: Any, kind: str) -> Any:
        if kind == "float":
            return None if value is None else (round(float(value), digits) if math.isfinite(float(value)) else str(value))
        return str(value)[:16] if kind == "string" else value

    schema = dg.TableSchema(columns=[dg.TableColumn(c, k) for c, k in columns.items()])
    return dg.MetadataValue.table([dg.TableRecord({c: cell(r.get(c), k) for c, k in columns.items()}) for r in rows],
                                  schema=schema)
