"""The HTTP front seen through the real python-binance `Client`: signatures, API keys and every HTTP fault type."""

from __future__ import annotations

import asyncio
import time

import pytest
import requests
import websockets
from binance import Client
from binance.exceptions import BinanceAPIException

from tests.trader_runtime.testing.fake_exchange.conftest import error_of
from trader_runtime.testing.fake_exchange import (Delay, FakeExchange, FakeExchangeConfig, FaultRule, HttpError,
                                                  binance_error, client_for, ip_banned, order_rejected, server_error)


def test_signed_request_with_the_wrong_secret_is_refused(fx: FakeExchange) -> None:
    with pytest.raises(BinanceAPIException) as err:
        client_for(fx, api_secret="not-the-secret").futures_account_balance()
    assert error_of(err) == (400, -1022)


def test_unknown_api_key_is_refused(fx: FakeExchange) -> None:
    with pytest.raises(BinanceAPIException) as err:
        client_for(fx, api_key="someone-else").futures_account_balance()
    assert error_of(err) == (401, -2015)


def test_request_log_keeps_parameters_but_not_the_signature(fx: FakeExchange, client: Client) -> None:
    client.futures_position_information(symbol="XRPUSDT")
    method, path, params = fx.requests()[-1]
    assert (method, path, params["symbol"]) == ("GET", "/fapi/v3/positionRisk", "XRPUSDT")
    assert "signature" not in params and "timestamp" in params


def test_rate_limit_carries_retry_after_and_is_spent_once(fx: FakeExchange, client: Client) -> None:
    rule = fx.faults.add(FaultRule(method="POST", path="/fapi/v1/order", times=1, error=HttpError(429, retry_after=1)))
    with pytest.raises(BinanceAPIException) as err:
        client.futures_create_order(symbol="XRPUSDT", side="BUY", type="MARKET", quantity="10")
    assert error_of(err) == (429, -1003)
    assert err.value.response.headers["Retry-After"] == "1"
    assert client.futures_create_order(symbol="XRPUSDT", side="BUY", type="MARKET", quantity="10")["status"] == "NEW"
    assert (rule.matched, rule.injected) == (1, 1)
    assert fx.snapshot().positions["XRPUSDT"].amount == 10


def test_ip_ban_418(fx: FakeExchange, client: Client) -> None:
    fx.faults.add(FaultRule(path="/fapi/v1/klines", error=ip_banned(120)))
    with pytest.raises(BinanceAPIException) as err:
        client.futures_klines(symbol="XRPUSDT", interval="15m")
    assert error_of(err) == (418, -1003) and err.value.response.headers["Retry-After"] == "120"


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_not_json(fx: FakeExchange, client: Client, status: int) -> None:
    fx.faults.add(FaultRule(path="/fapi/v*/balance", method="GET", error=server_error(status)))
    with pytest.raises(BinanceAPIException) as err:
        client.futures_account_balance()
    assert err.value.status_code == status and err.value.code == 0  # python-binance: "Invalid JSON error message"


@pytest.mark.parametrize("code", [-1021, -1111, -2019, -2021])
def test_business_errors_injected_with_their_real_status(fx: FakeExchange, client: Client, code: int) -> None:
    fx.faults.add(FaultRule(path="/fapi/v1/order", error=binance_error(code) if code == -1021 else order_rejected(code)))
    with pytest.raises(BinanceAPIException) as err:
        client.futures_create_order(symbol="XRPUSDT", side="BUY", type="MARKET", quantity="10")
    assert error_of(err) == (400, code)
    assert "XRPUSDT" not in fx.snapshot().positions  # the request was answered by the fault, not executed


def test_timeout_after_execution_leaves_the_order_on_the_exchange(fx: FakeExchange) -> None:
    """The client times out, but the order was executed: its state must be reconciled, never assumed (STYLE 2.7)."""
    impatient = client_for(fx, timeout_s=0.3)
    fx.faults.add(FaultRule(method="POST", path="/fapi/v1/order", error=Delay(2.0, execute=True)))
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        impatient.futures_create_order(symbol="XRPUSDT", side="SELL", type="MARKET", quantity="12")
    assert time.monotonic() - started < 1.5  # the client gave up long before the answer
    assert fx.snapshot().positions["XRPUSDT"].amount == -12


def test_timeout_without_execution_leaves_nothing(fx: FakeExchange) -> None:
    impatient = client_for(fx, timeout_s=0.3)
    fx.faults.add(FaultRule(method="POST", path="/fapi/v1/order", error=Delay(2.0, execute=False)))
    with pytest.raises(requests.exceptions.ReadTimeout):
        impatient.futures_create_order(symbol="XRPUSDT", side="SELL", type="MARKET", quantity="12")
    assert fx.snapshot().positions == {}


def test_slow_answer_within_the_timeout_still_arrives(fx: FakeExchange, client: Client) -> None:
    fx.faults.add(FaultRule(path="/fapi/v1/time", error=Delay(0.2)))
    started = time.monotonic()
    assert client.futures_time()["serverTime"] > 0
    assert time.monotonic() - started >= 0.2


def test_recv_window_is_enforced_on_the_wall_clock_when_asked(candles) -> None:
    config = FakeExchangeConfig(time_source="wall", recv_window_check=True, history_candles=40)
    with FakeExchange(candles, symbol="XRPUSDT", config=config) as fx:
        client = client_for(fx)
        assert client.futures_account_balance()[0]["asset"] == "USDT"
        client.timestamp_offset = -60_000  # a clock one minute behind, beyond recvWindow 10 s
        with pytest.raises(BinanceAPIException) as err:
            client.futures_account_balance()
    assert error_of(err) == (400, -1021)


def test_unknown_endpoint_is_404(fx: FakeExchange) -> None:
    assert requests.get(f"{fx.rest_url}/fapi/v1/notAThing", timeout=5).status_code == 404


def test_outage_rule_answers_every_path_including_stream_handshakes(fx: FakeExchange, client: Client) -> None:
    fx.faults.add(FaultRule(path="*", times=None, error=server_error(503)))

    async def handshake() -> int:
        try:
            await websockets.connect(f"{fx.ws_url}market/stream?streams=xrpusdt@kline_15m", open_timeout=5)
        except websockets.exceptions.InvalidStatus as err:
            return err.response.status_code
        return 101

    with pytest.raises(BinanceAPIException) as err:
        client.futures_ping()
    assert err.value.status_code == 503 and asyncio.run(handshake()) == 503
