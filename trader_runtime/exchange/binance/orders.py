"""Order calls on Binance USD-M: market orders with their fills, SL/TP on the algo endpoint, cancels, lookups.

- Market orders are sent once (a timeout is an unknown outcome, never a resend) with our client id and
  `newOrderRespType=RESULT`. Their fills — with realised PnL and commission, which the REST answer lacks — come
  from the user stream: a waiter registered *before* sending collects them, so the caller gets the fills without
  blocking the bot queue the stream feeds. If the stream is slow, the fills are read from `userTrades`.
- SL/TP are placed explicitly on `POST /fapi/v1/algoOrder` (INC-22/23: never rely on the library's routing),
  reduce-only, with our id as `clientAlgoId`; the answer's `algoId` is what cancels the leg.
- Isolated margin before every entry; -4046 ("no need to change") is success (INC-20).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from binance import AsyncClient

from trader_runtime.errors import OrderRejected
from trader_runtime.exchange.binance import parsing
from trader_runtime.exchange.binance.errors import NO_CHANGE_CODES, UNKNOWN_ORDER_CODES, call
from trader_runtime.exchange.port import ExchangeEvent, Fill, FillEvent, IncomeRow, OpenOrder, OrderResult, OrderSide, ProtectiveOrder, Purpose, SymbolRules

logger = logging.getLogger(__name__)

TERMINAL = ("FILLED", "CANCELED", "EXPIRED", "REJECTED")


def decimals(step: float) -> int:
    if step <= 0:
        return 8
    return max(0, -int(math.floor(math.log10(step) + 1e-9)))


@dataclass
class _Waiter:
    order_id: str | None = None
    fills: dict[str, Fill] = field(default_factory=dict)
    status: str = "NEW"
    event: asyncio.Event = field(default_factory=asyncio.Event)
    expected_qty: float | None = None

    def add(self, fill: Fill, status: str) -> None:
        self.fills[fill.fill_key] = fill
        self.status = status
        self.check()

    def check(self) -> None:
        done_qty = sum(f.quantity for f in self.fills.values())
        if self.status in TERMINAL or (self.expected_qty and done_qty >= self.expected_qty - 1e-12):
            self.event.set()


class BinanceOrders:
    def __init__(self, client: Callable[[], AsyncClient], *, order_wait_s: float = 10.0, filled_wait_s: float = 1.0) -> None:
        self.client = client
        self.order_wait_s = order_wait_s
        # the answer already says FILLED: the position exists and waits for its SL/TP, so the stream's fills (fees,
        # PnL) get only a short grace before they are read over REST (30 §5.4: protection within the retry budget)
        self.filled_wait_s = min(filled_wait_s, order_wait_s)
        self.rules: dict[str, SymbolRules] = {}
        self._waiters: dict[str, _Waiter] = {}
        self._user_trades_ok = True

    # ------------------------------------------------------------------------------------------ stream hook
    def on_event(self, ev: ExchangeEvent) -> None:
        """Called by the user stream for every event (before the bots see it): completes waiting market orders."""
        if not isinstance(ev, FillEvent):
            return
        f = ev.fill
        waiter = self._waiters.get(f.client_id or "")
        if waiter is None:
            waiter = next((w for w in self._waiters.values() if w.order_id == f.order_id), None)
        if waiter is not None:
            waiter.add(f, ev.order_status)

    # ------------------------------------------------------------------------------------------ helpers
    def _qty(self, symbol: str, qty: float) -> str:
        step = self.rules[symbol].qty_step if symbol in self.rules else 0.001
        return f"{qty:.{decimals(step)}f}"

    def _price(self, symbol: str, price: float) -> str:
        tick = self.rules[symbol].tick_size if symbol in self.rules else 0.0001
        return f"{price:.{decimals(tick)}f}"

    # ------------------------------------------------------------------------------------------ account set-up
    async def prepare(self, symbol: str, leverage: int) -> None:
        c = self.client()
        try:
            await call(lambda: c.futures_change_margin_type(symbol=symbol, marginType="ISOLATED"), f"{symbol} margin type")
        except OrderRejected as exc:
            if not any(f"Binance {code}:" in str(exc) for code in NO_CHANGE_CODES):
                raise
            logger.debug("%s already isolated", symbol)
        await call(lambda: c.futures_change_leverage(symbol=symbol, leverage=leverage), f"{symbol} leverage")

    # ------------------------------------------------------------------------------------------ market orders
    async def market(self, symbol: str, side: OrderSide, quantity: float, *, reduce_only: bool, client_id: str) -> OrderResult:
        c = self.client()
        waiter = self._waiters[client_id] = _Waiter()
        what = f"{symbol} market {side} {quantity}{' reduce-only' if reduce_only else ''}"
        try:
            params: dict[str, Any] = {"symbol": symbol, "side": side, "type": "MARKET", "quantity": self._qty(symbol, quantity),
                                      "newClientOrderId": client_id, "newOrderRespType": "RESULT"}  # fmt: skip
            if reduce_only:
                params["reduceOnly"] = "true"
            resp = await call(lambda: c.futures_create_order(**params), what, attempts=1)
            order_id = str(resp["orderId"])
            waiter.order_id = order_id
            executed = float(resp.get("executedQty") or 0)
            waiter.expected_qty = executed if executed > 0 else None
            if resp.get("status") in TERMINAL and executed == 0:
                return OrderResult(symbol, order_id, client_id, resp["status"], ())
            waiter.check()  # the stream may have delivered the fills before the answer arrived
            wait_s = self.filled_wait_s if resp.get("status") == "FILLED" and executed > 0 else self.order_wait_s
            try:
                await asyncio.wait_for(waiter.event.wait(), wait_s)
            except asyncio.TimeoutError:
                logger.warning("%s: fills not seen on the user stream within %.1f s; reading them over REST", what, wait_s)
            fills = tuple(waiter.fills.values())
            if not fills or (executed and sum(f.quantity for f in fills) < executed - 1e-12):
                fills = tuple(await self.order_fills(symbol, order_id, client_id))
            status = waiter.status if waiter.fills else str(resp.get("status", "NEW"))
            if executed and sum(f.quantity for f in fills) >= executed - 1e-12:
                status = "FILLED" if str(resp.get("status")) == "FILLED" or status == "FILLED" else status
            return OrderResult(symbol, order_id, client_id, status, fills)
        finally:
            self._waiters.pop(client_id, None)

    async def order_fills(self, symbol: str, order_id: str, client_id: str | None) -> list[Fill]:
        """Fills of one order over REST: `userTrades`; where that endpoint is unavailable, one fill built from the
        order's average price and the income rows booked at its execution time."""
        c = self.client()
        if self._user_trades_ok:
            try:
                rows = await call(lambda: c.futures_account_trades(symbol=symbol, orderId=int(order_id)), f"{symbol} trades of {order_id}")
                return parsing.account_trades(rows, symbol, {order_id: client_id} if client_id else None)
            except OrderRejected as exc:
                logger.warning("userTrades unavailable (%s); using order + income", exc)
                self._user_trades_ok = False
        order = await call(lambda: c.futures_get_order(symbol=symbol, orderId=int(order_id)), f"{symbol} order {order_id}")
        return await self._fills_from_order(symbol, order)

    async def _fills_from_order(self, symbol: str, order: dict[str, Any]) -> list[Fill]:
        qty = float(order.get("executedQty") or 0)
        if qty <= 0:
            return []
        when = int(order.get("updateTime") or order.get("time") or 0)
        rows = await self.income_since(symbol, when)
        at = [r for r in rows if r.time_ms == when]
        realized = sum(r.amount for r in at if r.income_type == "REALIZED_PNL")
        commission = sum(-r.amount for r in at if r.income_type == "COMMISSION")
        kind = order.get("origType") or order.get("type", "MARKET")
        return [Fill(symbol, f"{order['orderId']}:order", str(order["orderId"]), order.get("clientOrderId"), when, order["side"],
                     float(order["avgPrice"]), qty, realized, abs(commission), "USDT", bool(order.get("reduceOnly")), kind)]  # fmt: skip

    # ------------------------------------------------------------------------------------------ protection
    async def protective(self, symbol: str, purpose: Purpose, side: OrderSide, quantity: float, trigger_price: float,
                         client_id: str) -> ProtectiveOrder:
        c = self.client()
        kind = "STOP_MARKET" if purpose == "SL" else "TAKE_PROFIT_MARKET"
        params = {"symbol": symbol, "side": side, "type": kind, "algoType": "CONDITIONAL", "quantity": self._qty(symbol, quantity),
                  "triggerPrice": self._price(symbol, trigger_price), "reduceOnly": "true", "clientAlgoId": client_id,
                  "workingType": "CONTRACT_PRICE"}  # fmt: skip
        resp = await call(lambda: c.futures_create_algo_order(**params), f"{symbol} {purpose} @ {trigger_price}", attempts=1)
        return ProtectiveOrder(symbol, purpose, str(resp["algoId"]), resp.get("clientAlgoId") or client_id, side, quantity, trigger_price)

    async def cancel(self, symbol: str, order_id: str, *, is_algo: bool) -> bool:
        c = self.client()
        try:
            if is_algo:
                await call(lambda: c.futures_cancel_algo_order(symbol=symbol, algoId=int(order_id)), f"{symbol} cancel algo {order_id}")
            else:
                await call(lambda: c.futures_cancel_order(symbol=symbol, orderId=int(order_id)), f"{symbol} cancel {order_id}")
        except OrderRejected as exc:
            if any(f"Binance {code}:" in str(exc) for code in UNKNOWN_ORDER_CODES) or "does not exist" in str(exc).lower():
                return False
            raise
        return True

    async def open_orders(self, symbol: str) -> list[OpenOrder]:
        c = self.client()
        standard = await call(lambda: c.futures_get_open_orders(symbol=symbol), f"{symbol} open orders")
        algo = await call(lambda: c.futures_get_open_algo_orders(symbol=symbol), f"{symbol} open algo orders")
        return parsing.open_orders(standard, algo, symbol)

    # ------------------------------------------------------------------------------------------ history
    async def lookup(self, symbol: str, client_id: str) -> OrderResult | None:
        c = self.client()
        try:
            order = await call(lambda: c.futures_get_order(symbol=symbol, origClientOrderId=client_id), f"{symbol} order {client_id}")
        except OrderRejected as exc:
            if any(f"Binance {code}:" in str(exc) for code in UNKNOWN_ORDER_CODES):
                return None
            raise
        oid = str(order["orderId"])
        fills = await self.order_fills(symbol, oid, client_id) if float(order.get("executedQty") or 0) > 0 else []
        return OrderResult(symbol, oid, client_id, order["status"], tuple(fills))

    async def fills_since(self, symbol: str, start_ms: int) -> list[Fill]:
        if not self._user_trades_ok:
            return []
        c = self.client()
        try:
            rows = await call(lambda: c.futures_account_trades(symbol=symbol, startTime=int(start_ms), limit=1000), f"{symbol} trades")
        except OrderRejected as exc:
            logger.warning("userTrades unavailable (%s); reconciliation falls back to income (SYNC)", exc)
            self._user_trades_ok = False
            return []
        return parsing.account_trades(rows, symbol)

    async def income_since(self, symbol: str, start_ms: int) -> list[IncomeRow]:
        c = self.client()
        rows = await call(lambda: c.futures_income_history(symbol=symbol, startTime=int(start_ms), limit=1000), f"{symbol} income")
        return parsing.income(rows)
