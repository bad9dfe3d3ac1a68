"""Domain types of the exchange port: tick rounding for any tick (INC-09), order results, candle frames."""

from __future__ import annotations

import pytest

from trader_runtime.exchange.port import CandleClosed, Fill, OrderResult, SymbolRules


@pytest.mark.parametrize(
    "tick,price,expected",
    [(0.0001, 2.123456, 2.1235), (0.005, 1.2373, 1.235), (1.0, 95123.4, 95123.0), (0.0, 2.123456, 2.123456)],
)
def test_round_price_to_any_tick(tick, price, expected):
    got = SymbolRules("X", 0.1, tick, 5.0).round_price(price)
    assert got == pytest.approx(expected, abs=1e-12)
    if tick:
        assert abs(got / tick - round(got / tick)) < 1e-9


def test_order_result_average_price():
    f = lambda k, p, q: Fill("X", k, "1", "c", 0, "BUY", p, q, 0.0, 0.0, "USDT", False, "MARKET")  # noqa: E731
    r = OrderResult("X", "1", "c", "FILLED", (f("a", 2.0, 1.0), f("b", 2.2, 3.0)))
    assert r.executed_qty == 4.0 and r.avg_price == pytest.approx(2.15)
    assert OrderResult("X", "1", "c", "NEW").avg_price == 0.0


def test_candle_event_frame_is_utc_ms_indexed():
    frame = CandleClosed("XRPUSDT", 1_767_225_600_000, {"open": 1.0, "high": 2.0, "low": 0.5, "close": 1.5, "volume": 9.0}).frame()
    assert str(frame.index.tz) == "UTC" and frame.index[0].value == 1_767_225_600_000 * 1_000_000
    assert frame.index.name == "timestamp" and frame["close"].iloc[0] == 1.5
