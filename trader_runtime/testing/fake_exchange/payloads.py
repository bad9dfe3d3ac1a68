"""Binance JSON shapes: REST objects and websocket events built from the fake's state, field for field.

Prices and quantities are strings with the symbol's precision, money has 8 decimals, times are epoch ms — as the
real API sends them, so parsing code tested here behaves the same against Binance.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from trader_runtime.testing.fake_exchange.market import Candle
from trader_runtime.testing.fake_exchange.state import ZERO, AlgoOrder, Order, Position
from trader_runtime.testing.fake_exchange.symbols import SymbolSpec


def fmt(value: Decimal | float, places: int) -> str:
    """Fixed-point string with `places` decimals (Binance never uses exponents)."""
    return f"{Decimal(str(value)):.{places}f}"


def money(value: Decimal | float) -> str:
    return fmt(value, 8)


# ------------------------------------------------------------------------------------------------ market data
def kline_row(c: Candle, spec: SymbolSpec) -> list[Any]:
    """One row of `GET /fapi/v1/klines`."""
    pp = spec.price_precision
    quote = Decimal(str(c.volume)) * Decimal(str(c.close))
    return [c.open_time, fmt(c.open, pp), fmt(c.high, pp), fmt(c.low, pp), fmt(c.close, pp), fmt(c.volume, 3),
            c.close_time, fmt(quote, 5), 0, fmt(c.volume / 2, 3), fmt(quote / 2, 5), "0"]


def kline_event(c: Candle, spec: SymbolSpec, interval: str, event_time: int) -> dict[str, Any]:
    """The `<symbol>@kline_<interval>` stream payload."""
    pp = spec.price_precision
    quote = Decimal(str(c.volume)) * Decimal(str(c.close))
    return {
        "e": "kline", "E": event_time, "s": spec.symbol,
        "k": {"t": c.open_time, "T": c.close_time, "s": spec.symbol, "i": interval, "f": 0, "L": 0,
              "o": fmt(c.open, pp), "c": fmt(c.close, pp), "h": fmt(c.high, pp), "l": fmt(c.low, pp),
              "v": fmt(c.volume, 3), "n": 0, "x": c.closed, "q": fmt(quote, 5), "V": fmt(c.volume / 2, 3),
              "Q": fmt(quote / 2, 5), "B": "0"},
    }


# ------------------------------------------------------------------------------------------------ orders
def order_object(o: Order, spec: SymbolSpec) -> dict[str, Any]:
    """Order as `POST/GET/DELETE /fapi/v1/order` and `openOrders` return it."""
    pp, qp = spec.price_precision, spec.quantity_precision
    return {
        "orderId": o.order_id, "symbol": o.symbol, "status": o.status, "clientOrderId": o.client_order_id,
        "price": "0", "avgPrice": fmt(o.avg_price, pp), "origQty": fmt(o.quantity, qp),
        "executedQty": fmt(o.executed_qty, qp), "cumQty": fmt(o.executed_qty, qp), "cumQuote": money(o.cum_quote),
        "timeInForce": "GTC", "type": o.type, "reduceOnly": o.reduce_only, "closePosition": o.close_position,
        "side": o.side, "positionSide": "BOTH", "stopPrice": fmt(o.stop_price, pp), "workingType": o.working_type,
        "priceProtect": False, "origType": o.orig_type, "priceMatch": "NONE", "selfTradePreventionMode": "EXPIRE_MAKER",
        "goodTillDate": 0, "time": o.time, "updateTime": o.update_time or o.time,
    }


def ack_object(o: Order, spec: SymbolSpec) -> dict[str, Any]:
    """`newOrderRespType=ACK` (the futures default): the order as accepted, before any fill is reported."""
    body = order_object(o, spec)
    body.update(status="NEW", executedQty=fmt(ZERO, spec.quantity_precision), cumQty=fmt(ZERO, spec.quantity_precision),
                cumQuote=money(ZERO), avgPrice=fmt(ZERO, spec.price_precision), updateTime=o.time)
    return body


def algo_object(a: AlgoOrder, spec: SymbolSpec, *, with_order_id: bool = False) -> dict[str, Any]:
    """Algo order as `POST/GET /fapi/v1/algoOrder`, `openAlgoOrders` and `allAlgoOrders` return it."""
    pp, qp = spec.price_precision, spec.quantity_precision
    body: dict[str, Any] = {
        "algoId": a.algo_id, "clientAlgoId": a.client_algo_id, "algoType": "CONDITIONAL", "orderType": a.order_type,
        "symbol": a.symbol, "side": a.side, "positionSide": "BOTH", "timeInForce": a.time_in_force,
        "quantity": fmt(a.quantity, qp), "algoStatus": a.status, "triggerPrice": fmt(a.trigger_price, pp),
        "price": fmt(ZERO, pp), "icebergQuantity": None, "selfTradePreventionMode": "EXPIRE_MAKER",
        "workingType": a.working_type, "priceMatch": "NONE", "closePosition": a.close_position,
        "priceProtect": a.price_protect, "reduceOnly": a.reduce_only, "activatePrice": "", "callbackRate": "",
        "createTime": a.create_time, "updateTime": a.update_time or a.create_time, "triggerTime": a.trigger_time,
        "goodTillDate": 0,
    }
    if with_order_id:
        body["orderId"] = a.algo_id
    return body


def algo_as_standard_order(a: AlgoOrder, spec: SymbolSpec) -> dict[str, Any]:
    """How the demo venue lists a conditional order among standard open orders (spec 30 §5.6, demo column)."""
    pp, qp = spec.price_precision, spec.quantity_precision
    return {
        "orderId": a.algo_id, "symbol": a.symbol, "status": "NEW", "clientOrderId": a.client_algo_id, "price": "0",
        "avgPrice": fmt(ZERO, pp), "origQty": fmt(a.quantity, qp), "executedQty": fmt(ZERO, qp), "cumQuote": money(ZERO),
        "timeInForce": a.time_in_force, "type": a.order_type, "reduceOnly": a.reduce_only,
        "closePosition": a.close_position, "side": a.side, "positionSide": "BOTH", "stopPrice": fmt(a.trigger_price, pp),
        "workingType": a.working_type, "priceProtect": a.price_protect, "origType": a.order_type, "priceMatch": "NONE",
        "selfTradePreventionMode": "EXPIRE_MAKER", "goodTillDate": 0, "time": a.create_time,
        "updateTime": a.update_time or a.create_time,
    }


# ------------------------------------------------------------------------------------------------ user stream
def order_trade_update(o: Order, spec: SymbolSpec, *, execution: str, event_time: int, reported_type: str,
                       last_qty: Decimal = ZERO, last_price: Decimal = ZERO, commission: Decimal = ZERO,
                       realized: Decimal = ZERO, trade_id: int = 0) -> dict[str, Any]:
    """`ORDER_TRADE_UPDATE` with every field spec 30 §6.3 reads (`s o ot x X R i rp n N ap S`) and the rest."""
    pp, qp = spec.price_precision, spec.quantity_precision
    body: dict[str, Any] = {
        "s": o.symbol, "c": o.client_order_id, "S": o.side, "o": o.type, "f": "GTC", "q": fmt(o.quantity, qp),
        "p": "0", "ap": fmt(o.avg_price, pp), "sp": fmt(o.stop_price, pp), "x": execution, "X": o.status,
        "i": o.order_id, "l": fmt(last_qty, qp), "z": fmt(o.executed_qty, qp), "L": fmt(last_price, pp),
        "T": event_time, "t": trade_id, "b": "0", "a": "0", "m": False, "R": o.reduce_only,
        "wt": o.working_type, "ot": reported_type, "ps": "BOTH", "cp": o.close_position, "rp": money(realized),
        "pP": False, "si": 0, "ss": 0, "V": "EXPIRE_MAKER", "pm": "NONE", "gtd": 0, "er": "0",
    }
    if execution in ("TRADE", "CALCULATED"):  # every execution with a fee carries it, liquidations included
        body["N"] = "USDT"
        body["n"] = money(commission)
    return {"e": "ORDER_TRADE_UPDATE", "E": event_time, "T": event_time, "o": body}


def account_update(reason: str, wallet: Decimal, positions: list[tuple[Position, SymbolSpec, str]], event_time: int,
                   *, balance_change: Decimal = ZERO) -> dict[str, Any]:
    """`ACCOUNT_UPDATE`: USDT balance plus the positions the event touched (`mt` = isolated / cross)."""
    p_rows = []
    for pos, spec, margin_type in positions:
        p_rows.append({"s": pos.symbol, "pa": fmt(pos.amount, spec.quantity_precision),
                       "ep": fmt(pos.entry_price, spec.price_precision + 3), "bep": fmt(pos.entry_price, spec.price_precision + 3),
                       "cr": "0", "up": money(ZERO), "mt": "isolated" if margin_type == "ISOLATED" else "cross",
                       "iw": money(ZERO), "ps": "BOTH"})
    return {"e": "ACCOUNT_UPDATE", "E": event_time, "T": event_time,
            "a": {"m": reason, "B": [{"a": "USDT", "wb": money(wallet), "cw": money(wallet), "bc": money(balance_change)}],
                  "P": p_rows}}


def algo_update(a: AlgoOrder, spec: SymbolSpec, *, event_time: int, avg_price: Decimal = ZERO,
                executed_qty: Decimal = ZERO, actual_type: str = "") -> dict[str, Any]:
    """`ALGO_UPDATE`: status changes of a conditional order on the algo service."""
    pp, qp = spec.price_precision, spec.quantity_precision
    return {"e": "ALGO_UPDATE", "T": event_time, "E": event_time,
            "o": {"caid": a.client_algo_id, "aid": a.algo_id, "at": "CONDITIONAL", "o": a.order_type, "s": a.symbol,
                  "S": a.side, "ps": "BOTH", "f": a.time_in_force, "q": fmt(a.quantity, qp), "X": a.status,
                  "ai": "" if a.actual_order_id is None else str(a.actual_order_id), "ap": fmt(avg_price, pp),
                  "aq": fmt(executed_qty, qp), "act": actual_type or "0", "tp": fmt(a.trigger_price, pp), "p": fmt(ZERO, pp),
                  "V": "EXPIRE_MAKER", "wt": a.working_type, "pm": "NONE", "cp": a.close_position, "pP": a.price_protect,
                  "R": a.reduce_only, "tt": a.trigger_time, "gtd": 0, "rm": a.reject_reason}}


def listen_key_expired(key: str, event_time: int) -> dict[str, Any]:
    return {"e": "listenKeyExpired", "E": str(event_time), "listenKey": key}
