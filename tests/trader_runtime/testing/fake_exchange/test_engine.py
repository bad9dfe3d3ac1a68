"""Orders through the real python-binance `Client`: market fills, validation errors, algo-order routing and
conditional triggers on replayed candles, for both venue flavours (spec 30 §5.6)."""

from __future__ import annotations

from decimal import Decimal
from typing import Iterator

import numpy as np
import pytest
from binance import Client
from binance.exceptions import BinanceAPIException

from tests.trader_runtime.testing.fake_exchange.candles import make_candles
from tests.trader_runtime.testing.fake_exchange.conftest import HISTORY, error_of
from trader_runtime.testing.fake_exchange import (DEMO, FakeExchange, FakeExchangeConfig, FaultRule, PartialFill,
                                                  client_for, order_rejected)

QTY = "40.0"


def path_closes(*moves: float, n: int = 60, price: float = 2.5) -> np.ndarray:
    """Flat at `price`, then candle HISTORY + k closes at price × (1 + moves[k])."""
    closes = np.full(n, price)
    for k, move in enumerate(moves):
        closes[HISTORY + k:] = price * (1 + move)
    return closes


@pytest.fixture
def venue(request: pytest.FixtureRequest) -> Iterator[tuple[FakeExchange, Client]]:
    """A fake over `path_closes(*moves)` (indirect param: (moves, venue flavour))."""
    moves, flavour = getattr(request, "param", ((), "live"))
    config = FakeExchangeConfig(history_candles=HISTORY, venue=DEMO if flavour == "demo" else FakeExchangeConfig().venue)
    with FakeExchange(make_candles(path_closes(*moves), wick=0.0005), symbol="XRPUSDT", config=config) as fx:
        yield fx, client_for(fx, timeout_s=5)


def buy(client: Client, qty: str = QTY, **extra: str) -> dict:
    return client.futures_create_order(symbol="XRPUSDT", side="BUY", type="MARKET", quantity=qty, **extra)


def test_market_order_fills_at_the_last_close_and_books_the_fee(venue) -> None:
    fx, client = venue
    ack = buy(client)
    result = buy(client, "10", newOrderRespType="RESULT")
    snap = fx.snapshot()
    assert (ack["status"], ack["executedQty"]) == ("NEW", "0.0")  # ACK: the fill is reported on the stream
    assert (result["status"], result["avgPrice"], result["executedQty"]) == ("FILLED", "2.5000", "10.0")
    assert snap.positions["XRPUSDT"].amount == Decimal("50.0")
    assert snap.wallet_usdt == Decimal("1000") - Decimal("50") * Decimal("2.5") * Decimal("0.0005")
    assert [kind for _, kind, _ in snap.income] == ["COMMISSION", "COMMISSION"]


def test_reduce_only_is_capped_to_the_position_and_books_realized_pnl(venue) -> None:
    fx, client = venue
    with pytest.raises(BinanceAPIException) as no_position:
        client.futures_create_order(symbol="XRPUSDT", side="SELL", type="MARKET", quantity="5", reduceOnly="true")
    buy(client)
    client.futures_create_order(symbol="XRPUSDT", side="SELL", type="MARKET", quantity="99", reduceOnly="true")
    snap = fx.snapshot()
    assert error_of(no_position) == (400, -2022)
    assert snap.positions == {}
    assert ("XRPUSDT", "REALIZED_PNL", Decimal("0E-8")) in snap.income


@pytest.mark.parametrize(
    "qty, code", [("10.55", -1111), ("1.0", -4164), ("90000", -2019), ("0", -4003)],
)
def test_order_validation_errors(venue, qty: str, code: int) -> None:
    _, client = venue
    with pytest.raises(BinanceAPIException) as err:
        buy(client, qty)
    assert error_of(err) == (400, code)


def test_conditional_types_on_the_plain_order_path_get_4120(venue) -> None:
    _, client = venue
    with pytest.raises(BinanceAPIException) as err:  # what a client that does not route to the algo path gets
        client._request_futures_api("post", "order", True, data={
            "symbol": "XRPUSDT", "side": "SELL", "type": "STOP_MARKET", "stopPrice": "2.4000", "quantity": QTY})
    assert error_of(err) == (400, -4120)


def test_library_routes_stop_market_to_the_algo_endpoint(venue) -> None:
    """Contract (INC-23): python-binance sends STOP_MARKET to POST /fapi/v1/algoOrder with triggerPrice."""
    fx, client = venue
    buy(client)
    placed = client.futures_create_order(symbol="XRPUSDT", side="SELL", type="STOP_MARKET", stopPrice="2.4000",
                                         quantity=QTY, reduceOnly="true")
    method, path, params = fx.requests()[-1]
    assert (method, path) == ("POST", "/fapi/v1/algoOrder")
    assert (params["algoType"], params["triggerPrice"], params["type"]) == ("CONDITIONAL", "2.4000", "STOP_MARKET")
    assert "stopPrice" not in params and params["clientAlgoId"].startswith("x-Cb7ytekJ")
    assert "algoId" in placed and "orderId" not in placed  # live: only algoId (spec 30 §5.6)
    assert client.futures_get_open_orders(symbol="XRPUSDT") == []  # live: invisible to standard queries
    assert [a["algoId"] for a in client.futures_get_open_algo_orders(symbol="XRPUSDT")] == [placed["algoId"]]


def test_trigger_that_would_fire_immediately_is_refused(venue) -> None:
    _, client = venue
    buy(client)
    with pytest.raises(BinanceAPIException) as err:
        client.futures_create_order(symbol="XRPUSDT", side="SELL", type="STOP_MARKET", stopPrice="2.6000",
                                    quantity=QTY, reduceOnly="true")
    assert error_of(err) == (400, -2021)


@pytest.mark.parametrize("venue", [((0.0, -0.03), "live")], indirect=True)
def test_stop_market_fills_at_its_trigger_when_a_candle_crosses_it(venue) -> None:
    fx, client = venue
    buy(client)
    sl = client.futures_create_order(symbol="XRPUSDT", side="SELL", type="STOP_MARKET", stopPrice="2.4500",
                                     quantity=QTY, reduceOnly="true")
    fx.advance()  # candle HISTORY: flat, nothing happens
    assert fx.snapshot().positions["XRPUSDT"].amount == Decimal(QTY)
    fx.advance()  # candle HISTORY+1 drops 3 %
    snap = fx.snapshot()
    algo = client.futures_get_algo_order(algoId=sl["algoId"])
    assert snap.positions == {}
    assert (algo["algoStatus"], algo["actualPrice"]) == ("FINISHED", "2.4500")
    assert ("XRPUSDT", "REALIZED_PNL", Decimal("-2.00000000")) in snap.income


@pytest.mark.parametrize("venue", [((-0.03,), "live"), ((-0.03,), "demo")], indirect=True)
def test_sibling_take_profit_after_a_stop_depends_on_the_venue(venue) -> None:
    fx, client = venue
    buy(client)
    client.futures_create_order(symbol="XRPUSDT", side="SELL", type="STOP_MARKET", stopPrice="2.4500", quantity=QTY, reduceOnly="true")
    tp = client.futures_create_order(symbol="XRPUSDT", side="SELL", type="TAKE_PROFIT_MARKET", stopPrice="2.6000",
                                     quantity=QTY, reduceOnly="true")
    fx.advance()
    status = fx.snapshot().algo_status[tp["algoId"]]
    live = fx.config.venue.name == "live"
    assert status == ("NEW" if live else "EXPIRED")  # live leaves an orphan TP (INC-22)
    trade = [e["o"] for e in fx.user_events() if e["e"] == "ORDER_TRADE_UPDATE" and e["o"]["x"] == "TRADE"][-1]
    assert (trade["o"], trade["ot"], trade["R"], trade["X"]) == ("MARKET", "MARKET" if live else "STOP_MARKET", True, "FILLED")


@pytest.mark.parametrize("venue", [((-0.05,), "live")], indirect=True)
def test_take_profit_of_a_short_fills_at_its_trigger(venue) -> None:
    fx, client = venue
    client.futures_create_order(symbol="XRPUSDT", side="SELL", type="MARKET", quantity=QTY)
    sl = client.futures_create_order(symbol="XRPUSDT", side="BUY", type="STOP_MARKET", stopPrice="2.6000", quantity=QTY, reduceOnly="true")
    client.futures_create_order(symbol="XRPUSDT", side="BUY", type="TAKE_PROFIT_MARKET", stopPrice="2.4000", quantity=QTY, reduceOnly="true")
    fx.advance()  # drop of 5 %: the short's take-profit fires
    snap = fx.snapshot()
    assert snap.positions == {} and snap.algo_status[sl["algoId"]] == "NEW"
    assert ("XRPUSDT", "REALIZED_PNL", Decimal("4.00000000")) in snap.income


def test_stop_is_checked_before_take_profit_within_one_candle() -> None:
    """A candle spanning both triggers closes at the stop (backtest convention, spec 20 §1.7); on live the
    take-profit left behind is refused when its trigger is reached without a position."""
    frame = make_candles(path_closes())
    frame.iloc[HISTORY, frame.columns.get_loc("high")] = 2.6
    frame.iloc[HISTORY, frame.columns.get_loc("low")] = 2.4
    with FakeExchange(frame, symbol="XRPUSDT", config=FakeExchangeConfig(history_candles=HISTORY)) as fx:
        client = client_for(fx)
        buy(client)
        sl = client.futures_create_order(symbol="XRPUSDT", side="SELL", type="STOP_MARKET", stopPrice="2.4500", quantity=QTY, reduceOnly="true")
        tp = client.futures_create_order(symbol="XRPUSDT", side="SELL", type="TAKE_PROFIT_MARKET", stopPrice="2.5500", quantity=QTY, reduceOnly="true")
        fx.advance()
        snap = fx.snapshot()
        rejected = client.futures_get_algo_order(algoId=tp["algoId"])
    assert (snap.algo_status[sl["algoId"]], snap.algo_status[tp["algoId"]]) == ("FINISHED", "REJECTED")
    assert [i for i in snap.income if i[1] == "REALIZED_PNL"] == [("XRPUSDT", "REALIZED_PNL", Decimal("-2.00000000"))]
    assert rejected["algoStatus"] == "REJECTED"


@pytest.mark.parametrize("venue", [((), "live"), ((), "demo")], indirect=True)
def test_cancel_all_reaches_algo_orders_only_on_demo(venue) -> None:
    fx, client = venue
    buy(client)
    client.futures_create_order(symbol="XRPUSDT", side="SELL", type="STOP_MARKET", stopPrice="2.4000", quantity=QTY, reduceOnly="true")
    demo = fx.config.venue.name == "demo"
    assert len(client.futures_get_open_orders(symbol="XRPUSDT")) == (1 if demo else 0)
    assert client.futures_cancel_all_open_orders(symbol="XRPUSDT")["code"] == 200
    assert len(client.futures_get_open_algo_orders(symbol="XRPUSDT")) == (0 if demo else 1)
    assert client.futures_cancel_all_algo_open_orders(symbol="XRPUSDT")["code"] == 200
    assert client.futures_get_open_algo_orders(symbol="XRPUSDT") == []


def test_rejected_take_profit_is_refused_twice_then_placed(venue) -> None:
    """The SL/TP retry scenario (INC-17): a rule rejects the TP leg only, a given number of times."""
    fx, client = venue
    rule = fx.faults.add(FaultRule(method="POST", path="/fapi/v1/algoOrder", params={"type": "TAKE_PROFIT_MARKET"},
                                   times=2, error=order_rejected(-2021)))
    buy(client)
    client.futures_create_order(symbol="XRPUSDT", side="SELL", type="STOP_MARKET", stopPrice="2.4000", quantity=QTY, reduceOnly="true")
    codes = []
    for _ in range(3):
        try:
            client.futures_create_order(symbol="XRPUSDT", side="SELL", type="TAKE_PROFIT_MARKET", stopPrice="2.6000",
                                        quantity=QTY, reduceOnly="true")
            codes.append(0)
        except BinanceAPIException as err:
            codes.append(err.code)
    assert codes == [-2021, -2021, 0] and (rule.matched, rule.injected) == (2, 2)
    assert len(client.futures_get_open_algo_orders(symbol="XRPUSDT")) == 2


@pytest.mark.parametrize("venue", [((), "demo")], indirect=True)
def test_demo_placement_answer_carries_an_order_id(venue) -> None:
    _, client = venue
    buy(client)
    placed = client.futures_create_order(symbol="XRPUSDT", side="SELL", type="STOP_MARKET", stopPrice="2.4000",
                                         quantity=QTY, reduceOnly="true")
    assert placed["orderId"] == placed["algoId"]


def test_cancel_single_algo_order_and_unknown_ids(venue) -> None:
    _, client = venue
    buy(client)
    sl = client.futures_create_order(symbol="XRPUSDT", side="SELL", type="STOP_MARKET", stopPrice="2.4000", quantity=QTY, reduceOnly="true")
    with pytest.raises(BinanceAPIException) as standard:
        client.futures_cancel_order(symbol="XRPUSDT", orderId=sl["algoId"])  # live: the standard path does not know it
    answer = client.futures_cancel_algo_order(symbol="XRPUSDT", algoId=sl["algoId"])
    with pytest.raises(BinanceAPIException) as again:
        client.futures_cancel_algo_order(symbol="XRPUSDT", algoId=sl["algoId"])
    assert error_of(standard) == (400, -2011) and error_of(again) == (400, -2011)
    assert (answer["algoId"], answer["msg"]) == (sl["algoId"], "success")


def test_partial_fill_fault_splits_a_market_order(venue) -> None:
    fx, client = venue
    rule = fx.faults.add(FaultRule(action=PartialFill((0.25, 0.75)), params={"type": "MARKET"}))
    buy(client)
    trades = [e["o"] for e in fx.user_events() if e["e"] == "ORDER_TRADE_UPDATE" and e["o"]["x"] == "TRADE"]
    assert [(t["X"], t["l"], t["z"]) for t in trades] == [("PARTIALLY_FILLED", "10.0", "10.0"), ("FILLED", "30.0", "40.0")]
    assert len({t["i"] for t in trades}) == 1 and rule.injected == 1


def test_external_liquidation_is_a_calculated_execution(venue) -> None:
    fx, client = venue
    buy(client)
    fx.close_position_externally("XRPUSDT", liquidation=True)
    last = fx.user_events()[-2]["o"]
    assert (last["x"], last["X"], last["o"], last["c"][:10]) == ("CALCULATED", "FILLED", "LIQUIDATION", "autoclose-")
    assert fx.snapshot().positions == {}
