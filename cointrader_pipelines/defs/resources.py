"""Resource bindings for every asset, check, schedule and sensor, built once from `PipelineSettings`."""

from __future__ import annotations

import os

import dagster as dg

from cointrader_pipelines.resources.bulk_archive import BulkArchiveResource
from cointrader_pipelines.resources.market_api import MarketDataResource
from cointrader_pipelines.resources.mlflow_tracker import MlflowResource
from cointrader_pipelines.resources.notifier import NotifierResource
from cointrader_pipelines.resources.optuna_storage import OptunaResource
from cointrader_pipelines.resources.reports import ReportsResource
from cointrader_pipelines.resources.strategy import StrategyResource
from cointrader_pipelines.resources.warehouse import WarehouseResource
from cointrader_pipelines.settings import PipelineSettings, get_settings
from trader_runtime.config import load_runtime_settings


def build_resources(settings: PipelineSettings) -> dict[str, object]:
    """The resource set of one deployment (tests and the demo call this with their own settings)."""
    webhook = dg.EnvVar("DISCORD_WEBHOOK_URL") if os.environ.get("DISCORD_WEBHOOK_URL") else ""
    return {
        "market": MarketDataResource(
            source=settings.market_source,
            synthetic_days=settings.synthetic_days,
            synthetic_seed=settings.synthetic_seed,
            synthetic_end=settings.synthetic_end,
            parquet_dir=settings.parquet_dir,
            parquet_reference_symbol=settings.symbol_list[0],
            binance_rest_url=settings.binance_rest_url,
            bulk_source=settings.bulk_source,
            bulk_rest_tail=settings.bulk_rest_tail,
            backfill_days=settings.backfill_days,
            correlation_symbols=settings.correlation_list,
        ),
        "warehouse": WarehouseResource(path=str(settings.warehouse_path), snapshot_dir=settings.warehouse_snapshots),
        "bulk_archive": BulkArchiveResource(source=settings.bulk_source),
        "mlflow": MlflowResource(
            tracking_uri=settings.mlflow_tracking_uri,
            artifact_root=settings.mlflow_artifact_root,
            ui_url=settings.mlflow_ui_url,
            dagster_ui_url=settings.dagster_ui_url,
        ),
        "optuna": OptunaResource(storage_url=settings.optuna_storage, workers=settings.tuning_workers),
        "notifier": NotifierResource(webhook_url=webhook),
        "reports": ReportsResource(report_dir=str(settings.report_dir)),
        "strategy": StrategyResource.from_runtime(load_runtime_settings(), settings.symbol_list),
        "io_manager": dg.FilesystemIOManager(),
    }


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources=build_resources(get_settings()))
