"""`weekly_report`: the weekly strategy report as an asset people read (spec 20 §7, fixes of §12).

Thin on purpose: read the stored market (warehouse) and the configured parameters, let
`reporting.weekly_run` gather the journal (read-only) and previous reports, build and write JSON + HTML, log both
to MLflow, post the Discord summary and attach the headline figures and links as metadata. The asset lives in
group `reports`, so the weekly job (Sunday 03:00 Asia/Seoul) ends with it; it is unpartitioned and reports the
week given by `report_date`, by default the latest scheduled report week covered by the data and the clock.
"""


import datetime as dt
from pathlib import Path
from typing import Any, Optional

import dagster as dg
import pandas as pd

from trader_runtime.config import WalkForwardConfig, load_runtime_settings
from trader_runtime.errors import ConfigError

from cointrader_pipelines.context_lineage import rounded, run_links
from cointrader_pipelines.defs.code_versions import strategy_code_version
from cointrader_pipelines.defs.reports.checks import REPORT_CHECKS, weekly_report_files_readable
from cointrader_pipelines.reporting.context import LS_SYMBOLS
from cointrader_pipelines.reporting.discord import format_weekly_summary
from cointrader_pipelines.reporting.weekly import ReportWindow, build_weekly_report, resolve_report_window
from cointrader_pipelines.reporting.weekly_run import (
    configured_strategies,
    default_journal_path,
    prepare_weekly_inputs,
    publish_weekly_report,
)
from cointrader_pipelines.resources.mlflow_tracker import MlflowResource
from cointrader_pipelines.resources.notifier import NotifierResource
from cointrader_pipelines.resources.strategy import StrategyResource
from cointrader_pipelines.resources.warehouse import WAREHOUSE_POOL, WarehouseResource
from cointrader_pipelines.settings import get_settings
from cointrader_pipelines.tracking import reports
from cointrader_pipelines.tracking.asset_runs import asset_run
from cointrader_pipelines.tracking.lineage import bytes_digest

GROUP = "reports"
ALL = dg.AllPartitionMapping()


class WeeklyReportConfig(dg.Config):
    """Which week, where the files go, and the walk-forward geometry of the report (train 3 / test 1 months)."""

    report_date: Optional[str] = None  # YYYY-MM-DD; None = latest report date covered by the data and the clock
    report_dir: Optional[str] = None  # None = COINTRADER_REPORT_DIR (results/weekly)
    journal_path: Optional[str] = None  # None = COINTRADER_JOURNAL or journal/trader-<mode>.sqlite
    train_months: int = 3
    test_months: int = 1
    sweep: bool = True
    notify: bool = True


def report_week(config: WeeklyReportConfig, markets: dict[str, pd.DataFrame], now: pd.Timestamp) -> ReportWindow:
    """The configured week, or the newest one whose end is covered by both the candles and `now`."""
    try:
        date = dt.date.fromisoformat(config.report_date) if config.report_date else None
    except ValueError:
        raise ConfigError(f"report_date={config.report_date!r} is not a date (YYYY-MM-DD)") from None
    return resolve_report_window(markets, get_settings().weekly_timezone, date, now)


def _metadata(data: dict[str, Any], outputs: Any, text: str) -> dict[str, Any]:
    s = data["backtest"]["summary"] or {}
    live = data["live"]
    issues = "\n".join(f"- **{i['section']}**: {i['message']}" for i in data["issues"]) or "none"
    return {
        "report_date": data["report_date"],
        "status": data["status"],
        "issues": dg.MetadataValue.md(issues),
        "profit_factor": s.get("profit_factor"),
        "win_rate": s.get("win_rate"),
        "max_drawdown_pct": s.get("max_drawdown_pct"),
        "total_trades": s.get("total_trades"),
        "live_trades_week": live["week"]["total_trades"] if live.get("available") else None,
        "retrain_recommended": data["ml_trigger"]["recommend"],
        "retrain_conditions_met": data["ml_trigger"]["met_count"],
        "verdict": (data.get("verdict") or {}).get("decision", "-"),
        "verdict_reason": (data.get("verdict") or {}).get("reason", "-"),
        "html_report": dg.MetadataValue.path(str(outputs.html_path.resolve())),
        "json_report": dg.MetadataValue.path(str(outputs.json_path.resolve())),
        "summary": dg.MetadataValue.md(text),
    }


@dg.asset(
    # reads published snapshots when the profile has them (no lock on the DuckDB file), else the file in the pool
    group_name=GROUP, pool=None if get_settings().warehouse_snapshots else WAREHOUSE_POOL, code_version=strategy_code_version(__file__),
    kinds={"html", "mlflow"},
    deps=[dg.AssetDep("combined_15m", partition_mapping=ALL), dg.AssetDep("ls_ratio", partition_mapping=ALL),
          dg.AssetDep("correlation_ls_ratio")],
    check_specs=REPORT_CHECKS,
)  # fmt: skip
def weekly_report(
    context: dg.AssetExecutionContext, config: WeeklyReportConfig, warehouse: WarehouseResource,
    mlflow: MlflowResource, notifier: NotifierResource, strategy: StrategyResource,
) -> dg.MaterializeResult:  # fmt: skip
    """Walk-forward per symbol, live statistics, trend, kill switch, ML checklist and (PF < 1) alternatives."""
    settings, runtime = get_settings(), load_runtime_settings()
    wh = warehouse.reader()
    markets = {s: wh.read_candles(s) for s in settings.symbol_list}
    ls = {short: wh.read_ls_ratio(symbol) for short, symbol in LS_SYMBOLS.items()}
    now = pd.Timestamp.now(tz="UTC")
    window = report_week(config, markets, now)
    out = Path(config.report_dir or settings.report_dir)
    journal = Path(config.journal_path) if config.journal_path else default_journal_path(runtime)
    wf = WalkForwardConfig(train_months=config.train_months, test_months=config.test_months)
    params = {s: strategy.for_symbol(s) for s in settings.symbol_list}
    strategies, mtf_params = configured_strategies(runtime, settings.symbol_list)
    inputs = prepare_weekly_inputs(window, markets, params, out, journal, ls, walk_forward=wf, sweep=config.sweep,
                                   strategies=strategies, mtf_params=mtf_params)  # fmt: skip
    outputs = publish_weekly_report(build_weekly_report(inputs, now), out)
    data = outputs.report.to_json_dict()
    digest = bytes_digest(outputs.json_path.read_bytes())
    with asset_run(context, mlflow, reports.WEEKLY_REPORT_EXPERIMENT, digest,
                   run_name=f"weekly_report {data['report_date']}", kind="weekly_report") as run:
        reports.log_weekly_report(data, [outputs.json_path, outputs.html_path])
    text = format_weekly_summary(data, link=run.url)
    sent = notifier.send(text) if config.notify else False
    context.log.info(f"weekly report {data['report_date']} ({data['status']}) → {outputs.html_path}")
    return dg.MaterializeResult(
        metadata=rounded({**_metadata(data, outputs, text), **run_links(run), "discord_sent": sent,
                          "html_report_url": dg.MetadataValue.url(
                              f"{mlflow.ui_url.rstrip('/')}/get-artifact?path=report/{outputs.html_path.name}"
                              f"&run_uuid={run.run_id}")}),
        data_version=dg.DataVersion(digest),
        check_results=[weekly_report_files_readable(outputs.html_path.resolve(), outputs.json_path.resolve())],
    )
