"""Symbol comparison (spec 20 §6.1 with BT-19): the best grid combination of each symbol, side by side.

Input: each symbol's ranked sweep (`trader_runtime.backtest.sweep.run_sweep`, walk-forward, ML off). BT-19: the
best combination is the top-ranked one that reaches the minimum trade count (ranking: PF, then PnL, trades,
grid order); a symbol without such a combination has `best_params: None` and says why, instead of crowning a PF
earned on a handful of trades. The rules of thumb of the reference are kept as informational flags.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping, Sequence

from trader_runtime.backtest.sweep import DEFAULT_MIN_TRADES, SweepResult, run_sweep
from trader_runtime.config import BacktestConfig, StrategyParams, WalkForwardConfig
from trader_runtime.errors import DataError
from trader_runtime.strategy.pipeline import PreparedMarket

from cointrader_pipelines.reporting.html_parts import field
from cointrader_pipelines.reporting.trend import read_float

SUSTAINABLE_WIN_RATE = 50.0
SUSTAINABLE_PAYOFF = 1.0
BEARABLE_STREAK = 5
MEANINGFUL_TRADES = 20


def rules_of_thumb(summary: Mapping[str, Any]) -> dict[str, bool]:
    """Reference console hints: WR ≥ 50 % and payoff ≥ 1 → sustainable; ≤ 5 losses in a row → bearable;
    ≥ 20 trades → statistically meaningful."""
    payoff = read_float(summary, "payoff_ratio") or 0.0
    return {
        "sustainable": float(summary["win_rate"]) >= SUSTAINABLE_WIN_RATE and payoff >= SUSTAINABLE_PAYOFF,
        "bearable": int(summary["max_consecutive_losses"]) <= BEARABLE_STREAK,
        "meaningful": int(summary["total_trades"]) >= MEANINGFUL_TRADES,
    }


def best_row(sweep: SweepResult) -> dict[str, Any] | None:
    """Top-ranked combination with at least `sweep.min_trades` trades."""
    return next((row for row in sweep.rows if row.get("meets_min_trades")), None)


def sweep_markets(
    markets: Mapping[str, PreparedMarket],
    template: BacktestConfig,
    wf: WalkForwardConfig,
    combos: Sequence[StrategyParams] | None = None,
    workers: int | None = None,
    min_trades: int = DEFAULT_MIN_TRADES,
) -> tuple[dict[str, SweepResult], dict[str, str]]:
    """The grid sweep of every symbol; a symbol whose data cannot hold a fold keeps its DataError message."""
    sweeps: dict[str, SweepResult] = {}
    errors: dict[str, str] = {}
    for symbol, market in markets.items():
        cfg = replace(template, symbol=symbol)
        try:
            sweeps[symbol] = run_sweep(market, cfg, wf, combos, workers=workers, min_trades=min_trades, progress=False)
        except DataError as exc:
            errors[symbol] = str(exc)
    return sweeps, errors


def compare_symbols(sweeps: Mapping[str, SweepResult], errors: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """One row per symbol (sweep order, then failed symbols): best params and summary, or the reason for none."""
    rows: list[dict[str, Any]] = []
    for symbol, sweep in sweeps.items():
        best = best_row(sweep)
        qualified = sum(1 for r in sweep.rows if r.get("meets_min_trades"))
        rows.append(
            {
                "symbol": symbol,
                "best_params": best["params"] if best else None,
                "summary": best["summary"] if best else None,
                "rules_of_thumb": rules_of_thumb(best["summary"]) if best else None,
                "qualified_combos": qualified,
                "grid_size": len(sweep.rows),
                "min_trades": sweep.min_trades,
                "folds": sweep.folds,
                "reason": None if best else f"no combination reached {sweep.min_trades} trades",
            }
        )
    for symbol, message in (errors or {}).items():
        rows.append(
            {"symbol": symbol, "best_params": None, "summary": None, "rules_of_thumb": None, "qualified_combos": 0,
             "grid_size": 0, "min_trades": None, "folds": 0, "reason": message}
        )  # fmt: skip
    return rows


def comparison_markdown(rows: Sequence[Mapping[str, Any]]) -> str:
    """Markdown table for the Dagster UI."""
    lines = [
        "| symbol | SL/TP/sig/ADX/vol | trades | win % | payoff | max consec. losses | PF | return % | MDD % |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        s, p = row["summary"], row["best_params"]
        if s is None:
            lines.append(f"| {row['symbol']} | — ({row['reason']}) | | | | | | | |")
            continue
        params = f"{p['atr_sl_mult']}/{p['atr_tp_mult']}/{p['signal_threshold']}/{p['adx_threshold']}/{p['volume_multiplier']}"
        lines.append(
            f"| {row['symbol']} | {params} | {s['total_trades']} | {field(s, 'win_rate', 1)} | "
            f"{field(s, 'payoff_ratio')} | {s['max_consecutive_losses']} | {field(s, 'profit_factor')} | "
            f"{field(s, 'return_pct')} | {field(s, 'max_drawdown_pct')} |"
        )
    return "\n".join(lines)
