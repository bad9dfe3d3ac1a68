"""Hourly candles come from closed 15m candles only, and a decision never sees an hour that has not closed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trader_runtime.market.synthetic import generate_market
from trader_runtime.strategy.mtf_pullback import MTFParams, MTFRules, backtest_market, prepare_mtf
from trader_runtime.strategy.mtf_pullback.hourly import hourly_from_15m, visible_hour


def _candles(times: list[str]) -> pd.DataFrame:
    idx = pd.DatetimeIndex(pd.to_datetime(times, utc=True), name="timestamp")
    n = len(idx)
    base = np.arange(1.0, n + 1.0)
    return pd.DataFrame(
        {"open": base, "high": base + 0.5, "low": base - 0.5, "close": base + 0.25, "volume": base * 10.0}, index=idx
    )


def test_hours_match_pandas_resample_with_gaps_and_partial_hours():
    times = ["2026-01-01 09:00", "2026-01-01 09:15", "2026-01-01 09:30", "2026-01-01 09:45",
             "2026-01-01 10:15", "2026-01-01 10:30",  # partial hour kept as is
             "2026-01-01 12:45"]  # 11:00 has no candle: dropped  # fmt: skip
    df = _candles(times)
    m = prepare_mtf(df, "XRPUSDT")
    h = m.hourly.frame()
    ref = df.resample("1h", label="left", closed="left").agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
    ).dropna(subset=["open"])
    pd.testing.assert_frame_equal(h[["open", "high", "low", "close", "volume"]], ref, check_freq=False)
    assert h["bars"].tolist() == [4, 2, 1]


def test_visibility_rule_uses_the_hour_closed_before_the_candle_opens():
    times = ["2026-01-01 09:00", "2026-01-01 09:15", "2026-01-01 09:30", "2026-01-01 09:45",
             "2026-01-01 10:00", "2026-01-01 10:15", "2026-01-01 10:30", "2026-01-01 10:45",
             "2026-01-01 11:00", "2026-01-01 13:15"]  # fmt: skip
    m = prepare_mtf(_candles(times), "XRPUSDT")
    hour_of = {t: m.hourly.frame().index[j] if j >= 0 else None for t, j in zip(times, m.hour_idx)}
    nine, ten, eleven = (pd.Timestamp(f"2026-01-01 {h}:00", tz="UTC") for h in ("09", "10", "11"))
    assert [hour_of[t] for t in times[:4]] == [None] * 4
    assert [hour_of[t] for t in times[4:8]] == [nine] * 4  # 10:00 … 10:45 use 09:00–10:00
    assert hour_of["2026-01-01 11:00"] == ten  # the 10:00 hour is usable from the candle opening at 11:00
    assert hour_of["2026-01-01 13:15"] == eleven  # gap: the latest closed hour before
    # every 15m candle inside a visible hour opened (and closed) no later than the deciding candle's open
    hour_open = m.hourly.open_ms
    for i, j in enumerate(m.hour_idx):
        if j >= 0:
            assert hour_open[j] + 3_600_000 <= m.time_ms[i]


def test_visible_hour_on_exact_boundaries():
    hours = np.array([0, 3_600_000, 7_200_000], dtype=np.int64)
    bars = np.array([3_599_999, 3_600_000, 7_199_999, 7_200_000, 100_000_000], dtype=np.int64)
    assert visible_hour(bars, hours).tolist() == [-1, 0, 0, 1, 2]
    h = hourly_from_15m(np.array([0, 900_000], dtype=np.int64), *(np.array([1.0, 2.0]),) * 5)
    assert (h.open.tolist(), h.close.tolist(), h.bars.tolist()) == ([1.0], [2.0], [2])


@pytest.fixture(scope="module")
def synthetic() -> pd.DataFrame:
    return generate_market("XRPUSDT", 150, 11).combined


@pytest.mark.parametrize("rules", [MTFRules(), MTFRules.old_bot()], ids=["platform", "old-bot-trigger"])
def test_no_lookahead_decisions_unchanged_when_the_future_is_cut_off(synthetic, rules):
    params = MTFParams(ema_slow_1h=100, ema_fast_1h=30, trigger_ema=15 if rules.sequence == "strict3" else 20)
    full_market = prepare_mtf(synthetic, "XRPUSDT")
    full = backtest_market(full_market, params, rules)
    full_ind = full_market.indicator_frame(params)
    assert len(full.trades) > 10
    idx = full_market.index
    mid = idx[len(idx) // 2].floor("h")
    # a cut at each quarter of an hour leaves that hour incomplete in the shortened data
    for cut in [mid + pd.Timedelta(minutes=m) for m in (15, 30, 45, 60)] + [idx[-97].floor("h") + pd.Timedelta(minutes=45)]:
        cut_market = prepare_mtf(synthetic.loc[synthetic.index < cut], "XRPUSDT")
        cut_ind = cut_market.indicator_frame(params)
        pd.testing.assert_frame_equal(cut_ind, full_ind.loc[cut_ind.index])
        part = backtest_market(cut_market, params, rules)
        # every trade signalled before the last two candles of the cut data is identical, entry and exit alike
        last = cut_market.index[-2]
        settled = full.trades[(full.trades["signal_time"] < last) & (full.trades["exit_time"] < last)].reset_index(drop=True)
        got = part.trades[part.trades["signal_time"] < last].reset_index(drop=True).iloc[: len(settled)]
        pd.testing.assert_frame_equal(got, settled)


@pytest.mark.parametrize("minute", [15, 30, 45])
def test_changing_the_future_changes_no_past_indicator(synthetic, minute):
    params = MTFParams(ema_slow_1h=100, ema_fast_1h=30)
    base = prepare_mtf(synthetic, "XRPUSDT").indicator_frame(params)
    cut = synthetic.index[len(synthetic) // 2].floor("h") + pd.Timedelta(minutes=minute)  # inside an hour
    shocked = synthetic.copy()
    future = shocked.index >= cut
    for col in ("open", "high", "low", "close"):
        shocked.loc[future, col] *= 3.0
    shocked.loc[future, "volume"] *= 0.01
    other = prepare_mtf(shocked, "XRPUSDT").indicator_frame(params)
    past = base.index < cut
    pd.testing.assert_frame_equal(other.loc[past], base.loc[past])
    assert not other.loc[~past, "atr_1h"].equals(base.loc[~past, "atr_1h"])
