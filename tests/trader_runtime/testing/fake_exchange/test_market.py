"""ReplayMarket: the cursor never reveals a future candle, and kline windows follow Binance's rules."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.trader_runtime.testing.fake_exchange.candles import make_candles
from trader_runtime.errors import DataError
from trader_runtime.testing.fake_exchange.market import ReplayExhausted, ReplayMarket


def market(n: int = 10, history: int = 5) -> ReplayMarket:
    return ReplayMarket({"XRPUSDT": make_candles([1.0 + i / 100 for i in range(n)])}, history_candles=history)


def test_serves_primary_and_correlation_symbols_on_one_axis() -> None:
    m = market()
    assert m.symbols() == ["XRPUSDT", "BTCUSDT", "ETHUSDT"]
    assert m.interval == "15m" and m.bar_ms == 900_000
    assert m.last_price("BTCUSDT") == pytest.approx(1.04 * 32_000)


def test_latest_klines_are_closed_ones_plus_the_forming_candle() -> None:
    m = market()
    rows = m.klines("XRPUSDT", start_ms=None, end_ms=None, limit=3)
    assert [c.closed for c in rows] == [True, True, False]
    assert rows[-1].open_time == m.now_ms == int(m.open_times[5])
    assert rows[-1].open == rows[-1].close == pytest.approx(1.04)  # forming candle shows only the last trade
    assert rows[-2].close == pytest.approx(1.04)


def test_start_time_window_never_passes_the_cursor() -> None:
    m = market()
    rows = m.klines("XRPUSDT", start_ms=int(m.open_times[0]), end_ms=int(m.open_times[-1]), limit=1000)
    assert len(rows) == 6  # 5 closed + forming; candles 6..9 are the future
    assert rows[-1].open_time == int(m.open_times[5]) and not rows[-1].closed


def test_start_and_limit_page_forward() -> None:
    m = market(history=8)
    first = m.klines("XRPUSDT", start_ms=int(m.open_times[0]), end_ms=None, limit=3)
    second = m.klines("XRPUSDT", start_ms=first[-1].open_time + 1, end_ms=None, limit=3)
    assert [c.open_time for c in first + second] == [int(t) for t in m.open_times[:6]]


def test_close_forming_moves_time_and_exhausts() -> None:
    m = market(n=4, history=2)
    assert m.close_forming() == 2 and m.close_forming() == 3
    assert m.remaining == 0
    with pytest.raises(ReplayExhausted):
        m.forming_index()


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda df: df.drop(columns=["close"]), "missing required column"),
        (lambda df: df.drop(index=df.index[3]), "evenly spaced"),
        (lambda df: df.set_axis(df.index.tz_localize(None), axis=0), "timezone-naive"),
    ],
)
def test_rejects_malformed_frames(mutate, message: str) -> None:
    with pytest.raises(DataError, match=message):
        ReplayMarket({"XRPUSDT": mutate(make_candles([1.0] * 10))})


def test_rejects_history_outside_the_series() -> None:
    with pytest.raises(DataError, match="history_candles"):
        ReplayMarket({"XRPUSDT": make_candles([1.0] * 10)}, history_candles=10)


def test_frames_for_two_symbols_must_share_timestamps() -> None:
    a = make_candles([1.0] * 10, with_corr=False)
    b = make_candles([2.0] * 10, with_corr=False, start=pd.Timestamp("2025-04-01", tz="UTC"))
    with pytest.raises(DataError, match="same timestamps"):
        ReplayMarket({"XRPUSDT": a, "DOGEUSDT": b})
