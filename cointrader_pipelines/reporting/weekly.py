"""Weekly strategy report: assembly of all steps of spec 20 §7.2 (with the §12 fixes) and its files.

`build_weekly_report` takes values only (market frames cut at the report time, live trades, previous reports,
`generated_time`) and never raises for missing or malformed optional inputs: each problem becomes an entry in
`issues` and the report's `status` becomes "partial". The JSON layout is documented in SCHEMA.md
(`schema_version: 1`); files are written under the one strict-JSON rule of `backtest.serialization` (BT-13).
`load_latest_checklist` is what the retrain sensor reads.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from trader_runtime.backtest.serialization import to_jsonable, write_json
from trader_runtime.config import BacktestConfig, StrategyParams, WalkForwardConfig
from trader_runtime.domain.schema import BAR
from trader_runtime.errors import DataError
from trader_runtime.strategy.mtf_pullback.params import MTFParams
from trader_runtime.strategy.pipeline import PreparedMarket, prepare_market
from trader_runtime.strategy.registry import DEFAULT_STRATEGY

from cointrader_pipelines.reporting.alternatives import sweep_alternatives
from cointrader_pipelines.reporting.context import market_context
from cointrader_pipelines.reporting.journal_trades import normalize_live_trades
from cointrader_pipelines.reporting.live import in_window, kill_switch_view, live_statistics
from cointrader_pipelines.reporting.verdict import decide, journal_kind
from trader_runtime.backtest.figures import risk_figures
from cointrader_pipelines.reporting.performance import (
    SymbolRun,
    run_account_walk_forward,
    daily_equity,
    run_symbol_walk_forwards,
)
from cointrader_pipelines.reporting.strategies import strategy_comparison
from cointrader_pipelines.reporting.trend import build_trend, read_float, retrain_checklist

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
REPORT_PREFIX = "report_"
DEFAULT_TIMEZONE = "Asia/Seoul"
DEFAULT_HOUR = 3
SUNDAY = 6  # Python weekday number
SWEEP_BELOW_PF = 1.0
MTF_STRATEGY = "mtf-pullback"


@dataclass(frozen=True)
class ReportWindow:
    """The report's week [start, end) in UTC; `report_date` is the local date of `end` (D14)."""

    report_date: dt.date
    start: pd.Timestamp
    end: pd.Timestamp
    timezone: str

    def as_dict(self) -> dict[str, str]:
        return {"start_time": self.start.isoformat(), "end_time": self.end.isoformat(), "timezone": self.timezone}


def report_window(report_date: dt.date, timezone: str = DEFAULT_TIMEZONE, hour: int = DEFAULT_HOUR) -> ReportWindow:
    """Week ending at `report_date` `hour`:00 local time; the start is the same local time seven days earlier."""
    end = pd.Timestamp(dt.datetime.combine(report_date, dt.time(hour))).tz_localize(timezone)
    start = pd.Timestamp(dt.datetime.combine(report_date - dt.timedelta(days=7), dt.time(hour))).tz_localize(timezone)
    return ReportWindow(report_date, start.tz_convert("UTC"), end.tz_convert("UTC"), timezone)


def latest_report_date(
    at: pd.Timestamp, timezone: str = DEFAULT_TIMEZONE, hour: int = DEFAULT_HOUR, weekday: int = SUNDAY
) -> dt.date:
    """The most recent scheduled report date whose window has ended at or before `at`."""
    local = pd.Timestamp(at).tz_convert(timezone)
    day = local.date() - dt.timedelta(days=(local.weekday() - weekday) % 7)
    if report_window(day, timezone, hour).end > at:
        day -= dt.timedelta(days=7)
    return day


def resolve_report_window(
    markets: Mapping[str, pd.DataFrame],
    timezone: str = DEFAULT_TIMEZONE,
    report_date: dt.date | None = None,
    now: pd.Timestamp | None = None,
) -> ReportWindow:
    """The week a report covers: `report_date`'s, else the newest scheduled week whose end both the candles and
    the clock have reached. The one place that decides it, so `cointrader report weekly` and the Dagster
    `weekly_report` asset report the same week from the same data."""
    if report_date is not None:
        return report_window(report_date, timezone)
    now = pd.Timestamp.now(tz="UTC") if now is None else now
    ends = []
    for frame in markets.values():
        if len(frame):
            last = pd.Timestamp(frame["timestamp"].iloc[-1] if "timestamp" in frame.columns else frame.index[-1])
            ends.append((last if last.tzinfo else last.tz_localize("UTC")) + BAR)
    return report_window(latest_report_date(min([now, *ends]), timezone), timezone)


@dataclass
class WeeklyInputs:
    """Everything one report needs, as values. `markets` may extend past the window; candles that close after
    `window.end` are dropped so the report only sees what was known at report time."""

    window: ReportWindow
    markets: Mapping[str, pd.DataFrame]
    params: Mapping[str, StrategyParams]
    backtest: BacktestConfig = field(default_factory=BacktestConfig)
    walk_forward: WalkForwardConfig = field(default_factory=WalkForwardConfig)
    ls_ratios: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    live_trades: pd.DataFrame | None = None
    live_source: str = "runtime journal"
    live_error: str | None = None
    previous_reports: Sequence[Mapping[str, Any]] = ()
    sweep_combos: Sequence[StrategyParams] | None = None
    sweep_below_pf: float = SWEEP_BELOW_PF
    sweep: bool = True
    #: each symbol's configured strategy (STRATEGY / STRATEGY_<SYMBOL>); missing symbols trade the weighted signal
    strategies: Mapping[str, str] = field(default_factory=dict)
    #: MTF pullback parameters of the symbols configured for it (missing: its defaults)
    mtf_params: Mapping[str, Any] = field(default_factory=dict)
    #: {symbol: strategy} the journal's trader ran (its status record), for the live section
    live_strategies: Mapping[str, str] = field(default_factory=dict)


@dataclass
class WeeklyReport:
    """The assembled report (`data`, Python floats incl. ±inf) and the strict-JSON form written to disk."""

    data: dict[str, Any]

    @property
    def status(self) -> str:
        return str(self.data["status"])

    @property
    def report_date(self) -> str:
        return str(self.data["report_date"])

    def to_json_dict(self) -> dict[str, Any]:
        return to_jsonable(self.data)


def _known_at(frame: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """Candles closed by `end` (open time + 15 min <= end)."""
    return frame[frame.index + BAR <= end] if isinstance(frame.index, pd.DatetimeIndex) else frame


def _prepare(inputs: WeeklyInputs, issues: list[dict[str, str]]) -> dict[str, PreparedMarket]:
    prepared: dict[str, PreparedMarket] = {}
    for symbol, frame in inputs.markets.items():
        try:
            known = _known_at(frame.set_index("timestamp") if "timestamp" in frame.columns else frame, inputs.window.end)
            if known.empty:
                raise DataError(f"{symbol}: no candles closed before {inputs.window.end.isoformat()}")
            prepared[symbol] = prepare_market(known, symbol)
        except DataError as exc:
            issues.append({"section": "backtest", "message": str(exc)})
    if not inputs.markets:
        issues.append({"section": "backtest", "message": "no market data was given for any symbol"})
    return prepared


def _fold_rows(run: SymbolRun, frame: pd.DataFrame, ls: Mapping[str, pd.DataFrame]) -> list[dict[str, Any]]:
    rows = []
    for f in run.result.folds if run.result is not None else []:
        context, note = market_context(frame, ls, f.test_start, f.test_end)
        rows.append(
            {
                "fold": f.fold,
                "train_start": f.train_start,
                "train_end": f.train_end,
                "test_start": f.test_start,
                "test_end": f.test_end,
                "summary": f.summary,
                "market_context": context,
                "market_context_note": note,
            }
        )
    return rows


def _symbol_section(run: SymbolRun, market: PreparedMarket | None, ls: Mapping[str, pd.DataFrame]) -> dict[str, Any]:
    frame = market.frame if market is not None else pd.DataFrame()
    out: dict[str, Any] = {
        "params": run.params.as_dict(),
        "data": {
            "rows": len(frame),
            "first_time": frame.index[0] if len(frame) else None,
            "last_time": frame.index[-1] if len(frame) else None,
        },
        "error": run.error,
        "summary": None,
        "validation": None,
        "halts": [],
        "folds": [],
    }
    if run.result is not None:
        out.update(
            summary=run.result.summary,
            validation=run.result.validation.get("overall"),
            halts=run.result.halts,
            folds=_fold_rows(run, frame, ls),
        )
    return out


def _backtest_section(
    inputs: WeeklyInputs, prepared: Mapping[str, PreparedMarket], issues: list[dict[str, str]]
) -> tuple[dict[str, Any], dict[str, SymbolRun]]:
    params = {s: inputs.params.get(s, StrategyParams()) for s in prepared}
    runs = run_symbol_walk_forwards(prepared, params, inputs.backtest, inputs.walk_forward)
    for run in runs.values():
        if run.error:
            issues.append({"section": "backtest", "message": run.error})
    results = {s: r.result for s, r in runs.items() if r.result is not None}
    section: dict[str, Any] = {
        "summary": None,
        "per_symbol": {s: _symbol_section(r, prepared.get(s), inputs.ls_ratios) for s, r in runs.items()},
        "trades": [],
        "equity_daily": [],
        "halted_periods": [],
    }
    if results:
        # the account view: every symbol that could be backtested on one shared account, as the trader runs them,
        # each with its configured strategy
        names = {s: inputs.strategies.get(s, DEFAULT_STRATEGY) for s in results}
        account = None
        if any(n == MTF_STRATEGY for n in names.values()):
            try:
                account = _mixed_account(inputs, prepared, names, params)
            except DataError as exc:
                issues.append({"section": "backtest", "message": f"the account ran the weighted signal for every "
                               f"symbol: the MTF pullback could not run ({exc})"})  # fmt: skip
                names = {s: DEFAULT_STRATEGY for s in results}
        if account is None:
            account = (
                next(iter(results.values())) if len(results) == 1
                else run_account_walk_forward({s: prepared[s] for s in results}, params, inputs.backtest, inputs.walk_forward)
            )  # fmt: skip
        section["strategies"] = names
        trades = account.trades
        section["summary"] = {**account.summary, "initial_balance": inputs.backtest.initial_balance,
                              "equity_basis": "mark_to_market", "account": "shared"}  # fmt: skip
        section["trades"] = trades
        section["equity_daily"] = daily_equity(account.equity)
        section["halted_periods"] = account.halted_periods
        if trades.empty:
            issues.append({"section": "backtest", "message": "the walk-forward backtest produced no trades"})
    return section, runs


def _mixed_account(inputs: WeeklyInputs, prepared: Mapping[str, PreparedMarket], names: Mapping[str, str],
                   params: Mapping[str, StrategyParams]) -> Any:  # fmt: skip
    """The shared-account walk-forward with MTF pullback symbols next to weighted-signal ones (the MTF decisions
    solved with the account's positions, `strategy.mtf_pullback.account`)."""
    from dataclasses import replace

    from trader_runtime.strategy.mtf_pullback.account import run_mtf_account
    from trader_runtime.strategy.mtf_pullback.params import MTFParams

    mtf = [s for s in sorted(names) if names[s] == MTF_STRATEGY]
    frames = {s: _known_frame(inputs, s) for s in mtf}
    fixed = {s: prepared[s] for s in sorted(names) if names[s] != MTF_STRATEGY}
    symbols = tuple(sorted(names))
    cfg = replace(inputs.backtest, symbol=symbols[0], symbols=symbols if len(symbols) > 1 else ())
    mtf_params = {s: inputs.mtf_params.get(s) or MTFParams() for s in mtf}
    run = run_mtf_account(frames, cfg, mtf_params, wf=inputs.walk_forward, fixed=fixed,
                          fixed_params={s: params[s] for s in fixed})  # fmt: skip
    return run.result


def _known_frame(inputs: WeeklyInputs, symbol: str) -> pd.DataFrame:
    f = inputs.markets[symbol]
    return _known_at(f.set_index("timestamp") if "timestamp" in f.columns else f, inputs.window.end)


def _live_sections(inputs: WeeklyInputs, symbols: Sequence[str], issues: list[dict[str, str]]) -> tuple[dict, dict]:
    w = inputs.window
    reason = inputs.live_error or f"no {inputs.live_source} was given"
    trades = None
    if inputs.live_trades is not None:
        try:
            trades = normalize_live_trades(inputs.live_trades, inputs.live_source)
        except DataError as exc:
            reason = str(exc)
    if trades is None:
        issues.append({"section": "live", "message": reason})
        return {"available": False, "source": inputs.live_source, "reason": reason, "journal_kind": "unknown"}, {}
    trades = trades[trades["exit_time"] < w.end]
    modes = sorted(set(trades["mode"].astype(str))) if "mode" in trades.columns else []
    live = {"available": True, "source": inputs.live_source, "modes": modes, "journal_kind": journal_kind(modes),
            "strategies": dict(inputs.live_strategies), **live_statistics(trades, w.start, w.end)}
    live["week_trades"] = in_window(trades, w.start, w.end)
    if trades.empty:
        issues.append({"section": "live", "message": f"the {inputs.live_source} has no closed trades yet"})
    return live, kill_switch_view(trades, symbols, inputs.backtest.risk)


def _shared_params(params: Mapping[str, StrategyParams]) -> StrategyParams | None:
    distinct = set(params.values())
    return next(iter(distinct)) if len(distinct) == 1 else None


def _sweep_section(
    inputs: WeeklyInputs, prepared: Mapping[str, PreparedMarket], runs: Mapping[str, SymbolRun], summary: Mapping | None
) -> dict[str, Any]:
    if summary is None or int(summary["total_trades"]) == 0:
        return {"ran": False, "applied": False, "reason": "no backtest trades to judge the parameters by"}
    pf = read_float(summary, "profit_factor")
    if not inputs.sweep:
        return {"ran": False, "applied": False, "reason": "parameter sweep disabled for this run"}
    if pf is None or pf >= inputs.sweep_below_pf:
        reason = f"combined PF {pf:.2f} ≥ {inputs.sweep_below_pf:g}: current parameters kept, no sweep needed"
        return {"ran": False, "applied": False, "reason": reason}
    markets = {s: prepared[s] for s, r in runs.items() if r.result is not None}
    current = _shared_params({s: runs[s].params for s in markets})
    return sweep_alternatives(markets, inputs.backtest, inputs.walk_forward, current, summary, inputs.sweep_combos)


def _figures(backtest: Mapping[str, Any]) -> dict[str, Any] | None:
    """Sortino, Calmar, SQN, longest drawdown and the breakdowns of the pooled walk-forward result."""
    if backtest["summary"] is None:
        return None
    trades = backtest["trades"]
    frame = trades if isinstance(trades, pd.DataFrame) else pd.DataFrame(list(trades))
    if frame.empty:
        frame = pd.DataFrame({"net_pnl": pd.Series(dtype="float64"), "close_reason": [], "symbol": []})
    figures = risk_figures(frame, backtest["equity_daily"], float(backtest["summary"]["initial_balance"]))
    for sym, group in figures["by_symbol"].items():  # which strategy traded each symbol on the account
        group["strategy"] = backtest.get("strategies", {}).get(sym, DEFAULT_STRATEGY)
    return figures


def _strategies_section(inputs: WeeklyInputs, prepared: Mapping[str, PreparedMarket],
                        runs: Mapping[str, SymbolRun]) -> dict[str, Any]:  # fmt: skip
    """Weighted signal vs MTF pullback per symbol on the same test months (reporting/strategies.py)."""
    known = {}
    for s, f in inputs.markets.items():
        if s in prepared:
            known[s] = _known_at(f.set_index("timestamp") if "timestamp" in f.columns else f, inputs.window.end)
    trades = {s: (r.result.trades if r.result is not None else None) for s, r in runs.items()}
    return strategy_comparison(known, trades, inputs.backtest, inputs.walk_forward)


def build_weekly_report(inputs: WeeklyInputs, generated_time: pd.Timestamp) -> WeeklyReport:
    """Assemble every section; problems become `issues` and a "partial" status, never an exception."""
    issues: list[dict[str, str]] = []
    prepared = _prepare(inputs, issues)
    backtest, runs = _backtest_section(inputs, prepared, issues)
    symbols = list(inputs.markets)
    live, kill = _live_sections(inputs, symbols, issues)
    data: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "report_date": inputs.window.report_date.isoformat(),
        "generated_time": pd.Timestamp(generated_time).tz_convert("UTC"),
        "week": inputs.window.as_dict(),
        "config": {
            "symbols": symbols,
            "params": {s: inputs.params.get(s, StrategyParams()).as_dict() for s in symbols},
            "strategies": {s: inputs.strategies.get(s, DEFAULT_STRATEGY) for s in symbols},
            "mtf_params": {s: (inputs.mtf_params.get(s) or MTFParams()).as_dict() for s in symbols
                           if inputs.strategies.get(s) == MTF_STRATEGY},
            "walk_forward": {
                "train_months": inputs.walk_forward.train_months,
                "test_months": inputs.walk_forward.test_months,
                "step_months": inputs.walk_forward.step,
            },
            "initial_balance": inputs.backtest.initial_balance,
            "leverage": inputs.backtest.leverage,
            "fee_pct": inputs.backtest.fee_pct,
            "slippage_pct": inputs.backtest.slippage_pct,
            "ml": "off",
        },
        "backtest": backtest,
        "live": live,
        "kill_switch": kill,
    }
    trend = build_trend(inputs.previous_reports, data)
    if len(trend["points"]) < 2:
        issues.append({"section": "trend", "message": "fewer than two weekly points; the trend starts next week"})
    data["trend"] = trend
    summary = backtest["summary"]
    cumulative = live["cumulative"]["total_trades"] if live.get("available") else None
    data["ml_trigger"] = retrain_checklist(
        cumulative,
        read_float(summary, "profit_factor") if summary is not None else None,
        int(summary["total_trades"]) if summary is not None else 0,
        trend["pf_declining_3w"],
    )
    data["sweep"] = _sweep_section(inputs, prepared, runs, summary)
    data["figures"] = _figures(backtest)
    data["verdict"] = decide(summary, live, kill)


    data["strategies"] = _strategies_section(inputs, prepared, runs)
    data["issues"] = issues
    data["status"] = "partial" if issues else "complete"
    return WeeklyReport(data)


# ---------------------------------------------------------------------------------------------------- files


def report_path(report_dir: Path | str, report_date: str, suffix: str = ".json") -> Path:
    return Path(report_dir) / f"{REPORT_PREFIX}{report_date}{suffix}"


def write_report_json(report: WeeklyReport, report_dir: Path | str) -> Path:
    """`report_{date}.json` (replaces a same-date file atomically)."""
    return write_json(report_path(report_dir, report.report_date), report.to_json_dict())


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        logger.warning("skipping unreadable report %s: %s", path, exc)
        return None
    return data if isinstance(data, dict) else None


def load_reports(report_dir: Path | str, before: str | None = None) -> list[dict[str, Any]]:
    """Readable `report_*.json` files (oldest first), optionally only those dated strictly before `before`."""
    folder = Path(report_dir)
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob(f"{REPORT_PREFIX}*.json")):
        date = path.stem[len(REPORT_PREFIX) :]
        if before is not None and date >= before:
            continue
        data = _read(path)
        if data is not None:
            out.append(data)
    return out


def load_latest_checklist(report_dir: Path | str) -> dict[str, Any] | None:
    """The ML retraining checklist of the newest readable report in `report_dir` (a folder of
    `report_{YYYY-MM-DD}.json`), with `report_date`, `report_path` and `schema_version` added; None if none."""
    folder = Path(report_dir)
    if not folder.is_dir():
        return None
    for path in sorted(folder.glob(f"{REPORT_PREFIX}*.json"), reverse=True):
        data = _read(path)
        trigger = data.get("ml_trigger") if data is not None else None
        if isinstance(trigger, dict) and isinstance(trigger.get("recommend"), bool):
            return {
                **trigger,
                "report_date": data.get("report_date", data.get("date")),  # type: ignore[union-attr]
                "report_path": str(path),
                "schema_version": data.get("schema_version"),  # type: ignore[union-attr]
            }
    return None
