"""Binance payloads → domain types: order/algo updates (spec 30 §6.3, INC-08/13/21/22, DEF-14), open orders in
both shapes (DEF-05), exchange-info filters (DEF-19), positions; error mapping by code (STYLE 2.7)."""

from __future__ import annotations

import json

import pytest
from binance.exceptions import BinanceAPIException

from trader_runtime.errors import ConfigError, DataError, OrderRejected, TemporaryExchangeError
from trader_runtime.exchange.binance import parsing
from trader_runtime.exchange.binance.errors import map_error
from trader_runtime.exchange.port import FillEvent, OrderUpdate, ProtectiveTriggered


def _otu(**o) -> dict:
    base = {"s": "XRPUSDT", "c": "ct-R-1", "S": "SELL", "o": "MARKET", "ot": "MARKET", "x": "TRADE", "X": "FILLED",
            "i": 42, "t": 7, "l": "10.0", "L": "1.3400", "ap": "1.3400", "rp": "0.20000000", "n": "0.01000000",
            "N": "USDT", "R": True, "T": 1_700_000_000_000}
    base.update(o)
    return {"e": "ORDER_TRADE_UPDATE", "E": 1, "T": 1, "o": base}


def test_trade_update_is_a_fill_keyed_by_order_and_trade():
    (ev,) = parsing.user_events(_otu())
    assert isinstance(ev, FillEvent) and ev.order_status == "FILLED"
    f = ev.fill
    assert (f.fill_key, f.price, f.quantity, f.realized_pnl, f.commission, f.reduce_only) == ("42:7", 1.34, 10.0, 0.2, 0.01, True)


def test_original_type_wins_after_a_trigger():
    (ev,) = parsing.user_events(_otu(o="MARKET", ot="STOP_MARKET"))
    assert ev.fill.order_type == "STOP_MARKET"  # INC-21


def test_no_price_means_no_fill():
    assert parsing.user_events(_otu(L="0", ap="0")) == []  # INC-08: reconciliation settles it


def test_liquidation_is_a_fill_with_the_liquidation_flag():
    (ev,) = parsing.user_events(_otu(x="CALCULATED", o="LIQUIDATION", c="autoclose-1"))
    assert ev.fill.liquidation and ev.fill.order_type == "LIQUIDATION"  # DEF-14


def test_non_trade_updates_are_order_updates():
    (ev,) = parsing.user_events(_otu(x="EXPIRED", X="EXPIRED"))
    assert isinstance(ev, OrderUpdate) and ev.status == "EXPIRED"


def test_algo_trigger_links_the_leg_to_the_new_order():
    msg = {"e": "ALGO_UPDATE", "o": {"caid": "ct-S-2", "aid": 4000000001, "X": "TRIGGERED", "ai": "8000000005", "s": "XRPUSDT"}}
    (ev,) = parsing.user_events(msg)
    assert ev == ProtectiveTriggered("XRPUSDT", "4000000001", "8000000005", "ct-S-2")
    assert parsing.user_events({"e": "ACCOUNT_UPDATE"}) == []


ALGO = {"algoId": 9, "clientAlgoId": "ct-T-3", "orderType": "TAKE_PROFIT_MARKET", "symbol": "XRPUSDT", "side": "SELL",
        "quantity": "10.0", "triggerPrice": "1.4000", "reduceOnly": True}
STD = {"orderId": 9, "symbol": "XRPUSDT", "clientOrderId": "ct-T-3", "type": "TAKE_PROFIT_MARKET", "origType": "TAKE_PROFIT_MARKET",
       "side": "SELL", "origQty": "10.0", "stopPrice": "1.4000", "reduceOnly": True}


@pytest.mark.parametrize("algo", [[ALGO], {"orders": [ALGO]}], ids=["array", "wrapped"])
def test_algo_open_orders_in_both_shapes_merge_without_duplicates(algo):
    orders = parsing.open_orders([STD], algo, "XRPUSDT")  # the demo venue lists the leg in both places
    assert len(orders) == 1 and orders[0].is_algo and orders[0].purpose == "TP" and orders[0].trigger_price == 1.4
    with pytest.raises(DataError):
        parsing.open_orders([], "nonsense", "XRPUSDT")


def test_exchange_info_filters():
    info = {"symbols": [{"symbol": "TRXUSDT", "filters": [
        {"filterType": "PRICE_FILTER", "tickSize": "0.00001"}, {"filterType": "LOT_SIZE", "stepSize": "1", "minQty": "1"},
        {"filterType": "MIN_NOTIONAL", "notional": "5"}]}]}
    rules = parsing.symbol_rules(info, "TRXUSDT")
    assert (rules.qty_step, rules.tick_size, rules.min_notional) == (1.0, 0.00001, 5.0)
    with pytest.raises(DataError):
        parsing.symbol_rules(info, "XRPUSDT")


def test_position_and_balance():
    rows = [{"symbol": "XRPUSDT", "positionAmt": "-25.0", "entryPrice": "2.1", "positionSide": "BOTH", "updateTime": 5}]
    pos = parsing.position(rows, "XRPUSDT")
    assert pos.side == -1 and pos.amount == -25.0 and parsing.position(rows, "DOGEUSDT") is None
    assert parsing.usdt_balance([{"asset": "BNB", "balance": "1"}, {"asset": "USDT", "balance": "123.4"}]) == 123.4


class _Resp:
    def __init__(self, status: int, body: dict | str) -> None:
        self.status_code, self.text = status, body if isinstance(body, str) else json.dumps(body)


@pytest.mark.parametrize(
    "status,code,kind",
    [(429, -1003, TemporaryExchangeError), (400, -1021, TemporaryExchangeError), (503, -1007, TemporaryExchangeError),
     (401, -2015, ConfigError), (400, -1022, ConfigError), (400, -2019, OrderRejected), (400, -4164, OrderRejected),
     (400, -2022, OrderRejected)],
)
def test_error_mapping_by_code(status, code, kind):
    exc = BinanceAPIException(_Resp(status, {"code": code, "msg": "x"}), status, json.dumps({"code": code, "msg": "x"}))
    assert isinstance(map_error(exc, "XRPUSDT order"), kind)
    assert isinstance(map_error(TimeoutError(), "XRPUSDT order"), TemporaryExchangeError)
