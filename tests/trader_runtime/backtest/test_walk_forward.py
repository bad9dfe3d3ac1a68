"""Walk-forward geometry (D12), per-fold state, legacy fold slices and the per-fold ML training hook (BT-06)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from trader_runtime.backtest.rules import EngineRules
from trader_runtime.backtest.walk_forward import run_walk_forward, walk_forward_windows
from trader_runtime.config import BacktestConfig, StrategyParams, WalkForwardConfig
from trader_runtime.domain.schema import BAR, COMBINED_COLUMNS, METRIC_INPUT_COLUMNS
from trader_runtime.errors import DataError
from trader_runtime.strategy.indicators import INDICATOR_COLUMNS
from trader_runtime.strategy.pipeline import prepare_market

FIRST = pd.Timestamp("2025-03-05 15:00", tz="UTC")
LAST = pd.Timestamp("2026-03-17 16:45", tz="UTC")


def test_step_defaults_to_test_length_and_every_month_is_tested():
    w = walk_forward_windows(FIRST, LAST, WalkForwardConfig(3, 1))
    assert len(w) == 9
    assert w[0].train_start == FIRST and w[0].test_start == pd.Timestamp("2025-06-05 15:00", tz="UTC")
    assert w[-1].test_end == pd.Timestamp("2026-03-05 15:00", tz="UTC")
    assert all(a.test_end == b.test_start for a, b in zip(w, w[1:]))
    assert all(x.train_end == x.test_start for x in w)


def test_step_three_reproduces_the_reference_folds():
    w = walk_forward_windows(FIRST, LAST, WalkForwardConfig(3, 1, 3))
    assert [x.test_start.strftime("%Y-%m-%d %H:%M") for x in w] == [
        "2025-06-05 15:00",
        "2025-09-05 15:00",
        "2025-12-05 15:00",
    ]
    assert [x.fold for x in w] == [1, 2, 3]


def test_test_end_equal_to_last_timestamp_is_included_and_month_ends_do_not_drift():
    first = pd.Timestamp("2025-01-31", tz="UTC")
    w = walk_forward_windows(first, pd.Timestamp("2025-06-30", tz="UTC"), WalkForwardConfig(3, 1))
    assert [x.test_start.date().isoformat() for x in w] == ["2025-04-30", "2025-05-31"]
    assert w[-1].test_end == pd.Timestamp("2025-06-30", tz="UTC")


def test_too_short_data_is_refused(synthetic_market):
    with pytest.raises(DataError, match="no walk-forward fold"):
        run_walk_forward(synthetic_market, BacktestConfig(), WalkForwardConfig(6, 3))


def test_folds_enter_only_inside_their_test_windows_on_one_continuous_account(synthetic_market):
    r = run_walk_forward(synthetic_market, BacktestConfig(), WalkForwardConfig(3, 1))
    assert r.mode == "walk_forward" and len(r.folds) == 3 == r.summary["folds"]
    for f in r.folds:
        t = r.trades[r.trades["fold"] == f.fold]
        assert (t["entry_time"] >= f.test_start).all() and (t["entry_time"] < f.test_end).all()
        assert f.model_used is None
    assert (r.trades["exit_time"] < r.folds[-1].test_end).all()
    # D18: each fold starts from the equity the previous one left (not from a fresh 1000)
    for prev, cur in zip(r.folds, r.folds[1:]):
        assert cur.summary["start_equity"] != 1000.0 or prev.summary["total_trades"] == 0
    total = 1000.0 + r.trades["net_pnl"].sum() + r.trades["funding"].sum()
    assert r.equity.iloc[-1] == pytest.approx(total, abs=1e-3) and (r.equity >= 0).all()


def test_continuous_kill_switch_stays_tripped_unless_a_reset_policy_says_so(synthetic_market):
    cfg = BacktestConfig(params=StrategyParams(1.5, 3.0, 2, 15.0, 1.5))  # relaxed: the kill switch fires early
    r = run_walk_forward(synthetic_market, cfg, WalkForwardConfig(3, 1))
    kills = [h for h in r.halted_periods if h["kind"].startswith("kill_switch")]
    assert len(kills) == 1 and kills[0]["end"] == r.folds[-1].test_end  # never reset: halted to the end
    assert (r.trades["entry_time"] < kills[0]["start"]).all()  # no entry after the kill
    reset = run_walk_forward(synthetic_market, replace(cfg, kill_reset_days=7), WalkForwardConfig(3, 1))
    rk = [h for h in reset.halted_periods if h["kind"].startswith("kill_switch")]
    assert rk[0]["end"] - rk[0]["start"] <= pd.Timedelta(days=8) and len(reset.trades) > len(r.trades)


def test_every_fold_starts_fresh_without_continuous_walk_forward(synthetic_market):
    cfg = BacktestConfig(params=StrategyParams(1.5, 3.0, 2, 15.0, 1.5),
                         rules=EngineRules(continuous_walk_forward=False))  # fmt: skip
    r = run_walk_forward(synthetic_market, cfg, WalkForwardConfig(3, 1))
    assert all(h["kill_switch"] for h in r.halts)
    assert all(f.summary["total_trades"] > 0 for f in r.folds)
    close = synthetic_market.frame["close"]
    for f in r.folds:
        first = r.trades[r.trades["fold"] == f.fold].iloc[0]
        expected = math.floor(1000.0 * 0.5 * 10 / close.loc[first["entry_time"]] / 0.1 + 1e-9) * 0.1
        assert first["quantity"] == pytest.approx(expected)  # sized from a fresh 1000 USDT balance


def test_legacy_fold_slices_restart_indicators_and_warm_up(synthetic_market):
    cfg = BacktestConfig(rules=EngineRules.legacy(), params=StrategyParams(1.5, 3.0, 2, 15.0, 1.5))
    r = run_walk_forward(synthetic_market, cfg, WalkForwardConfig(3, 1))
    for f in r.folds:
        t = r.trades[r.trades["fold"] == f.fold]
        slice_start = f.test_start.normalize()
        assert (t["entry_time"] >= slice_start + 60 * BAR).all()  # first 60 bars of the slice are warm-up
        assert (t["exit_time"] <= f.test_end.normalize()).all()  # the slice ends at the test-end date 00:00


class FoldTrainer:
    """A real training callback: records its inputs; no model for fold 2."""

    def __init__(self):
        self.frames: list[pd.DataFrame] = []

    def __call__(self, train: pd.DataFrame):
        self.frames.append(train)
        if len(self.frames) == 2:
            return None
        return lambda rows: np.full(len(rows), 0.9)


def test_train_fold_gets_purged_raw_train_rows_and_model_use_is_recorded(synthetic_market):
    trainer = FoldTrainer()
    wf = WalkForwardConfig(3, 1)
    r = run_walk_forward(synthetic_market, BacktestConfig(), wf, train_fold=trainer)
    windows = walk_forward_windows(synthetic_market.index[0], synthetic_market.index[-1], wf)
    assert len(trainer.frames) == len(windows)
    for frame, w in zip(trainer.frames, windows):
        assert frame.index[0] == w.train_start
        assert frame.index[-1] == w.train_end - 25 * BAR  # last 24 candles before the test start purged
        assert set(frame.columns) <= set(COMBINED_COLUMNS) and not set(frame.columns) & set(INDICATOR_COLUMNS)
    assert [f.model_used for f in r.folds] == [True, False, True]
    assert r.summary["folds_without_model"] == 1
    assert r.validation["overall"] in ("WARN", "FAIL")
    assert "ml_model_per_fold" in [c["name"] for c in r.validation["checks"] if not c["passed"]]
    fold2 = r.trades[r.trades["fold"] == 2]
    assert fold2["ml_proba"].isna().all() and (r.trades[r.trades["fold"] != 2]["ml_proba"] == 0.9).all()


def test_train_fold_rows_carry_the_market_metric_inputs(synthetic_market):
    """A fold model must be trained on the features it is served: the metric inputs come along with the rows."""
    frame = synthetic_market.frame[[c for c in COMBINED_COLUMNS if c in synthetic_market.frame.columns]].copy()
    rng = np.random.default_rng(2)
    for name in METRIC_INPUT_COLUMNS:
        frame[name] = np.exp(rng.normal(0, 0.2, len(frame)))
    trainer = FoldTrainer()
    run_walk_forward(prepare_market(frame, "XRPUSDT"), BacktestConfig(), WalkForwardConfig(3, 1), train_fold=trainer)
    assert trainer.frames
    for train in trainer.frames:
        assert set(METRIC_INPUT_COLUMNS) <= set(train.columns)
        pd.testing.assert_frame_equal(train[list(METRIC_INPUT_COLUMNS)], frame.loc[train.index, list(METRIC_INPUT_COLUMNS)])


def test_train_fold_and_fixed_filter_are_exclusive(synthetic_market):
    with pytest.raises(ValueError):
        run_walk_forward(
            synthetic_market, BacktestConfig(), WalkForwardConfig(3, 1),
            train_fold=lambda df: None, ml_filter=lambda rows: np.ones(len(rows)),
        )  # fmt: skip


def test_fold_filter_errors_propagate(synthetic_market):
    def trainer(train: pd.DataFrame):
        def filt(rows: pd.DataFrame) -> np.ndarray:
            raise KeyError("feature missing")

        return filt

    with pytest.raises(KeyError):
        run_walk_forward(synthetic_market, BacktestConfig(), WalkForwardConfig(3, 1), train_fold=trainer)


def test_fold_table_serialises(synthetic_market):
    r = run_walk_forward(synthetic_market, replace(BacktestConfig(), rules=EngineRules.legacy()), WalkForwardConfig(3, 1))
    d = r.to_dict()
    assert [f["fold"] for f in d["folds"]] == [1, 2, 3]
    assert d["folds"][0]["test_start"].startswith(r.folds[0].test_start.isoformat()[:10])
