"""Walk-forward backtest over calendar-month windows (spec 20 §3 with D12 and the BT-06/BT-09 fixes).

Windows start at the first common timestamp `c0`: fold k trains on [c_k, c_k+train) and tests on
[c_k+train, c_k+train+test) with c_k = c0 + k·step months (computed from c0, so month-end clipping never drifts),
while the test end stays within the data. `step` defaults to the test length (D12); setting it to the train
length reproduces the reference. Every fold starts from a fresh balance, risk state and kill switch. With
`train_fold`, each fold trains its own ML filter on the raw rows of its train window minus the last
`purge_bars` candles, so no training label can look past the test start; whether a fold got a model is recorded
(BT-06).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from trader_runtime.backtest.engine import (
    BacktestResult,
    FoldReport,
    MLFilter,
    SegmentRun,
    Window,
    run_segment,
    segment_for,
    summarize_run,
)
from trader_runtime.backtest.validator import validate
from trader_runtime.config import BacktestConfig, WalkForwardConfig
from trader_runtime.domain.schema import BAR, COMBINED_COLUMNS
from trader_runtime.errors import DataError
from trader_runtime.strategy.labels import LOOKAHEAD
from trader_runtime.strategy.pipeline import PreparedMarket

TrainFold = Callable[[pd.DataFrame], MLFilter | None]


@dataclass(frozen=True)
class FoldWindow:
    fold: int
    train_start: pd.Timestamp
    train_end: pd.Timestamp
    test_start: pd.Timestamp
    test_end: pd.Timestamp

    @property
    def test_window(self) -> Window:
        return Window(self.test_start, self.test_end)


def walk_forward_windows(first: pd.Timestamp, last: pd.Timestamp, wf: WalkForwardConfig) -> list[FoldWindow]:
    """All folds whose test window ends at or before `last` (the last common timestamp)."""
    out: list[FoldWindow] = []
    k = 0
    while True:
        offset = k * wf.step
        c = first + pd.DateOffset(months=offset)
        train_end = first + pd.DateOffset(months=offset + wf.train_months)
        test_end = first + pd.DateOffset(months=offset + wf.train_months + wf.test_months)
        if test_end > last:
            return out
        out.append(FoldWindow(k + 1, c, train_end, train_end, test_end))
        k += 1


def _chain(runs: list[SegmentRun]) -> tuple[pd.Series, np.ndarray]:
    """Fold equity curves joined into one continuous curve: each fold is shifted by the PnL of earlier folds."""
    parts: list[pd.Series] = []
    days: list[np.ndarray] = []
    offset = 0.0
    for run in runs:
        parts.append(run.equity + offset)
        days.append(run.day)
        offset += float(run.trades["net_pnl"].sum())
    if not parts:
        return pd.Series(dtype=np.float64, name="equity"), np.zeros(0, dtype=np.int64)
    return pd.concat(parts), np.concatenate(days)


def run_walk_forward(
    prepared: PreparedMarket,
    cfg: BacktestConfig,
    wf: WalkForwardConfig,
    train_fold: TrainFold | None = None,
    ml_filter: MLFilter | None = None,
    purge_bars: int = LOOKAHEAD,
) -> BacktestResult:
    """Run every fold and combine them (trades in fold order, one continuous equity curve)."""
    if train_fold is not None and ml_filter is not None:
        raise ValueError("pass either train_fold (per-fold models) or ml_filter (one fixed filter), not both")
    index = prepared.index
    if len(index) == 0:
        raise DataError(f"{cfg.symbol}: empty data set")
    windows = walk_forward_windows(index[0], index[-1], wf)
    if not windows:
        raise DataError(
            f"{cfg.symbol}: data {index[0]} → {index[-1]} is shorter than train {wf.train_months} + "
            f"test {wf.test_months} months; no walk-forward fold fits"
        )
    raw_cols = [c for c in COMBINED_COLUMNS if c in prepared.frame.columns]
    runs: list[SegmentRun] = []
    reports: list[FoldReport] = []
    for w in windows:
        fold_filter = ml_filter
        model_used: bool | None = None if (train_fold is None and ml_filter is None) else True
        if train_fold is not None:
            train_rows = prepared.frame.loc[
                (index >= w.train_start) & (index < w.train_end - purge_bars * BAR), raw_cols
            ]
            fold_filter = train_fold(train_rows)
            model_used = fold_filter is not None
        seg = segment_for(prepared, cfg, w.test_window)
        run = run_segment(seg, cfg, fold_filter, fold=w.fold)
        runs.append(run)
        reports.append(
            FoldReport(
                fold=w.fold,
                train_start=w.train_start,
                train_end=w.train_end,
                test_start=w.test_start,
                test_end=w.test_end,
                model_used=model_used,
                summary=summarize_run(run.trades, run.equity.to_numpy(), run.day, cfg.initial_balance),
                halts=run.halts,
            )
        )
    trades = pd.concat([r.trades for r in runs], ignore_index=True)
    equity, day = _chain(runs)
    summary = summarize_run(trades, equity.to_numpy(), day, cfg.initial_balance)
    summary["folds"] = len(reports)
    summary["folds_without_model"] = sum(1 for r in reports if r.model_used is False)
    tested_days = sum(r.segment.tested_days for r in runs)
    validation = validate(trades, summary, cfg.initial_balance, tested_days, int(summary["folds_without_model"]))
    return BacktestResult(
        mode="walk_forward",
        config=cfg,
        trades=trades,
        equity=equity,
        summary=summary,
        validation=validation,
        halts=[r.halts for r in runs],
        folds=reports,
    )
