"""Research on the MTF pullback: a parameter sweep and a walk-forward evaluation (unit size, bps, platform rules).

Sweep: every combination of `params.SWEEP_GRID` over one period, ranked by profit factor (combinations with fewer
than `min_trades` trades rank last). Walk-forward: calendar-month folds (the same geometry as the weighted
strategy's); in each fold the best combination of the training months is traded on the following test months,
next to the default parameters, so the table shows what choosing parameters on the past would have earned.
Indicators are computed once per data set and shared by all combinations; each run is one compiled loop.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trader_runtime.backtest.walk_forward import walk_forward_windows
from trader_runtime.config import WalkForwardConfig
from trader_runtime.errors import DataError
from trader_runtime.strategy.mtf_pullback import kernel as K
from trader_runtime.strategy.mtf_pullback.backtest import first_candle, run_kernel, window_bounds
from trader_runtime.strategy.mtf_pullback.market import MTFMarket
from trader_runtime.strategy.mtf_pullback.metrics import bps_stats, trade_returns
from trader_runtime.strategy.mtf_pullback.params import SWEEP_GRID, MTFParams, MTFRules

DEFAULT_MIN_TRADES = 20
_MS = pd.Timedelta(milliseconds=1)


def grid_params(grid: dict[str, tuple] | None = None, base: MTFParams | None = None) -> list[MTFParams]:
    grid = grid or SWEEP_GRID
    base = base or MTFParams()
    keys = list(grid)
    return [base.replace(**dict(zip(keys, values))) for values in itertools.product(*(grid[k] for k in keys))]


def period_returns(market: MTFMarket, params: MTFParams, rules: MTFRules, start: pd.Timestamp | None,
                   end_exclusive: pd.Timestamp | None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(side, net return) of every trade of [start, end) without building frames (sweeps call this thousands of times)."""
    lo, hi = window_bounds(market, start, None if end_exclusive is None else end_exclusive - _MS)
    if hi <= lo:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    first, trade_from = first_candle(market, rules, lo)
    ti, tf, _, _ = run_kernel(market, params, rules, min(first, hi), min(trade_from, hi), hi)
    side = ti[:, K.TI_SIDE]
    return side, trade_returns(side, tf[:, K.TF_ENTRY], tf[:, K.TF_EXIT], rules.fee_rate)


def _rank_key(row: dict, min_trades: int) -> tuple:
    s = row["summary"]
    pf = s["profit_factor"]
    return (s["trades"] < min_trades, -(pf if not math.isinf(pf) else 1e9), -s["pnl_bps"])


@dataclass
class MTFSweepResult:
    symbol: str
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    min_trades: int
    rows: list[dict]  # ranked: rank, params, summary, meets_min_trades, default

    def best(self) -> dict | None:
        return next((r for r in self.rows if r["meets_min_trades"]), None)


def run_mtf_sweep(market: MTFMarket, start: pd.Timestamp | None = None, end: pd.Timestamp | None = None,
                  grid: dict[str, tuple] | None = None, rules: MTFRules | None = None,
                  min_trades: int = DEFAULT_MIN_TRADES) -> MTFSweepResult:  # fmt: skip
    rules = rules or MTFRules()
    default = MTFParams()
    rows = []
    for p in grid_params(grid):
        _, ret = period_returns(market, p, rules, start, end)
        s = bps_stats(ret)
        rows.append({"params": p.as_dict(), "summary": s, "meets_min_trades": s["trades"] >= min_trades, "default": p == default})
    rows.sort(key=lambda r: _rank_key(r, min_trades))
    for rank, r in enumerate(rows, start=1):
        r["rank"] = rank
    return MTFSweepResult(market.symbol, start, end, min_trades, rows)


@dataclass
class MTFFold:
    fold: int
    train_start: pd.Timestamp
    test_start: pd.Timestamp
    test_end: pd.Timestamp
    chosen: dict  # params picked on the training months
    train: dict  # their training summary
    test: dict  # their test summary
    default_test: dict  # the default parameters on the same test months


@dataclass
class MTFWalkForward:
    symbol: str
    train_months: int
    test_months: int
    folds: list[MTFFold]
    chosen_summary: dict  # all test months, parameters chosen per fold
    default_summary: dict  # all test months, default parameters


def run_mtf_walk_forward(market: MTFMarket, wf: WalkForwardConfig, grid: dict[str, tuple] | None = None,
                         rules: MTFRules | None = None, min_trades: int = 10) -> MTFWalkForward:  # fmt: skip
    rules = rules or MTFRules()
    windows = walk_forward_windows(market.index[0], market.index[-1], wf)
    if not windows:
        raise DataError(f"{market.symbol}: {market.index[0]} → {market.index[-1]} holds no "
                        f"{wf.train_months}+{wf.test_months}-month walk-forward fold")  # fmt: skip
    candidates = grid_params(grid)
    default = MTFParams()
    folds: list[MTFFold] = []
    chosen_all: list[np.ndarray] = []
    default_all: list[np.ndarray] = []
    for w in windows:
        scored = []
        for p in candidates:
            _, ret = period_returns(market, p, rules, w.train_start, w.train_end)
            scored.append({"params": p, "summary": bps_stats(ret)})
        scored.sort(key=lambda r: _rank_key({"summary": r["summary"]}, min_trades))
        best = scored[0]
        _, test_ret = period_returns(market, best["params"], rules, w.test_start, w.test_end)
        _, def_ret = period_returns(market, default, rules, w.test_start, w.test_end)
        chosen_all.append(test_ret)
        default_all.append(def_ret)
        folds.append(MTFFold(w.fold, w.train_start, w.test_start, w.test_end, best["params"].as_dict(),
                             best["summary"], bps_stats(test_ret), bps_stats(def_ret)))  # fmt: skip
    return MTFWalkForward(
        market.symbol, wf.train_months, wf.test_months, folds,
        bps_stats(np.concatenate(chosen_all)), bps_stats(np.concatenate(default_all)),
    )  # fmt: skip
