"""What a report run records in MLflow: the report's headline figures and its files as artifacts.

Called inside an active run (`MlflowTracker.start_run`), like `records.py`. The weekly report's JSON and its
self-contained HTML page go under `report/`; research pages under `research/`. Parameters pass through
`clean_text` (no secret can reach the store, D17).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

import mlflow

from cointrader_pipelines.tracking.runs import MlflowTracker as T

WEEKLY_REPORT_EXPERIMENT = "cointrader-weekly-report"
RESEARCH_EXPERIMENT = "cointrader-research"


def log_weekly_report(report: Mapping[str, Any], files: Iterable[Path]) -> None:
    """Params (date, status, symbols, strategy parameters), metrics (backtest, live week, checklist) and files."""
    cfg = report["config"]
    T.log_params({"report_date": report["report_date"], "status": report["status"], "symbols": ",".join(cfg["symbols"]),
                  "schema_version": report["schema_version"], "week_start": report["week"]["start_time"],
                  "week_end": report["week"]["end_time"]})  # fmt: skip
    for symbol, params in cfg["params"].items():
        T.log_params(params, prefix=f"{symbol}.")
    if report["backtest"]["summary"]:
        T.log_metrics(report["backtest"]["summary"], prefix="backtest.")
    if report["live"].get("available"):
        T.log_metrics({k: v for k, v in report["live"]["week"].items() if k != "per_symbol"}, prefix="live_week.")
        T.log_metrics({"total_trades": report["live"]["cumulative"]["total_trades"]}, prefix="live_cumulative.")
    trigger = report["ml_trigger"]
    T.log_metrics({"met_count": trigger["met_count"], "recommend": trigger["recommend"]}, prefix="ml_trigger.")
    T.set_tags({"cointrader.report_status": report["status"], "cointrader.retrain_recommended": trigger["recommend"]})
    for path in files:
        mlflow.log_artifact(str(path), artifact_path="report")


def log_research(name: str, params: Mapping[str, Any], metrics: Mapping[str, Any], files: Iterable[Path]) -> None:
    """A research asset's inputs, headline numbers and its JSON/HTML files under `research/<name>/`."""
    T.log_params(params)
    T.log_metrics(metrics)
    for path in files:
        mlflow.log_artifact(str(path), artifact_path=f"research/{name}")
