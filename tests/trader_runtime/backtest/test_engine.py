"""Single backtest runs on a prepared (synthetic) market, including the ML-filter hook."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from trader_runtime.backtest.engine import TRADE_COLUMNS, Window, run_backtest
from trader_runtime.backtest.rules import EngineRules
from trader_runtime.backtest.serialization import dumps
from trader_runtime.config import BacktestConfig
from trader_runtime.errors import DataError, ModelUnavailable
from trader_runtime.strategy.features import FEATURE_COLUMNS
from trader_runtime.strategy.pipeline import prepare_market

CFG = BacktestConfig()


def test_single_run_result_shape(synthetic_market):
    r = run_backtest(synthetic_market, CFG)
    assert r.mode == "single" and list(r.trades.columns) == list(TRADE_COLUMNS)
    assert r.summary["total_trades"] == len(r.trades) > 0
    idx = synthetic_market.index
    assert r.trades["entry_time"].min() >= idx[CFG.warmup]
    assert (r.trades["exit_time"] >= r.trades["entry_time"]).all()
    assert len(r.equity) == len(idx) - CFG.warmup
    # funding is its own cash flow (D20): equity = initial + net PnL of the trades + funding
    assert r.trades["funding"].abs().sum() > 0
    assert r.equity.iloc[-1] == pytest.approx(CFG.initial_balance + r.trades["net_pnl"].sum() + r.trades["funding"].sum(), abs=1e-3)
    np.testing.assert_allclose(r.trades["fees"], r.trades["entry_fee"] + r.trades["exit_fee"], atol=2e-6)
    np.testing.assert_allclose(r.trades["net_pnl"], r.trades["gross_pnl"] - r.trades["fees"], atol=2e-6)
    assert r.trades["ml_proba"].isna().all()
    assert r.validation["overall"] in ("PASS", "WARN", "FAIL")
    payload = json.loads(dumps(r.to_dict()))
    assert {"summary", "trades", "validation", "equity_daily", "config"} <= set(payload)
    assert payload["config"]["rules"]["fold_history"] == "full"


def test_window_restricts_trading_in_full_history_mode(synthetic_market):
    idx = synthetic_market.index
    w = Window(idx[3000], idx[6000])
    r = run_backtest(synthetic_market, CFG, window=w)
    assert len(r.equity) == 3000 and r.equity.index[0] == idx[3000]
    assert (r.trades["entry_time"] >= w.start).all() and (r.trades["exit_time"] < w.end).all()


class RecordingFilter:
    """A real filter: remembers what it was given and answers a fixed probability."""

    def __init__(self, proba: float):
        self.proba = proba
        self.calls: list[pd.DataFrame] = []

    def __call__(self, rows: pd.DataFrame) -> np.ndarray:
        self.calls.append(rows)
        return np.full(len(rows), self.proba)


def test_ml_filter_sees_feature_rows_of_signal_bars_once(synthetic_market):
    f = RecordingFilter(0.9)
    r = run_backtest(synthetic_market, CFG, ml_filter=f)
    assert len(f.calls) == 1
    rows = f.calls[0]
    assert list(rows.columns) == list(FEATURE_COLUMNS)
    signal = synthetic_market.signals(CFG.params).signal
    expected = synthetic_market.index[np.flatnonzero(signal[CFG.warmup :] != 0) + CFG.warmup]
    assert rows.index.equals(expected)
    plain = run_backtest(synthetic_market, CFG)
    assert r.trades["entry_time"].tolist() == plain.trades["entry_time"].tolist()
    assert (r.trades["ml_proba"] == 0.9).all()


def test_ml_filter_gets_nan_features_unfilled(synthetic_frame):
    no_oi = prepare_market(synthetic_frame.assign(oi_change=0.0, funding_rate=0.0), "XRPUSDT")  # 0.0 = missing
    f = RecordingFilter(0.9)
    run_backtest(no_oi, CFG, ml_filter=f)
    rows = f.calls[0]
    assert rows[["oi_change", "funding_rate", "oi_change_ma5", "oi_price_spread"]].isna().all().all()
    assert rows["rsi"].notna().all()


def test_ml_filter_blocks_below_threshold_only(synthetic_market):
    blocked = run_backtest(synthetic_market, CFG, ml_filter=RecordingFilter(0.5499))
    assert blocked.summary["total_trades"] == 0
    assert blocked.halts[0]["entries_blocked_by_ml"] > 0
    at_threshold = run_backtest(synthetic_market, CFG, ml_filter=RecordingFilter(CFG.ml_threshold))
    assert at_threshold.summary["total_trades"] > 0


def test_ml_filter_errors_propagate(synthetic_market):
    def broken(rows: pd.DataFrame) -> np.ndarray:
        raise RuntimeError("model file corrupt")

    with pytest.raises(RuntimeError, match="model file corrupt"):
        run_backtest(synthetic_market, CFG, ml_filter=broken)


@pytest.mark.parametrize("answer", [lambda rows: np.zeros(len(rows) + 1), lambda rows: np.full(len(rows), np.nan)])
def test_bad_filter_answers_are_refused(synthetic_market, answer):
    with pytest.raises(ModelUnavailable):
        run_backtest(synthetic_market, CFG, ml_filter=answer)


def test_too_short_data_is_refused(synthetic_frame):
    with pytest.raises(DataError):
        run_backtest(prepare_market(synthetic_frame.iloc[:50], "XRPUSDT"), CFG)


def test_legacy_and_fixed_single_runs_share_signals(synthetic_market):
    fixed = run_backtest(synthetic_market, CFG)
    legacy = run_backtest(synthetic_market, replace(CFG, rules=EngineRules.legacy()))
    assert fixed.trades["entry_time"].iloc[0] == legacy.trades["entry_time"].iloc[0]

