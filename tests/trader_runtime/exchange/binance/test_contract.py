"""Contract tests against Binance's documented USD-M futures payloads.

`tests/fixtures/binance_usdm/*.json` hold example responses and user-stream events written from Binance's public API
documentation (each file names its page in `source`; `optional` lists the fields the documentation marks as sent
only sometimes). Both sides are held to them, so the adapter and the fake exchange no longer share one private
understanding of the format:

* the adapter's parsers (`exchange/binance/parsing.py`, `market_parsing.py`) read every fixture to the expected
  domain values;
* the fake exchange, driven through the real python-binance client, answers and streams payloads with the same
  fields and the same JSON types as the documented examples.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pandas as pd
import pytest
import requests

from trader_runtime.exchange.binance import market_parsing, parsing
from trader_runtime.exchange.port import FillEvent, OrderUpdate, ProtectiveTriggered

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "binance_usdm"


def doc(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def payload(name: str) -> Any:
    return doc(name)["payload"]


# ------------------------------------------------------------------------------------------------ shape comparison
def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def shape_differences(documented: Any, actual: Any, optional: set[str], path: str = "$") -> list[str]:
    """Where `actual` departs from the documented example: missing/unknown fields and different JSON types."""
    if documented is None or (isinstance(documented, str) and documented == "" and actual is None):
        return []
    if _kind(documented) != _kind(actual):
        return [f"{path}: documented {_kind(documented)} ({documented!r}), got {_kind(actual)} ({actual!r})"]
    out: list[str] = []
    if isinstance(documented, dict):
        for key in sorted(set(documented) - set(actual) - optional):
            out.append(f"{path}.{key}: documented field missing")
        for key in sorted(set(actual) - set(documented) - optional):
            out.append(f"{path}.{key}: field not in the documented payload")
        for key in sorted(set(documented) & set(actual)):
            out += shape_differences(documented[key], actual[key], optional, f"{path}.{key}")
    elif isinstance(documented, list) and documented and actual:
        out += shape_differences(documented[0], actual[0], optional, f"{path}[0]")
    return out


def assert_matches(name: str, actual: Any) -> None:
    d = doc(name)
    diffs = shape_differences(d["payload"], actual, set(d["optional"]))
    assert not diffs, f"{name} ({d['source']}):\n" + "\n".join(diffs)


def test_shape_comparison_can_fail():
    documented = {"a": "1", "b": 2, "c": [{"d": True}]}
    assert shape_differences(documented, {"a": "1", "b": 2, "c": [{"d": True}]}, set()) == []
    assert shape_differences(documented, {"a": 1, "b": 2, "c": [{"d": "true"}], "x": 0}, set()) == [
        "$.x: field not in the documented payload", "$.a: documented str ('1'), got number (1)",
        "$.c[0].d: documented bool (True), got str ('true')"]


# ------------------------------------------------------------------------------------------------ the adapter's parsers
def test_entry_fill_event_parses_to_a_fill_with_its_commission():
    [event] = parsing.user_events(payload("order_trade_update_entry_fill"))
    assert isinstance(event, FillEvent) and event.order_status == "FILLED"
    f = event.fill
    assert (f.symbol, f.order_id, f.client_id, f.side, f.order_type) == ("XRPUSDT", "8389765519", "ct-E-17", "BUY", "MARKET")
    assert (f.price, f.quantity, f.commission, f.commission_asset) == (2.0451, 120.0, 0.0981648, "USDT")
    assert f.fill_key == "8389765519:412233118" and f.time_ms == 1767225600118
    assert not f.reduce_only and not f.liquidation


def test_triggered_stop_fill_keeps_its_original_type():
    """After a trigger `o` reads MARKET; the stop is recognised from `ot` and the reduce-only flag."""
    [event] = parsing.user_events(payload("order_trade_update_stop_fill"))
    f = event.fill
    assert (f.order_type, f.reduce_only, f.realized_pnl, f.price) == ("STOP_MARKET", True, -7.812, 1.98)


def test_liquidation_event_is_a_liquidation_fill_with_its_fee():
    [event] = parsing.user_events(payload("order_trade_update_liquidation"))
    f = event.fill
    assert f.liquidation and f.order_type == "LIQUIDATION" and f.client_id.startswith("autoclose-")
    assert (f.quantity, f.price, f.realized_pnl, f.commission) == (120.0, 1.841, -24.492, 0.088368)


def test_new_order_event_is_a_status_update_only():
    assert parsing.user_events(payload("order_trade_update_new")) == [
        OrderUpdate("XRPUSDT", "8389830001", "ct-E-18", "NEW", "MARKET")]


def test_algo_trigger_links_the_algo_id_to_the_order_that_fills():
    assert parsing.user_events(payload("algo_update_triggered")) == [
        ProtectiveTriggered("XRPUSDT", "4000000000123", "8389790011", "ct-S-17")]


def test_account_update_and_listen_key_expiry_make_no_trading_event():
    assert parsing.user_events(payload("account_update")) == []
    assert parsing.user_events(payload("listen_key_expired")) == []


def test_kline_stream_event_and_rest_klines():
    symbol, open_ms, values, closed = parsing.kline(payload("kline_event"))
    assert (symbol, open_ms, closed) == ("XRPUSDT", 1767224700000, True)
    assert values == {"open": 2.04, "high": 2.048, "low": 2.039, "close": 2.045, "volume": 812345.6}
    frame = market_parsing.parse_klines(payload("klines"), pd.Timestamp("2026-01-01 00:00", tz="UTC"), "XRPUSDT")
    assert list(frame.index) == [pd.Timestamp("2025-12-31 23:30", tz="UTC"), pd.Timestamp("2025-12-31 23:45", tz="UTC")]
    assert frame["close"].tolist() == [2.04, 2.045] and frame["volume"].iloc[1] == 812345.6


def test_account_rest_answers():
    assert parsing.usdt_balance(payload("balance_v3")) == 1000.12345678
    pos = parsing.position(payload("position_risk_v3"), "XRPUSDT")
    assert (pos.amount, pos.entry_price) == (120.0, 2.0451)
    rules = parsing.symbol_rules(payload("exchange_info_symbol"), "XRPUSDT")
    assert (rules.qty_step, rules.tick_size, rules.min_notional, rules.min_qty) == (0.1, 0.0001, 5.0, 0.1)
    income = parsing.income(payload("income"))
    assert [(r.income_type, r.amount) for r in income] == [("REALIZED_PNL", -7.812), ("COMMISSION", -0.09504)]


def test_standard_and_algo_open_orders_merge():
    orders = parsing.open_orders(payload("open_orders"), payload("open_algo_orders"), "XRPUSDT")
    by_id = {o.order_id: o for o in orders}
    stop = by_id["4000000000123"]
    assert (stop.is_algo, stop.type, stop.trigger_price, stop.reduce_only) == (True, "STOP_MARKET", 1.98, True)
    assert by_id["8389765600"].trigger_price is None and not by_id["8389765600"].is_algo


def test_market_statistics():
    oi = market_parsing.parse_open_interest(payload("open_interest_hist"), "XRPUSDT")
    assert oi["sum_open_interest"].tolist() == [301234567.1, 301534567.1]
    funding = market_parsing.parse_funding(payload("funding_rate"), "XRPUSDT")
    assert funding["funding_rate"].tolist() == [0.0001]
    ls = market_parsing.parse_ls_ratio(payload("top_long_short_account_ratio"), payload("global_long_short_account_ratio"))
    assert ls[["top_acct_ls_ratio", "global_ls_ratio"]].iloc[0].tolist() == [1.8105, 2.1042]


# ------------------------------------------------------------------------------------------------ the fake exchange
@pytest.fixture(scope="module")
def traded_fake() -> Iterator[tuple[Any, dict[str, Any]]]:
    """A fake exchange after an entry, a protective stop, its trigger and a liquidation, with the REST answers."""
    from tests.trader_runtime.testing.fake_exchange.candles import flat_closes, make_candles
    from trader_runtime.testing.fake_exchange import FakeExchange, FakeExchangeConfig, client_for

    closes = flat_closes()
    with FakeExchange(make_candles(closes), symbol="XRPUSDT", config=FakeExchangeConfig(history_candles=40)) as fx:
        client = client_for(fx, timeout_s=5)
        answers: dict[str, Any] = {"exchange_info": client.futures_exchange_info(),
                                   "klines": client.futures_klines(symbol="XRPUSDT", interval="15m", limit=3)}
        answers["new_order"] = client.futures_create_order(symbol="XRPUSDT", side="BUY", type="MARKET", quantity="100",
                                                           newOrderRespType="RESULT")  # fmt: skip
        last = float(answers["klines"][-1][4])
        answers["new_algo_order"] = client.futures_create_order(
            symbol="XRPUSDT", side="SELL", type="STOP_MARKET", quantity="100", stopPrice=f"{last * 0.5:.4f}",
            reduceOnly="true")
        answers["open_algo_orders"] = client.futures_get_open_algo_orders(symbol="XRPUSDT")
        answers["balance"] = client.futures_account_balance()
        answers["position_risk"] = client.futures_position_information(symbol="XRPUSDT")
        answers["listen_key"] = requests.post(f"{fx.rest_url}/fapi/v1/listenKey", timeout=5,
                                              headers={"X-MBX-APIKEY": fx.api_key}).json()  # fmt: skip
        answers["open_interest_hist"] = client.futures_open_interest_hist(symbol="XRPUSDT", period="15m", limit=2)
        answers["funding_rate"] = client.futures_funding_rate(symbol="XRPUSDT", limit=1)
        answers["top_ls"] = client.futures_top_longshort_account_ratio(symbol="XRPUSDT", period="15m", limit=1)
        answers["global_ls"] = client.futures_global_longshort_ratio(symbol="XRPUSDT", period="15m", limit=1)
        fx.close_position_externally("XRPUSDT", liquidation=True)
        answers["income"] = client.futures_income_history(symbol="XRPUSDT")
        client.close_connection()
        yield fx, answers


def _events(fx: Any, kind: str, **match: Any) -> list[dict[str, Any]]:
    out = []
    for event in fx.user_events():
        body = event if isinstance(event, dict) else getattr(event, "payload", event)
        if isinstance(body, dict) and body.get("e") == kind and all(body["o"].get(k) == v for k, v in match.items()):
            out.append(body)
    return out


@pytest.mark.parametrize("name, answer", [
    ("klines", "klines"), ("new_order_result", "new_order"), ("new_algo_order", "new_algo_order"),
    ("open_algo_orders", "open_algo_orders"), ("balance_v3", "balance"), ("position_risk_v3", "position_risk"),
    ("listen_key", "listen_key"), ("open_interest_hist", "open_interest_hist"), ("funding_rate", "funding_rate"),
    ("top_long_short_account_ratio", "top_ls"), ("global_long_short_account_ratio", "global_ls"), ("income", "income"),
])  # fmt: skip
def test_fake_rest_answers_match_the_documented_payloads(traded_fake, name: str, answer: str) -> None:
    assert_matches(name, traded_fake[1][answer])


def test_fake_exchange_info_filters_match(traded_fake) -> None:
    documented = {f["filterType"]: f for f in payload("exchange_info_symbol")["symbols"][0]["filters"]}
    [symbol] = [s for s in traded_fake[1]["exchange_info"]["symbols"] if s["symbol"] == "XRPUSDT"]
    actual = {f["filterType"]: f for f in symbol["filters"]}
    for kind, example in documented.items():
        assert shape_differences(example, actual[kind], set()) == [], kind


def test_fake_user_events_match_the_documented_payloads(traded_fake) -> None:
    fx = traded_fake[0]
    fills = _events(fx, "ORDER_TRADE_UPDATE", x="TRADE")
    assert fills, "no fill event"
    assert_matches("order_trade_update_entry_fill", fills[0])
    assert_matches("order_trade_update_new", _events(fx, "ORDER_TRADE_UPDATE", x="NEW")[0])
    assert_matches("account_update", _events(fx, "ACCOUNT_UPDATE")[0])
    assert_matches("algo_update_triggered", _events(fx, "ALGO_UPDATE")[0])


def test_fake_liquidation_event_matches_and_carries_the_fee_it_books(traded_fake) -> None:
    """The fee of a liquidation is in the event (`n`, `N`) and in the income history, so the two agree."""
    fx, answers = traded_fake
    [liquidation] = _events(fx, "ORDER_TRADE_UPDATE", x="CALCULATED")
    assert_matches("order_trade_update_liquidation", liquidation)
    o = liquidation["o"]
    assert o["o"] == "LIQUIDATION" and o["c"].startswith("autoclose-") and o["X"] == "FILLED"
    [fill_event] = parsing.user_events(liquidation)
    booked = [r for r in answers["income"] if r["incomeType"] == "COMMISSION" and str(r.get("tradeId")) == str(o["t"])]
    assert booked and fill_event.fill.commission == pytest.approx(-sum(float(r["income"]) for r in booked))
