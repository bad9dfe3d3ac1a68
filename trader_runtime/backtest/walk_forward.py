"""Walk-forward backtest of one symbol over calendar-month windows (spec 20 §3 with D12, D18, BT-06, BT-09).

The one-symbol case of `portfolio.run_portfolio_walk_forward`: windows start at the first timestamp `c0`; fold k
trains on [c_k, c_k+train) and tests on [c_k+train, c_k+train+test) with c_k = c0 + k·step months, while the test
end stays within the data. `step` defaults to the test length (D12). By default one account runs through all
test windows (D18: balance, positions, kill switch and day base carry on; only the model changes per fold); the
legacy rules restart every fold. With `train_fold`, each fold trains its own ML filter on the raw rows of its
train window minus the last `purge_bars` candles, so no training label can look past the test start; whether a
fold got a model is recorded (BT-06).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

import pandas as pd

from trader_runtime.backtest.engine import BacktestResult, MLFilter
from trader_runtime.backtest.portfolio import FoldWindow, run_portfolio_walk_forward, walk_forward_windows
from trader_runtime.config import BacktestConfig, WalkForwardConfig
from trader_runtime.errors import DataError
from trader_runtime.strategy.labels import LOOKAHEAD
from trader_runtime.strategy.pipeline import PreparedMarket

TrainFold = Callable[[pd.DataFrame], MLFilter | None]

__all__ = ["FoldWindow", "TrainFold", "run_walk_forward", "walk_forward_windows"]


def run_walk_forward(
    prepared: PreparedMarket,
    cfg: BacktestConfig,
    wf: WalkForwardConfig,
    train_fold: TrainFold | None = None,
    ml_filter: MLFilter | None = None,
    purge_bars: int = LOOKAHEAD,
) -> BacktestResult:
    """Run every fold and combine them (trades in fold order, one equity curve)."""
    if train_fold is not None and ml_filter is not None:
        raise ValueError("pass either train_fold (per-fold models) or ml_filter (one fixed filter), not both")
    if len(prepared.index) == 0:
        raise DataError(f"{cfg.symbol}: empty data set")
    if cfg.symbol != prepared.symbol:
        prepared = replace(prepared, symbol=cfg.symbol)
    per_symbol = (lambda _sym, rows: train_fold(rows)) if train_fold is not None else None
    filters = {cfg.symbol: ml_filter} if ml_filter is not None else None
    return run_portfolio_walk_forward([prepared], cfg, wf, per_symbol, filters, purge_bars)
