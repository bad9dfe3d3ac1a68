"""Per-candle decision flow of one bot, against the backtest kernel on the same candles (spec 30 §4, D1, D10)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from fixtures.trader import RELAXED, WARMUP, backtest_trades, decisions, find_window, journal_trades, replay_slice, run_replay, same_trades

LENGTH = 96


def _reverse_with_reentry(trades: pd.DataFrame) -> bool:
    rev = trades[trades["close_reason"] == "REVERSE"]
    return any((trades["entry_time"] == t).any() for t in rev["exit_time"])


def test_reverse_signal_closes_at_market_and_reenters(tmp_path: Path, synth, market):
    start = find_window(market, RELAXED, _reverse_with_reentry, LENGTH)
    expected = backtest_trades(market, RELAXED, start, start + LENGTH)
    path = tmp_path / "j.sqlite"
    run_replay(path, replay_slice(synth, start, LENGTH))
    got = journal_trades(path)
    assert same_trades(got, expected) == []
    rev = got[got["close_reason"] == "REVERSE"].iloc[0]
    reentry = got[got["entry_candle_ms"] == rev["exit_candle_ms"]].iloc[0]
    assert reentry["side"] != rev["side"] and reentry["entry_price"] == rev["exit_price"]  # same close, same slippage
    d = decisions(path).set_index("candle_ms")
    assert d.loc[rev["exit_candle_ms"], "action"] == "REVERSE"


def test_both_sides_qualifying_is_hold_with_or_without_a_position(tmp_path: Path, synth, market):
    sig = market.signals(RELAXED)
    rows = np.flatnonzero(sig.collision[WARMUP + 20 :]) + WARMUP + 20
    assert rows.size, "the synthetic market has no candle where both sides qualify"
    i = int(rows[0])
    path = tmp_path / "j.sqlite"
    run_replay(path, replay_slice(synth, i - 20, 21))
    d = decisions(path).set_index("candle_ms")
    row = d.loc[market.index[i].value // 1_000_000]
    assert row["signal"] == 0 and row["reason"] == "both_sides"
    assert row["long_score"] >= RELAXED.signal_threshold and row["short_score"] >= RELAXED.signal_threshold
    assert row["action"] in ("HOLD", "HOLD_POSITION")
    trades = journal_trades(path, status=None)
    assert not (trades["entry_candle_ms"] == market.index[i].value // 1_000_000).any()


def test_every_candle_gets_one_decision_row_with_latency(tmp_path: Path, synth, market):
    path = tmp_path / "j.sqlite"
    start = WARMUP + 200
    run_replay(path, replay_slice(synth, start, 40))
    d = decisions(path)
    assert len(d) == 40 and d["candle_ms"].is_monotonic_increasing and d["candle_ms"].diff().dropna().eq(900_000).all()
    assert (d["latency_ms"] > 0).all() and d["model_version"].isna().all() and (d["ml_mode"] == "off").all()
    expected = market.signals(RELAXED).signal[start : start + 40]
    assert list(d["signal"]) == list(expected)
