"""Reconciliation of one symbol: journal vs exchange, at start-up, every few minutes and after a stream reconnect.

Why (spec 30 §6.8/§6.9, D6, INC-10/19/24, DEF-01/03/04/10/17): the user stream can miss events and the process can
die between sending an order and recording it. Reconciliation settles every order still marked INTENT/UNKNOWN by
looking it up, then compares positions:

- journal OPEN, exchange flat → the fills since entry close it with their real reason and PnL; if the exchange
  has no fill history, the income since entry closes it as SYNC (INC-10);
- exchange position the journal does not know → adopted as a recovered trade (registered with the risk manager);
- both open → the SL/TP legs on the exchange are matched to the stored ones (ids restored, DEF-04) and any missing
  leg is re-placed from the stored levels (D6, DEF-01);
- both flat → stray orders are cancelled (orphan legs could reduce a future position, INC-22).
It runs on the bot's own queue, so it never races a fill being recorded (DEF-17).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable

from trader_runtime.config import StrategyParams
from trader_runtime.domain.enums import CloseReason
from trader_runtime.errors import ReconciliationError
from trader_runtime.exchange.port import Exchange, OpenOrder
from trader_runtime.service.execution import OrderExecutor
from trader_runtime.service.lifecycle import ClosedTrade, PositionLedger, candle_of, side_code
from trader_runtime.service.notifier import Notifier, fmt_price
from trader_runtime.storage.journal import OrderRow, TradeRow
from trader_runtime.strategy.decision import sl_tp_levels

logger = logging.getLogger(__name__)

QTY_TOL = 1e-9
PENDING = ("INTENT", "UNKNOWN")


class Reconciler:
    def __init__(
        self,
        symbol: str,
        exchange: Exchange,
        ledger: PositionLedger,
        executor: OrderExecutor,
        notifier: Notifier,
        params: StrategyParams,
        *,
        atr: Callable[[], float | None],
        on_closed: Callable[[ClosedTrade], Awaitable[None]],
    ) -> None:
        self.symbol = symbol
        self.exchange = exchange
        self.ledger = ledger
        self.executor = executor
        self.notifier = notifier
        self.params = params
        self.atr = atr
        self.on_closed = on_closed
        self.runs = 0

    async def run(self, reason: str) -> None:
        self.runs += 1
        logger.debug("[%s] reconciliation (%s)", self.symbol, reason)
        pos = await self.exchange.position(self.symbol)
        await self._settle_pending(pos)
        trade = self.ledger.open
        now_candle = candle_of(self.exchange.now_ms())
        if trade is not None and pos is None:
            await self._closed_while_away(trade)
        elif trade is not None and pos is not None:
            if pos.side != side_code(trade.side):
                raise ReconciliationError(
                    f"{self.symbol}: journal holds {trade.side} {trade.position_id} but the exchange holds "
                    f"{'LONG' if pos.side == 1 else 'SHORT'} {abs(pos.amount)}; close one of them by hand"
                )
            if abs(abs(pos.amount) - trade.open_quantity) > QTY_TOL * max(1.0, abs(pos.amount)):
                await self._catch_up_fills(trade)
            if self.ledger.open is not None:
                if reason == "start-up":
                    t = self.ledger.open
                    self.notifier.send(f"ℹ️ [{self.symbol}] restarted with an open position: {t.side} entry "
                                       f"`{fmt_price(t.entry_price)}` qty `{t.open_quantity:g}`")  # N5
                await self._restore_legs(self.ledger.open, now_candle)
        elif trade is None and pos is not None:
            orders = await self.exchange.open_orders(self.symbol)
            sl, tp = self._levels_from(orders, pos.side, pos.entry_price)
            adopted = self.ledger.adopt_position(side=pos.side, quantity=abs(pos.amount), entry_price=pos.entry_price,
                                                 entry_time_ms=pos.update_time_ms or self.exchange.now_ms(), sl=sl, tp=tp,
                                                 why=f"exchange position unknown to the journal ({reason})")  # fmt: skip
            logger.warning("[%s] adopted exchange position %s %g @ %s", self.symbol, adopted.side, adopted.quantity, adopted.entry_price)
            self.notifier.send(f"ℹ️ [{self.symbol}] existing position detected: {adopted.side} entry "
                               f"`{fmt_price(adopted.entry_price)}` qty `{adopted.quantity:g}`")  # fmt: skip
            if sl is None or tp is None:
                self.notifier.send(f"🔴 [{self.symbol}] recovered position without SL/TP levels (no ATR yet); "
                                   "retrying every candle")  # fmt: skip
            await self._restore_legs(adopted, now_candle)
        else:
            await self._cancel_strays()

    # ------------------------------------------------------------------------------------------ pending orders
    async def _settle_pending(self, pos) -> None:  # noqa: ANN001 - ExchangePosition | None
        """Orders recorded but never confirmed (crash between send and record, or a timeout)."""
        for order in self.ledger.journal.orders(symbol=self.symbol):
            if order.status not in PENDING or order.purpose in ("SL", "TP"):
                continue
            found = await self.exchange.lookup_order(self.symbol, order.client_id)
            if found is None or not found.fills:
                self.ledger.set_order_status(order.client_id, "NOT_FOUND" if found is None else found.status)
                continue
            if order.purpose == "ENTRY" and self.ledger.open is None:
                if pos is None:
                    # it filled but the position is gone already: a whole trade happened while we were away
                    logger.warning("[%s] entry %s filled and closed while the runtime was down", self.symbol, order.client_id)
                side = 1 if order.side == "BUY" else -1
                price = found.avg_price
                sl, tp = self._atr_levels(side, price)
                self.ledger.open_from_order(found, side=side, candle_ms=None, sl=sl, tp=tp, snapshot={},
                                            model_version=None, ml_proba=None, recovered=True)  # fmt: skip
                continue
            for fill in found.fills:
                closed = self.ledger.apply_fill(fill, order_status=found.status)
                if closed is not None:
                    await self.on_closed(closed)

    # ------------------------------------------------------------------------------------------ closes
    async def _closed_while_away(self, trade: TradeRow) -> None:
        for fill in sorted(await self.exchange.fills_since(self.symbol, trade.entry_time_ms), key=lambda f: f.time_ms):
            closed = self.ledger.apply_fill(fill)
            if closed is not None:
                await self.on_closed(closed)
                return
        if self.ledger.open is None:
            return
        income = await self.exchange.income_since(self.symbol, trade.entry_time_ms)
        realized = sum(r.amount for r in income if r.income_type == "REALIZED_PNL")
        commission = sum(abs(r.amount) for r in income if r.income_type == "COMMISSION")
        exit_fee = max(commission - trade.entry_fee, 0.0)
        qty = trade.quantity
        move = realized / qty if qty > 0 else 0.0
        exit_price = trade.entry_price + move if trade.side == "LONG" else trade.entry_price - move
        # the close happened when the exchange booked its PnL, not when we noticed: that time decides the UTC day
        # the loss counts towards (D2) and keeps the exit after the entry
        closed_at = max((r.time_ms for r in income if r.income_type == "REALIZED_PNL"), default=self.exchange.now_ms())
        closed = self.ledger.close(trade, exit_price=exit_price, gross=realized, exit_fee=exit_fee,
                                   reason=CloseReason.SYNC, exit_time_ms=closed_at,
                                   anomaly="closed while unobserved; PnL from income history")  # fmt: skip
        logger.warning("[%s] position %s found closed by reconciliation (SYNC), net %.6f", self.symbol,
                       trade.position_id, closed.trade.net_pnl)  # fmt: skip
        await self.on_closed(closed)

    async def _catch_up_fills(self, trade: TradeRow) -> None:
        for fill in sorted(await self.exchange.fills_since(self.symbol, trade.entry_time_ms), key=lambda f: f.time_ms):
            closed = self.ledger.apply_fill(fill)
            if closed is not None:
                await self.on_closed(closed)
                return

    # ------------------------------------------------------------------------------------------ protection
    async def _restore_legs(self, trade: TradeRow, candle_ms: int) -> None:
        orders = await self.exchange.open_orders(self.symbol)
        stored = {o.exchange_id: o for o in self.ledger.journal.orders(position_id=trade.position_id)
                  if o.purpose in ("SL", "TP") and o.exchange_id}  # fmt: skip
        live_ids = {o.order_id for o in orders}
        seen: set[str] = set()
        for oo in orders:
            purpose = oo.purpose
            if purpose is None:
                continue
            if oo.order_id in stored:
                row = stored[oo.order_id]
                if row.status != "NEW":
                    self.ledger.set_order_status(row.client_id, "NEW", oo.order_id)
            elif purpose in seen:
                await self.exchange.cancel_order(self.symbol, oo.order_id, is_algo=oo.is_algo)  # duplicate leg
                continue
            else:
                self._adopt_leg(trade, oo)
            seen.add(purpose)
        for ex_id, row in stored.items():
            if row.status == "NEW" and ex_id not in live_ids:
                self.ledger.set_order_status(row.client_id, "GONE")
        if trade.sl is None or trade.tp is None:
            sl, tp = self._levels_from(orders, side_code(trade.side), trade.entry_price)
            self.ledger.set_levels(trade.sl if trade.sl is not None else sl, trade.tp if trade.tp is not None else tp)
        if self.ledger.open is not None and self.ledger.open.sl is not None and self.ledger.open.tp is not None:
            await self.executor.protect(candle_ms)

    def _adopt_leg(self, trade: TradeRow, oo: OpenOrder) -> None:
        """A protective order on the exchange we have no row for (placed before a crash): restore its id (DEF-04)."""
        row = self.ledger.journal.order(oo.client_id) if oo.client_id else None
        now = self.exchange.now_ms()
        if row is not None:
            self.ledger.set_order_status(row.client_id, "NEW", oo.order_id)
            return
        purpose = oo.purpose or "SL"
        self.ledger.record_order(OrderRow(oo.client_id or f"ext-{oo.order_id}", self.symbol, purpose, oo.side, oo.type,
                                          oo.quantity, "NEW", now, now, position_id=trade.position_id,
                                          trigger_price=oo.trigger_price, exchange_id=oo.order_id))  # fmt: skip

    def _levels_from(self, orders: list[OpenOrder], side: int, entry: float) -> tuple[float | None, float | None]:
        sl = next((o.trigger_price for o in orders if o.purpose == "SL"), None)
        tp = next((o.trigger_price for o in orders if o.purpose == "TP"), None)
        if sl is None or tp is None:
            a_sl, a_tp = self._atr_levels(side, entry)
            sl = sl if sl is not None else a_sl
            tp = tp if tp is not None else a_tp
        return sl, tp

    def _atr_levels(self, side: int, entry: float) -> tuple[float | None, float | None]:
        atr = self.atr()
        if atr is None or not (atr > 0 and math.isfinite(atr)):
            return None, None
        sl, tp = sl_tp_levels(side, entry, atr, self.params.atr_sl_mult, self.params.atr_tp_mult)
        return self.executor.rules.round_price(sl), self.executor.rules.round_price(tp)

    async def _cancel_strays(self) -> None:
        for row in self.ledger.journal.orders(symbol=self.symbol, status="NEW"):
            if row.purpose in ("SL", "TP"):
                self.ledger.set_order_status(row.client_id, "GONE")
        for oo in await self.exchange.open_orders(self.symbol):
            try:
                await self.exchange.cancel_order(self.symbol, oo.order_id, is_algo=oo.is_algo)
                logger.info("[%s] cancelled stray order %s (%s) while flat", self.symbol, oo.order_id, oo.type)
            except Exception as exc:  # noqa: BLE001 - next reconciliation retries
                logger.warning("[%s] could not cancel stray order %s: %s", self.symbol, oo.order_id, exc)
