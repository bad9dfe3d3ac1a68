"""The fake's matching engine: validates orders, fills them, triggers conditional orders on replayed candles.

Market orders fill at the last price (close of the last closed candle) with the configured slippage. Conditional
orders live on the algo service (spec 30 §5.6) and fill at their trigger price when a replayed candle crosses it,
stop orders before take-profits within one candle (the backtest's convention, spec 20 §1.7). Every state change
returns the user-stream events it causes; delivering them is the server's job.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import Any, Mapping

from trader_runtime.testing.fake_exchange import payloads as P
from trader_runtime.testing.fake_exchange.api_errors import ApiError
from trader_runtime.testing.fake_exchange.config import FakeExchangeConfig
from trader_runtime.testing.fake_exchange.faults import FaultBook, PartialFill
from trader_runtime.testing.fake_exchange.market import ReplayMarket
from trader_runtime.testing.fake_exchange.params import flag, one_of, required
from trader_runtime.testing.fake_exchange.state import ZERO, AccountState, AlgoOrder, IncomeRow, Order
from trader_runtime.testing.fake_exchange.symbols import SymbolSpec

Event = dict[str, Any]
CONDITIONAL_TYPES = ("STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET")
SUPPORTED_ALGO_TYPES = ("STOP_MARKET", "TAKE_PROFIT_MARKET")
CLIENT_PREFIX = "fx-"


class MatchingEngine:
    """Order entry, fills and triggers for one account on one replayed market."""

    def __init__(self, account: AccountState, market: ReplayMarket, specs: Mapping[str, SymbolSpec], faults: FaultBook,
                 config: FakeExchangeConfig) -> None:
        self.account = account
        self.market = market
        self.specs = specs
        self.faults = faults
        self.venue = config.venue
        self.fee_rate = Decimal(str(config.taker_fee_rate))
        self.slippage = Decimal(str(config.slippage_bps)) / Decimal(10_000)

    def spec(self, symbol: str) -> SymbolSpec:
        if not self.market.has(symbol):
            raise ApiError.of(-1121)
        return self.specs[symbol]

    def last_price(self, symbol: str) -> Decimal:
        """Last traded (and mark) price: the last close, on the symbol's tick grid."""
        return self.specs[symbol].quantize_price(Decimal(str(self.market.last_price(symbol))))

    # ------------------------------------------------------------------------------------------ market orders
    def place_order(self, p: Mapping[str, str], now: int) -> tuple[dict[str, Any], list[Event]]:
        """`POST /fapi/v1/order`: MARKET only; conditional types are refused with -4120 as Binance now does."""
        spec = self.spec(required(p, "symbol"))
        side = one_of(p, "side", ("BUY", "SELL"), code=-1117)
        order_type = required(p, "type").upper()
        if order_type in CONDITIONAL_TYPES:
            raise ApiError.of(-4120)
        if order_type != "MARKET":
            raise ApiError(400, -1116, "Invalid orderType. (the fake exchange fills MARKET orders only)")
        qty = spec.check_quantity(required(p, "quantity"))
        reduce_only = flag(p, "reduceOnly")
        pos = self.account.position(spec.symbol)
        signed = qty if side == "BUY" else -qty
        price = self._slipped(spec, self.last_price(spec.symbol), side)
        if reduce_only:
            if not pos.is_open or (pos.amount > 0) == (signed > 0):
                raise ApiError.of(-2022)
            qty = min(qty, abs(pos.amount))
        else:
            self._check_entry(spec, pos.amount, signed, price)
        order = Order(self.account.next_order_id(), p.get("newClientOrderId") or self.account.next_client_id(CLIENT_PREFIX),
                      spec.symbol, side, "MARKET", "MARKET", qty, reduce_only, now, update_time=now)
        self.account.orders[order.order_id] = order
        events = [P.order_trade_update(order, spec, execution="NEW", event_time=now, reported_type=order.orig_type)]
        events += self._execute(order, price, now, fill_type="MARKET")
        respond_full = p.get("newOrderRespType", "ACK").upper() == "RESULT"
        return (P.order_object(order, spec) if respond_full else P.ack_object(order, spec)), events

    def _check_entry(self, spec: SymbolSpec, amount: Decimal, signed: Decimal, price: Decimal) -> None:
        opening = abs(signed) if amount == 0 or (amount > 0) == (signed > 0) else max(ZERO, abs(signed) - abs(amount))
        if opening == 0:
            return
        if abs(signed) * price < spec.min_notional:
            raise ApiError(400, -4164, f"Order's notional must be no smaller than {spec.min_notional} (unless you choose reduce only).")
        leverage = self.account.symbol_settings(spec.symbol).leverage
        needed = opening * price / leverage + opening * price * self.fee_rate
        if needed > self.account.available():
            raise ApiError.of(-2019)

    def _slipped(self, spec: SymbolSpec, price: Decimal, side: str) -> Decimal:
        factor = 1 + self.slippage if side == "BUY" else 1 - self.slippage
        return spec.quantize_price(price * factor)

    # ------------------------------------------------------------------------------------------ fills
    def _execute(self, order: Order, price: Decimal, now: int, *, fill_type: str, execution: str = "TRADE") -> list[Event]:
        """Fill `order` completely, in parts when a PartialFill fault matches."""
        spec = self.specs[order.symbol]
        subject = {"symbol": order.symbol, "side": order.side, "type": fill_type, "reduceOnly": order.reduce_only}
        action = self.faults.match("fill", subject)
        parts = self._split(order.quantity, spec, action.fractions if isinstance(action, PartialFill) else (1.0,))
        events: list[Event] = []
        for qty in parts:
            events += self._apply_fill(order, spec, qty, price, now, execution)
        events += self._expire_siblings_if_flat(order.symbol, now)
        return events

    @staticmethod
    def _split(total: Decimal, spec: SymbolSpec, fractions: tuple[float, ...]) -> list[Decimal]:
        parts: list[Decimal] = []
        for f in fractions[:-1]:
            q = (total * Decimal(str(f)) / spec.step_size).to_integral_value(ROUND_DOWN) * spec.step_size
            if q > 0:
                parts.append(q)
        rest = total - sum(parts, ZERO)
        return parts + [rest] if rest > 0 else parts

    def _apply_fill(self, order: Order, spec: SymbolSpec, qty: Decimal, price: Decimal, now: int, execution: str) -> list[Event]:
        pos = self.account.position(order.symbol)
        signed = qty if order.side == "BUY" else -qty
        realized, closing = ZERO, ZERO
        if pos.amount != 0 and (pos.amount > 0) != (signed > 0):
            closing = min(qty, abs(pos.amount))
            realized = ((price - pos.entry_price) * closing * (1 if pos.amount > 0 else -1)).quantize(Decimal("1e-8"))
            new_amount = pos.amount + signed
            if new_amount == 0:
                pos.entry_price = ZERO
            elif (new_amount > 0) != (pos.amount > 0):
                pos.entry_price = price
        else:
            new_amount = pos.amount + signed
            pos.entry_price = ((abs(pos.amount) * pos.entry_price + qty * price) / abs(new_amount)).quantize(Decimal("1e-8"))
        pos.amount, pos.update_time = new_amount, now
        commission = (qty * price * self.fee_rate).quantize(Decimal("1e-8"))
        self.account.wallet += realized - commission
        trade_id = self.account.next_trade_id()
        order.executed_qty += qty
        order.cum_quote += qty * price
        order.realized_pnl += realized
        order.commission += commission
        order.status = "FILLED" if order.executed_qty >= order.quantity else "PARTIALLY_FILLED"
        order.update_time = now
        if closing:
            self._income(order.symbol, "REALIZED_PNL", realized, now, trade_id)
        self._income(order.symbol, "COMMISSION", -commission, now, trade_id)
        settings = self.account.symbol_settings(order.symbol)
        return [
            P.order_trade_update(order, spec, execution=execution, event_time=now, reported_type=order.orig_type,
                                 last_qty=qty, last_price=price, commission=commission, realized=realized, trade_id=trade_id),
            P.account_update("ORDER", self.account.wallet, [(pos, spec, settings.margin_type)], now,
                             balance_change=realized - commission),
        ]

    def _income(self, symbol: str, kind: str, amount: Decimal, now: int, trade_id: int) -> None:
        self.account.income.append(IncomeRow(symbol, kind, amount, now, self.account.next_tran_id(), str(trade_id)))

    def _expire_siblings_if_flat(self, symbol: str, now: int) -> list[Event]:
        if not self.venue.expire_reduce_only_when_flat or self.account.position(symbol).is_open:
            return []
        events: list[Event] = []
        for algo in self.account.open_algo_orders(symbol):
            if algo.reduce_only or algo.close_position:
                events += self._finish_algo(algo, "EXPIRED", now)
        return events

    # ------------------------------------------------------------------------------------------ algo orders
    def place_algo(self, p: Mapping[str, str], now: int) -> tuple[dict[str, Any], list[Event]]:
        """`POST /fapi/v1/algoOrder` with `algoType=CONDITIONAL` (what python-binance sends for STOP_MARKET/TP)."""
        if required(p, "algoType").upper() != "CONDITIONAL":
            raise ApiError(400, -1116, "Invalid algoType; only CONDITIONAL is supported.")
        spec = self.spec(required(p, "symbol"))
        side = one_of(p, "side", ("BUY", "SELL"), code=-1117)
        order_type = required(p, "type").upper()
        if order_type not in SUPPORTED_ALGO_TYPES:
            raise ApiError(400, -1116, "Invalid orderType. (the fake exchange supports STOP_MARKET and TAKE_PROFIT_MARKET algo orders)")
        trigger = spec.check_price(required(p, "triggerPrice"), name="triggerPrice")
        close_position = flag(p, "closePosition")
        qty = ZERO if close_position else spec.check_quantity(required(p, "quantity"))
        last = self.last_price(spec.symbol)
        is_stop = order_type == "STOP_MARKET"
        fires_above = (side == "BUY") == is_stop  # BUY stop / SELL take-profit fire when price rises to the trigger
        if (fires_above and trigger <= last) or (not fires_above and trigger >= last):
            raise ApiError.of(-2021)
        algo = AlgoOrder(self.account.next_algo_id(), p.get("clientAlgoId") or self.account.next_client_id(CLIENT_PREFIX),
                         spec.symbol, side, order_type, qty, trigger, flag(p, "reduceOnly") or close_position, close_position,
                         p.get("workingType", "CONTRACT_PRICE"), flag(p, "priceProtect"), p.get("timeInForce", "GTC"), now,
                         update_time=now)
        self.account.algo_orders[algo.algo_id] = algo
        events = [P.algo_update(algo, spec, event_time=now)]
        if self.venue.algo_in_standard_queries:
            events.append(P.order_trade_update(self._standard_view(algo), spec, execution="NEW", event_time=now,
                                               reported_type=algo.order_type))
        return P.algo_object(algo, spec, with_order_id=self.venue.algo_response_has_order_id), events

    def find_algo(self, p: Mapping[str, str], *, open_only: bool) -> AlgoOrder:
        algo_id, client_id = p.get("algoId"), p.get("clientAlgoId")
        if not algo_id and not client_id:
            raise ApiError(400, -1102, "Either algoId or clientAlgoId must be sent.")
        for algo in self.account.algo_orders.values():
            if (algo_id and str(algo.algo_id) == algo_id) or (client_id and algo.client_algo_id == client_id):
                if open_only and not algo.is_open:
                    break
                return algo
        raise ApiError.of(-2011) if open_only else ApiError.of(-2013)

    def cancel_algo(self, p: Mapping[str, str], now: int) -> tuple[dict[str, Any], list[Event]]:
        algo = self.find_algo(p, open_only=True)
        events = self._finish_algo(algo, "CANCELED", now)
        return {"algoId": algo.algo_id, "clientAlgoId": algo.client_algo_id, "code": "200", "msg": "success"}, events

    def cancel_all_algo(self, symbol: str, now: int) -> list[Event]:
        self.spec(symbol)
        events: list[Event] = []
        for algo in self.account.open_algo_orders(symbol):
            events += self._finish_algo(algo, "CANCELED", now)
        return events

    def _finish_algo(self, algo: AlgoOrder, status: str, now: int) -> list[Event]:
        spec = self.specs[algo.symbol]
        algo.status = status  # type: ignore[assignment]
        algo.update_time = now
        events = [P.algo_update(algo, spec, event_time=now)]
        if self.venue.algo_in_standard_queries:
            view = self._standard_view(algo)
            view.status = status
            events.append(P.order_trade_update(view, spec, execution=status, event_time=now, reported_type=algo.order_type))
        return events

    @staticmethod
    def _standard_view(algo: AlgoOrder) -> Order:
        return Order(algo.algo_id, algo.client_algo_id, algo.symbol, algo.side, algo.order_type, algo.order_type,
                     algo.quantity, algo.reduce_only, algo.create_time, algo.close_position, algo.trigger_price,
                     algo.working_type, update_time=algo.update_time)

    # ------------------------------------------------------------------------------------------ standard cancel
    def cancel_order(self, p: Mapping[str, str], now: int) -> tuple[dict[str, Any], list[Event]]:
        """`DELETE /fapi/v1/order`. Market orders are filled at once, so only demo-visible algo orders can be cancelled."""
        symbol = self.spec(required(p, "symbol")).symbol
        order_id, client_id = p.get("orderId"), p.get("origClientOrderId")
        if not order_id and not client_id:
            raise ApiError(400, -1102, "Either orderId or origClientOrderId must be sent.")
        for order in self.account.open_orders(symbol):
            if (order_id and str(order.order_id) == order_id) or (client_id and order.client_order_id == client_id):
                order.status, order.update_time = "CANCELED", now
                return P.order_object(order, self.specs[symbol]), []
        if self.venue.algo_in_standard_queries:
            for algo in self.account.open_algo_orders(symbol):
                if (order_id and str(algo.algo_id) == order_id) or (client_id and algo.client_algo_id == client_id):
                    events = self._finish_algo(algo, "CANCELED", now)
                    body = P.algo_as_standard_order(algo, self.specs[symbol])
                    body["status"] = "CANCELED"
                    return body, events
        raise ApiError.of(-2011)

    def cancel_all(self, symbol: str, now: int) -> list[Event]:
        """`DELETE /fapi/v1/allOpenOrders`: standard orders, plus algo orders on the demo venue only."""
        self.spec(symbol)
        events: list[Event] = []
        for order in self.account.open_orders(symbol):
            order.status, order.update_time = "CANCELED", now
        if self.venue.algo_in_standard_queries:
            events += self.cancel_all_algo(symbol, now)
        return events

    # ------------------------------------------------------------------------------------------ triggers
    def on_candle(self, index: int, now: int) -> list[Event]:
        """Trigger every open conditional order whose price the candle `index` crossed (stops first)."""
        events: list[Event] = []
        for symbol in dict.fromkeys(a.symbol for a in self.account.open_algo_orders()):
            _, high, low, _, _ = (Decimal(str(x)) for x in self.market.row(symbol, index))
            pending = sorted(self.account.open_algo_orders(symbol), key=lambda a: (a.order_type != "STOP_MARKET", a.algo_id))
            for algo in pending:
                if not algo.is_open:
                    continue
                fires_above = (algo.side == "BUY") == (algo.order_type == "STOP_MARKET")
                if (fires_above and high >= algo.trigger_price) or (not fires_above and low <= algo.trigger_price):
                    events += self._trigger(algo, now)
        return events

    def _trigger(self, algo: AlgoOrder, now: int) -> list[Event]:
        spec = self.specs[algo.symbol]
        pos = self.account.position(algo.symbol)
        algo.trigger_time = now
        reducing = pos.is_open and (pos.amount > 0) == (algo.side == "SELL")
        if (algo.reduce_only or algo.close_position) and not reducing:
            algo.reject_reason = "Reduce Only reject"
            return self._finish_algo(algo, "REJECTED", now)
        qty = abs(pos.amount) if algo.close_position else algo.quantity
        if algo.reduce_only:
            qty = min(qty, abs(pos.amount))
        venue = self.venue
        order = Order(algo.algo_id if venue.trigger_reuses_algo_id else self.account.next_order_id(),
                      algo.client_algo_id if venue.trigger_reuses_algo_id else self.account.next_client_id(CLIENT_PREFIX),
                      algo.symbol, algo.side, "MARKET", algo.order_type if venue.trigger_keeps_original_type else "MARKET",
                      qty, algo.reduce_only or algo.close_position, now, algo.close_position,
                      algo.trigger_price if venue.trigger_keeps_original_type else ZERO, algo.working_type, update_time=now)
        self.account.orders[order.order_id] = order
        algo.status, algo.actual_order_id, algo.update_time = "TRIGGERED", order.order_id, now
        events = [P.algo_update(algo, spec, event_time=now),
                  P.order_trade_update(order, spec, execution="NEW", event_time=now, reported_type=order.orig_type)]
        fill_price = self._slipped(spec, algo.trigger_price, algo.side)
        events += self._execute(order, fill_price, now, fill_type=algo.order_type)
        if algo.status == "TRIGGERED":
            algo.status, algo.update_time = "FINISHED", now
            events.append(P.algo_update(algo, spec, event_time=now, avg_price=order.avg_price,
                                        executed_qty=order.executed_qty, actual_type="MARKET"))
        return events

    # ------------------------------------------------------------------------------------------ scenario helpers
    def close_externally(self, symbol: str, now: int, *, liquidation: bool) -> list[Event]:
        """A close the bot did not send: a manual MARKET close from the app or a liquidation (DEF-14)."""
        spec = self.spec(symbol)
        pos = self.account.position(symbol)
        if not pos.is_open:
            return []
        side = "SELL" if pos.amount > 0 else "BUY"
        kind = "LIQUIDATION" if liquidation else "MARKET"
        client = self.account.next_client_id("autoclose-" if liquidation else "web_")
        order = Order(self.account.next_order_id(), client, symbol, side, kind, kind, abs(pos.amount), liquidation, now,
                      update_time=now)
        self.account.orders[order.order_id] = order
        price = self._slipped(spec, self.last_price(symbol), side)
        events = [P.order_trade_update(order, spec, execution="NEW", event_time=now, reported_type=kind)]
        return events + self._execute(order, price, now, fill_type=kind, execution="CALCULATED" if liquidation else "TRADE")
