"""Account endpoints through the real `Client`: leverage, margin type (-4046/-4047/-4048), positions, income,
position mode and the listen-key lifecycle."""

from __future__ import annotations

from decimal import Decimal

import pytest
from binance import Client
from binance.exceptions import BinanceAPIException

from tests.trader_runtime.testing.fake_exchange.conftest import error_of
from trader_runtime.testing.fake_exchange import FakeExchange, point_client_at


def test_leverage_change_and_invalid_values(client: Client) -> None:
    assert client.futures_change_leverage(symbol="XRPUSDT", leverage=10) == {
        "leverage": 10, "maxNotionalValue": "1000000", "symbol": "XRPUSDT"}
    with pytest.raises(BinanceAPIException) as err:
        client.futures_change_leverage(symbol="XRPUSDT", leverage=500)
    assert error_of(err) == (400, -4028)


def test_margin_type_no_need_to_change_is_4046(client: Client) -> None:
    assert client.futures_change_margin_type(symbol="XRPUSDT", marginType="ISOLATED") == {"code": 200, "msg": "success"}
    with pytest.raises(BinanceAPIException) as err:
        client.futures_change_margin_type(symbol="XRPUSDT", marginType="ISOLATED")
    assert error_of(err) == (400, -4046) and err.value.message == "No need to change margin type."


def test_margin_type_blocked_by_open_orders_then_by_the_position(client: Client) -> None:
    client.futures_create_order(symbol="XRPUSDT", side="BUY", type="MARKET", quantity="40")
    client.futures_create_order(symbol="XRPUSDT", side="SELL", type="STOP_MARKET", stopPrice="2.4000", quantity="40",
                                reduceOnly="true")
    with pytest.raises(BinanceAPIException) as orders:
        client.futures_change_margin_type(symbol="XRPUSDT", marginType="ISOLATED")
    client.futures_cancel_all_algo_open_orders(symbol="XRPUSDT")
    with pytest.raises(BinanceAPIException) as position:
        client.futures_change_margin_type(symbol="XRPUSDT", marginType="ISOLATED")
    assert (error_of(orders), error_of(position)) == ((400, -4047), (400, -4048))


def test_position_risk_versions_and_account(client: Client) -> None:
    client.futures_change_leverage(symbol="XRPUSDT", leverage=5)
    client.futures_create_order(symbol="XRPUSDT", side="SELL", type="MARKET", quantity="20")
    v3 = client.futures_position_information()
    v2 = client._request_futures_api("get", "positionRisk", True, 2, data={"symbol": "XRPUSDT"})
    account = client.futures_account()
    price = Decimal(client.futures_symbol_ticker(symbol="XRPUSDT")["price"])
    assert [(p["symbol"], p["positionAmt"], Decimal(p["entryPrice"])) for p in v3] == [("XRPUSDT", "-20.0", price)]
    assert (v2[0]["leverage"], v2[0]["marginType"], v2[0]["positionAmt"]) == ("5", "cross", "-20.0")
    assert Decimal(account["totalInitialMargin"]) == 20 * price / 5
    assert Decimal(account["availableBalance"]) == Decimal(account["totalWalletBalance"]) - 20 * price / 5


def test_income_filters_by_type_symbol_and_start_time(fx: FakeExchange, client: Client) -> None:
    client.futures_create_order(symbol="XRPUSDT", side="BUY", type="MARKET", quantity="40")
    fx.advance()
    entry_time = int(fx.snapshot().replay_time.timestamp() * 1000)
    client.futures_create_order(symbol="XRPUSDT", side="SELL", type="MARKET", quantity="40", reduceOnly="true")
    realized = client.futures_income_history(symbol="XRPUSDT", incomeType="REALIZED_PNL", startTime=entry_time)
    fees = client.futures_income_history(symbol="XRPUSDT", incomeType="COMMISSION", startTime=entry_time, limit=10)
    everything = client.futures_income_history()
    assert [r["time"] for r in realized] == [entry_time] and len(fees) == 1
    assert fees[0]["asset"] == "USDT" and Decimal(fees[0]["income"]) < 0
    assert [r["incomeType"] for r in everything] == ["COMMISSION", "REALIZED_PNL", "COMMISSION"]


def test_position_mode_is_one_way(client: Client) -> None:
    assert client.futures_get_position_mode() == {"dualSidePosition": False}


def test_listen_key_lifecycle(client: Client) -> None:
    key = client.futures_stream_get_listen_key()
    assert client.futures_stream_get_listen_key() == key  # an active key is returned again (and extended)
    assert client.futures_stream_keepalive(key) == {"listenKey": key}
    assert client.futures_stream_close(key) == {}
    with pytest.raises(BinanceAPIException) as err:
        client.futures_stream_keepalive(key)
    assert error_of(err) == (400, -1125)
    assert client.futures_stream_get_listen_key() != key


def test_listen_key_needs_the_api_key(fx: FakeExchange) -> None:
    anonymous = Client(None, None, ping=False)
    point_client_at(anonymous, fx)
    with pytest.raises(BinanceAPIException) as err:
        anonymous.futures_stream_get_listen_key()
    assert error_of(err) == (401, -2014)
