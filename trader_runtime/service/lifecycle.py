"""Position lifecycle of one symbol: fills in, trade records out (spec 30 §6, D3, D7, DEF-06/07/14/24, INC-13/24).

Every fill, whichever path delivered it (the REST answer of an order we sent, the user stream, reconciliation),
goes through `apply_fill`. A fill key already in the journal is ignored, so double delivery is harmless. Entry
fills grow the open trade; reducing fills accumulate realised PnL, exit fees and quantity on it (partial fills
persist, DEF-24) and the fill that brings it to zero closes it, in one transaction together with the kill-switch
record it causes. The close reason comes from intent and linkage, never from price guesses where intent is known
(DEF-06): our REVERSE/EMERGENCY/END_OF_DATA orders, fills of the stored SL/TP legs, liquidations, else MANUAL.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from trader_runtime.domain.enums import CloseReason
from trader_runtime.domain.schema import BAR_MS
from trader_runtime.exchange.port import Fill, OrderResult
from trader_runtime.risk.kill_switch import KillSwitch, KillTransition, TradeClosed
from trader_runtime.risk.risk_manager import DayStarted, PositionClosed, PositionOpened, RiskManager, utc_day_ms
from trader_runtime.storage.journal import FillRow, Journal, KillRow, OrderRow, TradeRow

logger = logging.getLogger(__name__)

QTY_TOL = 1e-9
#: an unlinked reduce-only MARKET fill this close to a stored trigger is that leg firing (live algo, INC-22)
TRIGGER_MATCH_PCT = 0.005
INTENT_REASONS = {
    "REVERSE": CloseReason.REVERSE,
    "EMERGENCY": CloseReason.EMERGENCY,
    "END_OF_DATA": CloseReason.END_OF_DATA,
    "CLOSE": CloseReason.MANUAL,
    "SL": CloseReason.SL,
    "TP": CloseReason.TP,
}
EXCHANGE_SIDE_REASONS = (CloseReason.SL, CloseReason.TP, CloseReason.LIQUIDATION, CloseReason.MANUAL, CloseReason.SYNC)


def side_name(side: int) -> str:
    return "LONG" if side == 1 else "SHORT"


def side_code(name: str) -> int:
    return 1 if name == "LONG" else -1


def candle_of(time_ms: int) -> int:
    return (int(time_ms) // BAR_MS) * BAR_MS


def vwap(fills: list[tuple[float, float]]) -> float:
    """Volume-weighted price; exactly the price when every fill has the same one (keeps replay prices exact)."""
    prices = {p for p, _ in fills}
    if len(prices) == 1:
        return prices.pop()
    qty = sum(q for _, q in fills)
    return sum(p * q for p, q in fills) / qty


@dataclass(frozen=True, slots=True)
class ClosedTrade:
    trade: TradeRow
    kill: KillTransition | None


def ensure_day(journal: Journal, risk: RiskManager, time_ms: int, now_ms: int) -> bool:
    """Start the UTC day of `time_ms` if it is new: base = stored base of that day, else the ledger (D2)."""
    if not risk.needs_new_day(time_ms):
        return False
    day = utc_day_ms(time_ms)
    base = journal.daily_base(day)
    if base is None:
        base = risk.next_day_base()
        with journal.transaction() as tx:
            tx.set_daily_base(day, base, now_ms)
    risk.apply(DayStarted(day, base))
    return True


class PositionLedger:
    """The journal-backed position of one symbol; all calls happen on the bot's own queue, one at a time."""

    def __init__(self, symbol: str, mode: str, journal: Journal, risk: RiskManager, kill: KillSwitch,
                 *, leverage: int, now_ms: Callable[[], int]) -> None:  # fmt: skip
        self.symbol = symbol
        self.mode = mode
        self.journal = journal
        self.risk = risk
        self.kill = kill
        self.leverage = leverage
        self.now_ms = now_ms
        self.open: TradeRow | None = journal.open_trade(symbol)
        self.linked: dict[str, str] = {}  # actual order id of a fired conditional leg -> leg client id

    # ------------------------------------------------------------------------------------------ orders
    def record_order(self, order: OrderRow) -> None:
        with self.journal.transaction() as tx:
            tx.upsert_order(order)

    def set_order_status(self, client_id: str, status: str, exchange_id: str | None = None) -> None:
        with self.journal.transaction() as tx:
            tx.set_order_status(client_id, status, self.now_ms(), exchange_id)

    def legs(self, status: str = "NEW") -> list[OrderRow]:
        if self.open is None:
            return []
        return [o for o in self.journal.orders(position_id=self.open.position_id, status=status) if o.purpose in ("SL", "TP")]

    # ------------------------------------------------------------------------------------------ open
    def open_from_order(
        self,
        result: OrderResult,
        *,
        side: int,
        candle_ms: int | None,
        sl: float | None,
        tp: float | None,
        snapshot: dict[str, float | None],
        model_version: str | None,
        ml_proba: float | None,
        recovered: bool = False,
    ) -> TradeRow:
        """Open the trade from the entry order's fills (DEF-16: the average fill price, not the candle close)."""
        fills = [f for f in result.fills if not self.journal.has_fill(f.fill_key)]
        if not fills:
            raise ValueError(f"{self.symbol}: entry order {result.client_id} has no new fills to open a trade from")
        qty = sum(f.quantity for f in fills)
        fee = 0.0
        for f in fills:
            fee += f.commission
        trade = TradeRow(
            position_id=result.client_id, symbol=self.symbol, side=side_name(side), status="OPEN", mode=self.mode,
            entry_time_ms=min(f.time_ms for f in fills), entry_candle_ms=candle_ms,
            entry_price=vwap([(f.price, f.quantity) for f in fills]), quantity=qty, leverage=self.leverage, sl=sl, tp=tp,
            entry_fee=fee, model_version=model_version, ml_proba=ml_proba, recovered=int(recovered),
            rsi=snapshot.get("rsi"), macd_hist=snapshot.get("macd_hist"), atr=snapshot.get("atr"), adx=snapshot.get("adx"),
        )  # fmt: skip
        with self.journal.transaction() as tx:
            tx.open_trade(trade)
            for f in fills:
                tx.insert_fill(self._fill_row(f, trade.position_id))
            tx.set_order_status(result.client_id, result.status, self.now_ms(), result.order_id)
            tx.add_event(self.now_ms(), "OPEN", self.symbol, {"position_id": trade.position_id, "side": trade.side,
                                                             "price": trade.entry_price, "qty": qty, "recovered": recovered})
        self.open = trade
        self.risk.apply(PositionOpened(self.symbol, side))
        return trade

    def adopt_position(self, *, side: int, quantity: float, entry_price: float, entry_time_ms: int,
                       sl: float | None, tp: float | None, why: str) -> TradeRow:  # fmt: skip
        """A position the journal does not know (lost record, manual entry): track it as a recovered trade.

        Its entry fee is unknown (0.0) and the trade carries an `anomaly` note, so reports can tell (INC-24).
        """
        trade = TradeRow(
            position_id=f"rec-{self.symbol}-{entry_time_ms // 1000:x}-{self.journal.order_count() + 1}", symbol=self.symbol,
            side=side_name(side), status="OPEN", mode=self.mode, entry_time_ms=int(entry_time_ms),
            entry_candle_ms=candle_of(entry_time_ms), entry_price=entry_price, quantity=quantity, leverage=self.leverage,
            sl=sl, tp=tp, recovered=1, anomaly=why,
        )  # fmt: skip
        with self.journal.transaction() as tx:
            tx.open_trade(trade)
            tx.add_event(self.now_ms(), "ADOPT", self.symbol, {"position_id": trade.position_id, "why": why})
        self.open = trade
        self.risk.apply(PositionOpened(self.symbol, side))
        return trade

    def set_levels(self, sl: float | None, tp: float | None) -> None:
        if self.open is None:
            return
        with self.journal.transaction() as tx:
            tx.update_trade(self.open.position_id, sl=sl, tp=tp)
        self.open = replace(self.open, sl=sl, tp=tp)

    # ------------------------------------------------------------------------------------------ fills
    def apply_fill(self, fill: Fill, *, order_status: str = "FILLED", decision_candle_ms: int | None = None) -> ClosedTrade | None:
        """Apply one execution; returns the closed trade when this fill flattened the position."""
        if fill.symbol != self.symbol or self._already_applied(fill):
            return None
        order = self._our_order(fill)
        purpose = order.purpose if order is not None else None
        trade = self.open
        if trade is None or (order is not None and order.position_id not in (None, trade.position_id)):
            self._orphan_fill(fill, "no open trade this fill belongs to")
            return None
        status = (order.client_id, order_status) if order is not None else None
        trade_side = side_code(trade.side)
        reduces = (fill.side == "SELL") == (trade_side == 1)
        if not reduces:
            if purpose == "ENTRY" and order is not None and order.position_id == trade.position_id:
                self._grow(trade, fill, status)
                return None
            self._orphan_fill(fill, "an opening fill the runtime did not send")
            return None
        reason = self._reason(fill, purpose)
        return self._reduce(trade, fill, reason, decision_candle_ms, status)

    def _already_applied(self, fill: Fill) -> bool:
        """Same key seen, or the other form of the same execution: an order-level aggregate (`<order>:order`, built
        where per-trade data is unavailable) and the per-trade fills of that order never both count."""
        if self.journal.has_fill(fill.fill_key):
            return True
        keys = self.journal.order_fill_keys(fill.order_id)
        if not keys:
            return False
        aggregate = fill.fill_key.endswith(":order")
        return aggregate or any(k.endswith(":order") for k in keys)

    def _our_order(self, fill: Fill) -> OrderRow | None:
        """The order row this fill executes: by our client id, by a stored leg's exchange id, or by trigger linkage."""
        if fill.client_id:
            row = self.journal.order(fill.client_id)
            if row is not None:
                return row
        if self.open is None:
            return None
        orders = self.journal.orders(position_id=self.open.position_id)
        for o in orders:
            if o.exchange_id is not None and o.exchange_id == fill.order_id:
                return o
        linked = self.linked.get(fill.order_id)
        return next((o for o in orders if o.client_id == linked), None) if linked else None

    def _reason(self, fill: Fill, purpose: str | None) -> CloseReason:
        if purpose in INTENT_REASONS:
            return INTENT_REASONS[purpose]
        if fill.liquidation:
            return CloseReason.LIQUIDATION
        if fill.reduce_only and fill.order_type == "MARKET" and self.open is not None:
            # live algo trigger whose ALGO_UPDATE linkage was not seen: nearest stored leg, if close enough
            best: tuple[float, str] | None = None
            for o in self.legs("NEW"):
                if o.trigger_price:
                    dist = abs(fill.price - o.trigger_price) / o.trigger_price
                    if dist <= TRIGGER_MATCH_PCT and (best is None or dist < best[0]):
                        best = (dist, o.purpose)
            if best is not None:
                return INTENT_REASONS[best[1]]
        return CloseReason.MANUAL

    def _grow(self, trade: TradeRow, fill: Fill, status: tuple[str, str] | None) -> None:
        qty = trade.quantity + fill.quantity
        price = (trade.entry_price * trade.quantity + fill.price * fill.quantity) / qty
        fee = trade.entry_fee + fill.commission
        with self.journal.transaction() as tx:
            tx.insert_fill(self._fill_row(fill, trade.position_id))
            tx.update_trade(trade.position_id, quantity=qty, entry_price=price, entry_fee=fee)
            if status is not None:
                tx.set_order_status(status[0], status[1], self.now_ms())
        self.open = replace(trade, quantity=qty, entry_price=price, entry_fee=fee)

    def _reduce(self, trade: TradeRow, fill: Fill, reason: CloseReason, decision_candle_ms: int | None,
                status: tuple[str, str] | None) -> ClosedTrade | None:
        qty = min(fill.quantity, trade.open_quantity)
        closed_qty = trade.closed_qty + qty
        realized = trade.realized_acc + fill.realized_pnl
        exit_fee = trade.exit_fee_acc + fill.commission
        notional = trade.exit_notional_acc + fill.price * qty
        first_exit = trade.closed_qty <= QTY_TOL
        if trade.quantity - closed_qty > QTY_TOL * max(1.0, trade.quantity):
            with self.journal.transaction() as tx:
                tx.insert_fill(self._fill_row(fill, trade.position_id))
                tx.update_trade(trade.position_id, closed_qty=closed_qty, realized_acc=realized, exit_fee_acc=exit_fee,
                                exit_notional_acc=notional)  # fmt: skip
                tx.add_event(fill.time_ms, "PARTIAL_CLOSE", self.symbol, {"position_id": trade.position_id, "qty": qty})
                if status is not None:
                    tx.set_order_status(status[0], status[1], self.now_ms())
            self.open = replace(trade, closed_qty=closed_qty, realized_acc=realized, exit_fee_acc=exit_fee,
                                exit_notional_acc=notional)  # fmt: skip
            return None
        exit_price = fill.price if first_exit else notional / closed_qty
        return self.close(trade, exit_price=exit_price, gross=realized, exit_fee=exit_fee, reason=reason,
                          exit_time_ms=fill.time_ms, decision_candle_ms=decision_candle_ms, fill=fill,
                          closed_qty=closed_qty, notional=notional, order_status=status)  # fmt: skip

    def close(self, trade: TradeRow, *, exit_price: float, gross: float, exit_fee: float, reason: CloseReason,
              exit_time_ms: int, decision_candle_ms: int | None = None, fill: Fill | None = None,
              closed_qty: float | None = None, notional: float | None = None, anomaly: str | None = None,
              order_status: tuple[str, str] | None = None) -> ClosedTrade:
        """Record the close (net = gross − entry fee − exit fee, D3) with its kill-switch effect, atomically."""
        net = gross - trade.entry_fee - exit_fee
        ensure_day(self.journal, self.risk, exit_time_ms, self.now_ms())
        kill = self.kill.preview(TradeClosed(net, exit_time_ms))
        bot_initiated = reason in (CloseReason.REVERSE, CloseReason.EMERGENCY, CloseReason.END_OF_DATA)
        exit_candle = decision_candle_ms if (bot_initiated and decision_candle_ms is not None) else candle_of(exit_time_ms)
        fields = dict(
            status="CLOSED", exit_time_ms=exit_time_ms, exit_candle_ms=exit_candle, exit_price=exit_price,
            gross_pnl=gross, exit_fee=exit_fee, net_pnl=net, close_reason=reason.value,
            closed_qty=trade.quantity if closed_qty is None else closed_qty, realized_acc=gross, exit_fee_acc=exit_fee,
            exit_notional_acc=exit_price * trade.quantity if notional is None else notional,
            anomaly="; ".join(a for a in (trade.anomaly, anomaly) if a) or None,  # keep why it was adopted (INC-24)
        )  # fmt: skip
        with self.journal.transaction() as tx:
            if fill is not None:
                tx.insert_fill(self._fill_row(fill, trade.position_id))
            tx.update_trade(trade.position_id, **fields)
            if order_status is not None:
                tx.set_order_status(order_status[0], order_status[1], self.now_ms())
            if kill is not None:
                tx.add_kill_row(KillRow(self.symbol, exit_time_ms, "KILL", kill.reason, exit_time_ms))
                # the reported state changes with the row, not a candle later (status is else written per decision)
                tx.set_status(self.symbol, {"kill_active": 1}, self.now_ms())
            tx.add_event(exit_time_ms, "CLOSE", self.symbol, {"position_id": trade.position_id, "reason": reason.value,
                                                              "net_pnl": net, "exit_price": exit_price})
        self.open = None
        self.risk.apply(PositionClosed(self.symbol, net, exit_time_ms))
        applied = self.kill.apply(TradeClosed(net, exit_time_ms))
        closed = replace(trade, **fields)
        logger.info(
            "[%s] close %s %s exit=%.6f gross=%.6f fees=%.6f net=%.6f", self.symbol, closed.side, reason.value,
            exit_price, gross, trade.entry_fee + exit_fee, net,
        )  # fmt: skip
        return ClosedTrade(closed, applied)

    def _orphan_fill(self, fill: Fill, why: str) -> None:
        logger.warning("[%s] fill %s (%s %s @ %s) not applied: %s; reconciliation will settle it",
                       self.symbol, fill.fill_key, fill.side, fill.quantity, fill.price, why)  # fmt: skip
        with self.journal.transaction() as tx:  # the fill itself stays unapplied so reconciliation can still use it
            tx.add_event(fill.time_ms, "UNMATCHED_FILL", self.symbol, {"fill_key": fill.fill_key, "why": why,
                                                                       "side": fill.side, "qty": fill.quantity})

    def _fill_row(self, f: Fill, position_id: str | None) -> FillRow:
        return FillRow(
            fill_key=f.fill_key, symbol=f.symbol, order_id=f.order_id, time_ms=f.time_ms, side=f.side, price=f.price,
            quantity=f.quantity, realized_pnl=f.realized_pnl, commission=f.commission,
            commission_asset=f.commission_asset, reduce_only=f.reduce_only, position_id=position_id, client_id=f.client_id,
        )  # fmt: skip
