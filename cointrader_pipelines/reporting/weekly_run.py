"""One weekly report from its sources to its files: the steps the Dagster asset and `cointrader report weekly` share.

`prepare_weekly_inputs` gathers what only files can give (the runtime journal, read-only; previous reports in the
report folder), `publish_weekly_report` writes `report_{date}.json` and the self-contained `report_{date}.html` and
formats the Discord text. Market frames come from the caller (warehouse, parquet or the synthetic market).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from trader_runtime.config import BacktestConfig, RuntimeSettings, StrategyParams, WalkForwardConfig
from trader_runtime.errors import DataError
from trader_runtime.market.symbols import exchange_lot_steps

from cointrader_pipelines.reporting.discord import format_weekly_summary
from cointrader_pipelines.reporting.html import render_weekly_html
from cointrader_pipelines.reporting.journal_trades import read_closed_trades, read_journal_strategies
from cointrader_pipelines.reporting.weekly import (
    ReportWindow,
    WeeklyInputs,
    WeeklyReport,
    load_reports,
    report_path,
    write_report_json,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WeeklyOutputs:
    """The written files and the Discord text of one report."""

    report: WeeklyReport
    json_path: Path
    html_path: Path
    summary_text: str


def default_journal_path(settings: RuntimeSettings) -> Path:
    """The journal the trader writes: COINTRADER_JOURNAL when set, else `journal/trader-<mode>.sqlite` (the same
    default as `cointrader trader`)."""
    if "journal_path" in settings.model_fields_set:
        return Path(settings.journal_path)
    return Path("journal") / f"trader-{settings.mode}.sqlite"


def configured_strategies(settings: RuntimeSettings, symbols: list[str]) -> tuple[dict[str, str], dict[str, Any]]:
    """({symbol: strategy}, {symbol: MTF parameters}) as the trader resolves them (STRATEGY / STRATEGY_<SYMBOL>,
    MTF_<PARAM>[_<SYMBOL>]), so the report's account trades each symbol with the trader's strategy."""
    names = {s: settings.strategy_name_for(s) for s in symbols}
    return names, {s: settings.strategy_params_for(s) for s in symbols if names[s] == "mtf-pullback"}


def load_live_trades(journal_path: Path | str | None) -> tuple[pd.DataFrame | None, str | None]:
    """(closed trades, None) or (None, why the live section is missing)."""
    if journal_path is None:
        return None, "no runtime journal is configured (COINTRADER_JOURNAL)"
    try:
        return read_closed_trades(journal_path), None
    except DataError as exc:
        return None, str(exc)


def prepare_weekly_inputs(
    window: ReportWindow,
    markets: Mapping[str, pd.DataFrame],
    params: Mapping[str, StrategyParams],
    report_dir: Path | str,
    journal_path: Path | str | None,
    ls_ratios: Mapping[str, pd.DataFrame] | None = None,
    backtest: BacktestConfig | None = None,
    walk_forward: WalkForwardConfig | None = None,
    sweep: bool = True,
    strategies: Mapping[str, str] | None = None,
    mtf_params: Mapping[str, Any] | None = None,
) -> WeeklyInputs:
    """Inputs with the journal's trades and the reports dated before this one; `sweep=False` never sweeps.
    `strategies` is each symbol's configured strategy (missing: weighted-signal), `mtf_params` the MTF pullback
    parameters of the symbols that trade it. Without `backtest`, the account sizes each symbol in its exchange lot
    step, as the trader and `cointrader backtest` do."""
    live, live_error = load_live_trades(journal_path)
    return WeeklyInputs(
        strategies=dict(strategies or {}),
        mtf_params=dict(mtf_params or {}),
        live_strategies=read_journal_strategies(journal_path) if journal_path is not None else {},
        live_source=f"runtime journal {journal_path}" if journal_path is not None else "runtime journal",
        window=window,
        markets=markets,
        params=params,
        backtest=backtest or BacktestConfig(quantity_steps=exchange_lot_steps(sorted(markets))),
        walk_forward=walk_forward or WalkForwardConfig(),
        ls_ratios=ls_ratios or {},
        live_trades=live,
        live_error=live_error,
        previous_reports=load_reports(report_dir, before=window.report_date.isoformat()),
        sweep=sweep,
    )


def publish_weekly_report(report: WeeklyReport, report_dir: Path | str, link: str | None = None) -> WeeklyOutputs:
    """Write JSON (strict, schema 1) and HTML; the Discord text links `link` or the HTML file."""
    json_path = write_report_json(report, report_dir)
    data = report.to_json_dict()
    html_path = report_path(report_dir, report.report_date, ".html")
    tmp = html_path.with_name(html_path.name + ".tmp")
    tmp.write_text(render_weekly_html(data), encoding="utf-8")
    tmp.replace(html_path)
    text = format_weekly_summary(data, link=link or html_path.resolve().as_uri())
    logger.info("weekly report %s (%s) written to %s", report.report_date, report.status, json_path)
    return WeeklyOutputs(report, json_path, html_path, text)
