"""Parameter alternatives when the combined profit factor is below 1 (spec 20 §7.2 step 9 with BT-19).

Every grid combination is run walk-forward with all symbols on one shared account (the portfolio sweep), so the
ranking uses account-level figures: the account's trades, its mark-to-market equity, liquidations and funding. Combinations
whose signal settings produce no signal in any tested window are pruned before simulation (dead grid points such
as signal threshold 4/5 on the reference data). Ranking is the sweep's BT-19 rule (minimum trade count first,
then PF, PnL, trades, grid order). The result is a suggestion: nothing is ever applied.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Mapping, Sequence

import numpy as np

from trader_runtime.backtest.sweep import DEFAULT_MIN_TRADES, grid_combinations, run_sweep, signal_key
from trader_runtime.backtest.walk_forward import walk_forward_windows
from trader_runtime.config import BacktestConfig, StrategyParams, WalkForwardConfig
from trader_runtime.strategy.pipeline import PreparedMarket

from cointrader_pipelines.reporting.performance import run_account_walk_forward

TOP_ALTERNATIVES = 3
SUMMARY_KEYS = (
    "total_trades", "profit_factor", "win_rate", "total_pnl", "return_pct", "max_drawdown_pct", "sharpe",
    "payoff_ratio", "max_consecutive_losses",
)  # fmt: skip


def _short(summary: Mapping[str, object]) -> dict[str, object]:
    return {k: summary[k] for k in SUMMARY_KEYS if k in summary}


def live_signal_keys(markets: Mapping[str, PreparedMarket], wf: WalkForwardConfig, combos: Sequence[StrategyParams]) -> set:
    """Signal settings that produce at least one signal inside some test window of some symbol."""
    alive: set = set()
    for market in markets.values():
        idx = market.index
        windows = walk_forward_windows(idx[0], idx[-1], wf) if len(idx) else []
        masks = [(idx >= w.test_start) & (idx < w.test_end) for w in windows]
        if not masks:
            continue
        tested = np.logical_or.reduce(masks)
        for params in combos:
            key = signal_key(params)
            if key not in alive and np.any(market.signals(params).signal[tested] != 0):
                alive.add(key)
    return alive


def evaluate_pooled(
    markets: Mapping[str, PreparedMarket], template: BacktestConfig, wf: WalkForwardConfig, params: StrategyParams
) -> dict[str, object]:
    """Account-level walk-forward summary of one parameter set with all symbols on one shared account."""
    return run_account_walk_forward(markets, {s: params for s in markets}, template, wf).summary


def _account_template(markets: Mapping[str, PreparedMarket], template: BacktestConfig) -> BacktestConfig:
    symbols = tuple(sorted(markets))
    return replace(template, symbol=symbols[0], symbols=symbols if len(symbols) > 1 else ())


def sweep_alternatives(
    markets: Mapping[str, PreparedMarket],
    template: BacktestConfig,
    wf: WalkForwardConfig,
    current: StrategyParams | None,
    current_summary: Mapping[str, object],
    combos: Sequence[StrategyParams] | None = None,
    top: int = TOP_ALTERNATIVES,
    min_trades: int = DEFAULT_MIN_TRADES,
) -> dict[str, object]:
    """Top `top` combinations other than `current` (None when symbols run different parameters), each with its
    profit-factor difference to the current combined figure."""
    combos = list(grid_combinations() if combos is None else combos)
    alive = live_signal_keys(markets, wf, combos)
    chosen = [p for p in combos if signal_key(p) in alive and p != current]
    if chosen:
        result = run_sweep(list(markets.values()), _account_template(markets, template), wf, combos=chosen, workers=1,
                           min_trades=min_trades, progress=False)  # fmt: skip
        ranked = result.rows
    else:
        ranked = []
    rows = ranked
    current_pf = float(current_summary["profit_factor"])  # type: ignore[arg-type]
    alternatives = []
    for row in ranked[:top]:
        summary = row["summary"]
        pf = float(summary["profit_factor"])  # type: ignore[index, arg-type]
        alternatives.append(
            {
                "rank": row["rank"],
                "params": row["params"],
                "summary": _short(summary),  # type: ignore[arg-type]
                "meets_min_trades": row["meets_min_trades"],
                "pf_delta": round(pf - current_pf, 2) if math.isfinite(pf - current_pf) else pf - current_pf,
            }
        )
    return {
        "ran": True,
        "applied": False,
        "current": {"params": None if current is None else current.as_dict(), "summary": _short(current_summary)},
        "alternatives": alternatives,
        "evaluated": len(rows),
        "pruned_dead": sum(1 for p in combos if signal_key(p) not in alive),
        "grid_size": len(combos),
        "min_trades": min_trades,
    }
