from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cointrader_pipelines.reporting.context import (
    MIN_ROWS,
    btc_adx,
    classify_regime,
    ls_ratio_averages,
    market_context,
)
from trader_runtime.strategy.indicators import compute_indicators


def _frame(n: int, btc_step: float = 0.0) -> pd.DataFrame:
    idx = pd.date_range("2025-01-01", periods=n, freq="15min", tz="UTC", name="timestamp")
    rng = np.random.default_rng(3)
    out = {}
    for suffix, p0, step in (("", 2.0, 0.0), ("_btc", 100.0, btc_step), ("_eth", 50.0, 0.0)):
        close = p0 + step * np.arange(n) + rng.normal(0, 0.01, n).cumsum()
        out[f"open{suffix}"] = close
        out[f"high{suffix}"] = close + 0.2
        out[f"low{suffix}"] = close - 0.2
        out[f"close{suffix}"] = close
        out[f"volume{suffix}"] = np.full(n, 1000.0)
    return pd.DataFrame(out, index=idx)


@pytest.mark.parametrize(
    "adx, ret, regime",
    [(25.0, 0.1, "uptrend"), (25.0, 0.0, "downtrend"), (40.0, -3.0, "downtrend"), (24.9, 10.0, "range")],
)
def test_regime_rules(adx, ret, regime):
    assert classify_regime(adx, ret) == regime


def test_context_of_a_window_uses_only_its_rows():
    frame = _frame(400, btc_step=0.5)
    start, end = frame.index[100], frame.index[300]
    ctx, note = market_context(frame, {}, start, end)
    window = frame.iloc[100:300]
    expected_ret = round((window["close_btc"].iloc[-1] / window["close_btc"].iloc[0] - 1) * 100, 1)
    assert note is None
    assert ctx["btc_return_pct"] == expected_ret
    btc = window[[f"{c}_btc" for c in ("open", "high", "low", "close", "volume")]]
    btc.columns = ["open", "high", "low", "close", "volume"]
    assert ctx["btc_avg_adx"] == round(float(np.nanmean(compute_indicators(btc)["adx"])), 1)
    assert ctx["market_regime"] == classify_regime(ctx["btc_avg_adx"], ctx["btc_return_pct"])
    assert ctx["ls_ratio"] is None


def test_short_window_and_missing_btc_columns_have_no_context():
    frame = _frame(100)
    ctx, note = market_context(frame, {}, frame.index[0], frame.index[MIN_ROWS - 1])
    assert ctx is None and "19 candles" in note
    ctx, note = market_context(frame[["open", "high", "low", "close", "volume"]], {}, frame.index[0], frame.index[-1])
    assert ctx is None and "BTC/ETH" in note


def test_all_nan_adx_is_zero():
    assert btc_adx(_frame(MIN_ROWS)) == 0.0  # ADX(14) needs more than 20 rows to be defined


def test_ls_ratio_means_per_symbol_and_na_rules():
    ts = pd.date_range("2025-01-01", periods=6, freq="15min", tz="UTC")
    xrp = pd.DataFrame({"timestamp": ts, "top_acct_ls_ratio": [1, 2, 3, 4, 5, 6.0], "global_ls_ratio": [2.0] * 6})
    btc = pd.DataFrame({"timestamp": ts - pd.Timedelta(days=1), "top_acct_ls_ratio": 1.0, "global_ls_ratio": 1.0})
    out = ls_ratio_averages({"xrp": xrp, "btc": btc}, ts[1], ts[4])
    assert out == {"xrp": {"top_acct_avg": 3.0, "global_avg": 2.0}}  # rows 1..3; BTC has none in the window
    assert ls_ratio_averages({"btc": btc}, ts[1], ts[4]) is None
    assert ls_ratio_averages({}, ts[0], ts[-1]) is None
