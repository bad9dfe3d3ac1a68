"""The simulated venue of replay/paper: backtest fills (slippage, fees, SL first, gap fills), state round trip."""

from __future__ import annotations

import json

import pytest

from trader_runtime.backtest.fills import FillModel, fill_fee, gross_pnl
from trader_runtime.errors import OrderRejected
from trader_runtime.exchange.port import FillEvent, OrderUpdate, SymbolRules
from trader_runtime.exchange.simulated import Bar, SimulatedVenue

RULES = {"XRPUSDT": SymbolRules("XRPUSDT", qty_step=0.1, tick_size=0.0, min_notional=5.0)}
FM = FillModel(fee_pct=0.04, slippage_pct=0.01)


@pytest.fixture()
def venue() -> SimulatedVenue:
    v = SimulatedVenue(RULES, FM, 1000.0)
    v.prepare_symbol("XRPUSDT", 10)
    v.last_price["XRPUSDT"] = 2.0
    v.clock_ms = 1_000
    return v


def _long(v: SimulatedVenue, qty: float = 100.0) -> None:
    v.market_order("XRPUSDT", "BUY", qty, reduce_only=False, client_id="e1")
    v.place_protective("XRPUSDT", "SL", "SELL", qty, 1.9, "s1")
    v.place_protective("XRPUSDT", "TP", "SELL", qty, 2.2, "t1")


def test_market_fill_uses_the_backtest_slippage_and_fee(venue: SimulatedVenue):
    result, events = venue.market_order("XRPUSDT", "BUY", 100.0, reduce_only=False, client_id="e1")
    fill = result.fills[0]
    assert fill.price == 2.0 * (1 + 0.0001) and fill.commission == fill_fee(fill.price, 100.0, 0.0004)
    assert venue.balance() == pytest.approx(1000.0 - fill.commission)
    assert venue.position("XRPUSDT").amount == 100.0 and isinstance(events[0], FillEvent)
    assert venue.lookup_order("XRPUSDT", "e1").fills == (fill,)


def test_sl_is_checked_first_when_a_candle_touches_both(venue: SimulatedVenue):
    _long(venue)
    events = venue.on_candle("XRPUSDT", Bar(2.0, 2.3, 1.8, 2.1), 5_000)
    fills = [e.fill for e in events if isinstance(e, FillEvent)]
    assert [f.order_type for f in fills] == ["STOP_MARKET"] and fills[0].price == 1.9
    assert fills[0].realized_pnl == gross_pnl(1, 2.0002, 1.9, 100.0)
    assert [e.status for e in events if isinstance(e, OrderUpdate)] == ["EXPIRED"]  # the TP sibling
    assert venue.position("XRPUSDT") is None and venue.open_orders("XRPUSDT") == []


def test_a_gap_through_the_stop_fills_at_the_open(venue: SimulatedVenue):
    _long(venue)
    events = venue.on_candle("XRPUSDT", Bar(1.85, 1.86, 1.80, 1.82), 5_000)
    assert events[0].fill.price == 1.85


def test_take_profit_fills_at_its_level_without_slippage(venue: SimulatedVenue):
    _long(venue)
    events = venue.on_candle("XRPUSDT", Bar(2.1, 2.25, 2.05, 2.2), 5_000)
    assert events[0].fill.order_type == "TAKE_PROFIT_MARKET" and events[0].fill.price == 2.2
    assert venue.last_price["XRPUSDT"] == 2.2


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"side": "BUY", "quantity": 1.0, "reduce_only": False}, "below the minimum"),
        ({"side": "BUY", "quantity": 100.05, "reduce_only": False}, "not a multiple"),
        ({"side": "SELL", "quantity": 10.0, "reduce_only": True}, "would not reduce"),
        ({"side": "BUY", "quantity": 100000.0, "reduce_only": False}, "margin is insufficient"),
    ],
)
def test_orders_the_exchange_would_refuse(venue: SimulatedVenue, kwargs, match):
    with pytest.raises(OrderRejected, match=match):
        venue.market_order("XRPUSDT", client_id="x", **kwargs)
    assert venue.position("XRPUSDT") is None and venue.balance() == 1000.0


def test_a_stop_that_would_trigger_at_once_is_refused(venue: SimulatedVenue):
    venue.market_order("XRPUSDT", "BUY", 100.0, reduce_only=False, client_id="e1")
    with pytest.raises(OrderRejected, match="immediately"):
        venue.place_protective("XRPUSDT", "SL", "SELL", 100.0, 2.05, "s1")


def test_state_survives_a_json_round_trip(venue: SimulatedVenue):
    _long(venue)
    state = json.loads(json.dumps(venue.to_state()))
    twin = SimulatedVenue(RULES, FM, 0.0, state=state)
    assert twin.balance() == venue.balance() and twin.position("XRPUSDT") == venue.position("XRPUSDT")
    assert twin.open_orders("XRPUSDT") == venue.open_orders("XRPUSDT")
    a = venue.on_candle("XRPUSDT", Bar(2.0, 2.0, 1.85, 1.9), 9_000)
    b = twin.on_candle("XRPUSDT", Bar(2.0, 2.0, 1.85, 1.9), 9_000)
    assert a == b


def test_income_and_fill_history_for_reconciliation(venue: SimulatedVenue):
    _long(venue)
    venue.on_candle("XRPUSDT", Bar(2.0, 2.0, 1.85, 1.9), 9_000)
    fills = venue.fills_since("XRPUSDT", 0)
    income = venue.income_since("XRPUSDT", 0)
    assert len(fills) == 2
    assert sum(r.amount for r in income if r.income_type == "REALIZED_PNL") == fills[1].realized_pnl
    assert sum(-r.amount for r in income if r.income_type == "COMMISSION") == pytest.approx(sum(f.commission for f in fills))


def test_funding_is_paid_by_longs_and_received_by_shorts_as_its_own_income(venue: SimulatedVenue):
    assert venue.settle_funding("XRPUSDT", 0.0001, 2.0, 5_000) == 0.0  # flat: nothing to settle
    _long(venue)
    before = venue.balance()
    paid = venue.settle_funding("XRPUSDT", 0.0001, 2.1, 5_000)
    assert paid == pytest.approx(-100.0 * 2.1 * 0.0001) and venue.balance() == pytest.approx(before + paid)
    assert venue.income[-1] == {"symbol": "XRPUSDT", "type": "FUNDING_FEE", "amount": paid, "time_ms": 5_000}
    assert venue.settle_funding("XRPUSDT", -0.0001, 2.1, 6_000) == pytest.approx(-paid)  # negative rate: longs receive


def test_take_profit_fills_pay_the_configured_tp_fee():
    v = SimulatedVenue(RULES, FillModel(fee_pct=0.04, slippage_pct=0.0, tp_fee_pct=0.02), 1000.0)
    v.prepare_symbol("XRPUSDT", 10)
    v.last_price["XRPUSDT"] = 2.0
    _long(v)
    fill = v.on_candle("XRPUSDT", Bar(2.0, 2.3, 2.0, 2.25), 2_000)[0].fill
    assert fill.order_type == "TAKE_PROFIT_MARKET" and fill.commission == pytest.approx(fill_fee(2.2, 100.0, 0.0002))
