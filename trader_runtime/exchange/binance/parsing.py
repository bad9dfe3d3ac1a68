"""Binance USD-M account/order/stream payloads → domain types (pure functions; market data is market_parsing.py).

Every field the runtime relies on is read here and nowhere else: exchange-info filters (DEF-19, INC-09), position
risk, balances, standard and algo open orders in both shapes (DEF-05), order objects, account trades, income,
`ORDER_TRADE_UPDATE` (spec 30 §6.3, with the fixes of INC-08/12/13/21 and DEF-14), `ALGO_UPDATE` (INC-22) and
kline events. Malformed payloads raise DataError naming the field.
"""

from __future__ import annotations

from typing import Any

from trader_runtime.errors import DataError
from trader_runtime.exchange.port import (
    CandleClosed,
    ExchangeEvent,
    ExchangePosition,
    Fill,
    FillEvent,
    IncomeRow,
    OpenOrder,
    OrderUpdate,
    ProtectiveTriggered,
    SymbolRules,
)

TRIGGER_TYPES = ("STOP_MARKET", "TAKE_PROFIT_MARKET", "STOP", "TAKE_PROFIT")


def _f(value: Any, what: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise DataError(f"{what}={value!r} is not a number") from None


def symbol_rules(exchange_info: dict[str, Any], symbol: str) -> SymbolRules:
    """LOT_SIZE stepSize/minQty, PRICE_FILTER tickSize and MIN_NOTIONAL notional of one symbol."""
    rows = [s for s in exchange_info.get("symbols", []) if s.get("symbol") == symbol]
    if not rows:
        raise DataError(f"{symbol} is not listed in the exchange info")
    filters = {f.get("filterType"): f for f in rows[0].get("filters", [])}
    try:
        lot, price = filters["LOT_SIZE"], filters["PRICE_FILTER"]
    except KeyError as exc:
        raise DataError(f"{symbol}: exchange info lacks the {exc.args[0]} filter") from None
    notional = filters.get("MIN_NOTIONAL") or filters.get("NOTIONAL") or {}
    min_notional = notional.get("notional", notional.get("minNotional", 5.0))
    return SymbolRules(symbol, qty_step=_f(lot["stepSize"], f"{symbol} stepSize"), tick_size=_f(price["tickSize"], f"{symbol} tickSize"),
                       min_notional=_f(min_notional, f"{symbol} notional"), min_qty=_f(lot.get("minQty", 0), f"{symbol} minQty"))  # fmt: skip


def usdt_balance(rows: list[dict[str, Any]]) -> float:
    """Wallet balance of the USDT asset (`balance`); 0.0 when the account holds no USDT row."""
    for row in rows:
        if row.get("asset") == "USDT":
            return _f(row.get("balance"), "USDT balance")
    return 0.0


def position(rows: list[dict[str, Any]], symbol: str) -> ExchangePosition | None:
    """The one-way position of `symbol` from positionRisk rows; None when flat."""
    for row in rows:
        if row.get("symbol") != symbol or row.get("positionSide", "BOTH") not in ("BOTH",):
            continue
        amount = _f(row.get("positionAmt", 0), f"{symbol} positionAmt")
        if amount == 0:
            return None
        return ExchangePosition(symbol, amount, _f(row.get("entryPrice", 0), f"{symbol} entryPrice"), int(row.get("updateTime") or 0))
    return None


def _algo_rows(payload: Any) -> list[dict[str, Any]]:
    """`openAlgoOrders` answers a JSON array; tolerate a wrapped `{"orders": [...]}` as well (DEF-05)."""
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict):
        for key in ("orders", "data", "rows"):
            if isinstance(payload.get(key), list):
                return payload[key]
    raise DataError(f"algo open orders: unexpected shape {type(payload).__name__}: {str(payload)[:120]}")


def open_orders(standard: list[dict[str, Any]], algo: Any, symbol: str) -> list[OpenOrder]:
    """Standard and conditional (algo) open orders merged, one entry per order id."""
    out: dict[str, OpenOrder] = {}
    for row in _algo_rows(algo):
        if row.get("symbol") != symbol:
            continue
        oid = str(row["algoId"])
        out[oid] = OpenOrder(symbol, oid, row.get("clientAlgoId"), row.get("orderType") or row.get("type", ""), row["side"],
                             _f(row.get("quantity", 0), "algo quantity"), _f(row.get("triggerPrice", 0), "triggerPrice") or None,
                             bool(row.get("reduceOnly")), True)  # fmt: skip
    for row in standard:
        if row.get("symbol") != symbol:
            continue
        oid = str(row["orderId"])
        if oid in out:  # the demo venue also lists algo orders among the standard ones
            continue
        stop = _f(row.get("stopPrice", 0), "stopPrice")
        kind = row.get("origType") or row.get("type", "")
        out[oid] = OpenOrder(symbol, oid, row.get("clientOrderId"), kind, row["side"], _f(row.get("origQty", 0), "origQty"),
                             stop if stop > 0 else None, bool(row.get("reduceOnly")), kind in TRIGGER_TYPES)  # fmt: skip
    return list(out.values())


def account_trades(rows: list[dict[str, Any]], symbol: str, client_ids: dict[str, str] | None = None) -> list[Fill]:
    """`userTrades` rows → fills keyed `orderId:tradeId`, the key the user stream produces too."""
    out = []
    for r in rows:
        if r.get("symbol") != symbol:
            continue
        oid = str(r["orderId"])
        out.append(Fill(
            symbol, f"{oid}:{r['id']}", oid, (client_ids or {}).get(oid), int(r["time"]), r["side"], _f(r["price"], "price"),
            _f(r["qty"], "qty"), _f(r.get("realizedPnl", 0), "realizedPnl"), abs(_f(r.get("commission", 0), "commission")),
            r.get("commissionAsset", "USDT"), bool(r.get("reduceOnly", False)), r.get("type", "MARKET"),
        ))  # fmt: skip
    return out


def income(rows: list[dict[str, Any]]) -> list[IncomeRow]:
    return [IncomeRow(r.get("symbol", ""), r["incomeType"], _f(r["income"], "income"), int(r["time"])) for r in rows]


# ------------------------------------------------------------------------------------------------ user stream
def user_events(msg: dict[str, Any]) -> list[ExchangeEvent]:
    """One user-stream message → domain events (nothing for account updates and unknown kinds)."""
    kind = msg.get("e")
    if kind == "ORDER_TRADE_UPDATE":
        return _order_trade_update(msg.get("o") or {})
    if kind == "ALGO_UPDATE":
        return _algo_update(msg.get("o") or {})
    return []


def _order_trade_update(o: dict[str, Any]) -> list[ExchangeEvent]:
    symbol = o.get("s", "")
    execution, status = o.get("x"), o.get("X", "")
    order_id, client = str(o.get("i", 0)), o.get("c")
    kind = o.get("ot") or o.get("o", "")  # INC-21: after a trigger `o` is MARKET; the original type is in `ot`
    if execution not in ("TRADE", "CALCULATED"):
        return [OrderUpdate(symbol, order_id, client, status, kind)]
    qty = _f(o.get("l", 0), "last filled qty")
    price = _f(o.get("L", 0), "last filled price") or _f(o.get("ap", 0), "average price")
    if qty <= 0 or price <= 0:
        return []  # INC-08: never a fill without a price; reconciliation settles it
    liquidation = execution == "CALCULATED" or str(client or "").startswith("autoclose-") or o.get("o") == "LIQUIDATION"
    fill = Fill(symbol, f"{order_id}:{o.get('t', 0)}", order_id, client, int(o.get("T") or 0), o.get("S", ""), price, qty,
                _f(o.get("rp", 0), "rp"), abs(_f(o.get("n", 0), "commission")), o.get("N") or "USDT", bool(o.get("R")),
                "LIQUIDATION" if liquidation else kind, liquidation)  # fmt: skip
    return [FillEvent(fill, status)]


def _algo_update(o: dict[str, Any]) -> list[ExchangeEvent]:
    symbol, algo_id, status = o.get("s", ""), str(o.get("aid", "")), o.get("X", "")
    actual = str(o.get("ai") or "")
    if status in ("TRIGGERED", "FINISHED") and actual:
        return [ProtectiveTriggered(symbol, algo_id, actual, o.get("caid"))]
    if status in ("CANCELED", "EXPIRED", "REJECTED"):
        return [OrderUpdate(symbol, algo_id, o.get("caid"), status, o.get("o", ""))]
    return []


def kline(msg: dict[str, Any]) -> tuple[str, int, dict[str, float], bool] | None:
    """A (possibly combined-stream) kline message → (symbol, open time ms, OHLCV values, closed)."""
    data = msg.get("data", msg) if isinstance(msg, dict) else {}
    if data.get("e") != "kline":
        return None
    k = data["k"]
    values = {"open": _f(k["o"], "o"), "high": _f(k["h"], "h"), "low": _f(k["l"], "l"), "close": _f(k["c"], "c"),
              "volume": _f(k["v"], "v")}  # fmt: skip
    return data.get("s", k.get("s", "")).upper(), int(k["t"]), values, bool(k.get("x"))


def candle_event(symbol: str, open_ms: int, values: dict[str, float]) -> CandleClosed:
    return CandleClosed(symbol, open_ms, values)
