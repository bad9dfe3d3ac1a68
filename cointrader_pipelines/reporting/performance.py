"""Walk-forward backtest per symbol and combined figures computed from the pooled trades (spec 20 §7.2 steps 2-3).

The combined account is the sum of the per-symbol accounts: its base is `initial_balance × symbols`, its trade
figures come from all trades sorted by exit time (spec 20 §2 definitions via `backtest.metrics`), and its
drawdown and Sharpe from the summed mark-to-market equity curves (D13). Without equity curves (hand-built trade
lists) the closed-trade equity at each exit is used instead, still with the peak starting at the base (BT-04).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping

import numpy as np
import pandas as pd

from trader_runtime.backtest.engine import MS_PER_DAY, BacktestResult
from trader_runtime.backtest.metrics import summarize
from trader_runtime.backtest.walk_forward import run_walk_forward
from trader_runtime.config import BacktestConfig, StrategyParams, WalkForwardConfig
from trader_runtime.errors import DataError
from trader_runtime.strategy.pipeline import PreparedMarket

EQUITY_COLUMN = "equity"


@dataclass
class SymbolRun:
    """A symbol's walk-forward result, or why there is none."""

    symbol: str
    params: StrategyParams
    result: BacktestResult | None
    error: str | None = None


def run_symbol_walk_forwards(
    markets: Mapping[str, PreparedMarket],
    params: Mapping[str, StrategyParams],
    template: BacktestConfig,
    wf: WalkForwardConfig,
) -> dict[str, SymbolRun]:
    """One walk-forward per symbol (ML off). A symbol whose data cannot hold a fold keeps its DataError message."""
    runs: dict[str, SymbolRun] = {}
    for symbol, market in markets.items():
        cfg = replace(template, symbol=symbol, params=params[symbol])
        try:
            runs[symbol] = SymbolRun(symbol, params[symbol], run_walk_forward(market, cfg, wf))
        except DataError as exc:
            runs[symbol] = SymbolRun(symbol, params[symbol], None, str(exc))
    return runs


def run_account_walk_forward(
    markets: Mapping[str, PreparedMarket],
    params: Mapping[str, StrategyParams],
    template: BacktestConfig,
    wf: WalkForwardConfig,
) -> BacktestResult:
    """All symbols on one shared account, as the trader runs them (D18/D19: balance, positions, kill switches and
    day base carry across folds; liquidation and funding booked; equity never below zero)."""
    from trader_runtime.backtest.portfolio import run_portfolio_walk_forward

    symbols = tuple(sorted(markets))
    cfg = replace(template, symbol=symbols[0], symbols=symbols if len(symbols) > 1 else ())
    return run_portfolio_walk_forward([markets[s] for s in symbols], cfg, wf, symbol_params=params)


def pooled_trades(results: Mapping[str, BacktestResult]) -> pd.DataFrame:
    """All trades of all symbols, sorted by exit time (stable: fold order, then symbol order, on ties)."""
    frames = [r.trades for r in results.values() if not r.trades.empty]
    if not frames:
        template = next(iter(results.values())).trades if results else pd.DataFrame()
        return template.iloc[0:0].copy()
    return pd.concat(frames, ignore_index=True).sort_values("exit_time", kind="stable").reset_index(drop=True)


def combined_equity(results: Mapping[str, BacktestResult], initial_balance: float) -> pd.Series:
    """Sum of the per-symbol mark-to-market curves on the union of their timestamps (a symbol counts its
    initial balance before its first point and its last value after its last point)."""
    curves = [r.equity for r in results.values() if len(r.equity)]
    if not curves:
        return pd.Series(dtype=np.float64, name=EQUITY_COLUMN)
    if len(results) == 1:
        return curves[0].rename(EQUITY_COLUMN)
    index = curves[0].index
    for c in curves[1:]:
        index = index.union(c.index)
    total = pd.Series(0.0, index=index, name=EQUITY_COLUMN)
    for r in results.values():
        aligned = r.equity.reindex(index).ffill().fillna(initial_balance) if len(r.equity) else initial_balance
        total = total + aligned
    return total.rename(EQUITY_COLUMN)


def closed_trade_equity(trades: pd.DataFrame, base: float) -> pd.Series:
    """Equity after each closed trade (exit-time order), indexed by exit time."""
    ordered = trades.sort_values("exit_time", kind="stable")
    values = base + np.cumsum(ordered["net_pnl"].to_numpy(np.float64))
    return pd.Series(values, index=pd.DatetimeIndex(ordered["exit_time"]), name=EQUITY_COLUMN)


def combined_summary(trades: pd.DataFrame, base: float, equity: pd.Series | None = None) -> dict[str, object]:
    """Spec 20 §2 figures of the pooled trades plus D13 drawdown/Sharpe of `equity` (closed-trade curve if None)."""
    ordered = trades.sort_values("exit_time", kind="stable")
    curve = closed_trade_equity(ordered, base) if equity is None else equity
    day = (curve.index.as_unit("ms").asi8 // MS_PER_DAY) if len(curve) else np.zeros(0, dtype=np.int64)
    fees = (ordered["entry_fee"] + ordered["exit_fee"]).to_numpy(np.float64)
    summary = summarize(
        ordered["net_pnl"].to_numpy(np.float64),
        fees,
        ordered["close_reason"].astype(str).tolist(),
        curve.to_numpy(np.float64),
        day,
        base,
    )
    summary["initial_balance"] = base
    summary["equity_basis"] = "closed_trades" if equity is None else "mark_to_market"
    return summary


def daily_equity(equity: pd.Series) -> list[dict[str, object]]:
    """End-of-day values (UTC dates) for plots and the JSON file."""
    if not len(equity):
        return []
    daily = equity.groupby(equity.index.floor("D")).last()
    return [{"date": d.date().isoformat(), "equity": round(float(v), 4)} for d, v in daily.items()]
