"""Orders of one symbol: entry with sizing, SL/TP with retries, emergency close, closes and leg clean-up (30 §5).

Sizing and exit levels are the `strategy.decision` rules the backtest kernel uses (dynamic margin ratio on the
per-symbol balance, step-floored quantity with the exchange's min notional, ATR levels from the average fill
price). Every order is written to the journal *before* it is sent (status INTENT), so a crash between sending and
recording is found again by reconciliation; a timeout is never taken as a fill — the order is looked up instead.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

from tenacity import AsyncRetrying, retry_if_result, stop_after_attempt, wait_fixed

from trader_runtime.config import StrategyParams
from trader_runtime.domain.enums import CloseReason
from trader_runtime.errors import OrderRejected, TemporaryExchangeError
from trader_runtime.exchange.port import Exchange, OrderResult, OrderSide, SymbolRules
from trader_runtime.risk.risk_manager import RiskManager
from trader_runtime.service.lifecycle import ClosedTrade, PositionLedger
from trader_runtime.service.notifier import Notifier, fmt_num, fmt_price
from trader_runtime.storage.journal import OrderRow
from trader_runtime.strategy.decision import ROUND_STEP_FLOOR, position_quantity, sl_tp_levels

logger = logging.getLogger(__name__)

PURPOSE_CODE = {"ENTRY": "E", "SL": "S", "TP": "T", "REVERSE": "R", "EMERGENCY": "X", "END_OF_DATA": "D", "CLOSE": "C"}


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """SL/TP placement: attempts and the fixed pause between them (30 §5.4); run by a tenacity `AsyncRetrying`."""

    attempts: int = 3
    pause_s: float = 1.0


@dataclass(frozen=True, slots=True)
class EntryRequest:
    side: int
    candle_ms: int
    close: float
    atr: float
    snapshot: dict[str, float | None]
    model_version: str | None
    ml_proba: float | None


@dataclass(frozen=True, slots=True)
class EntryOutcome:
    status: str  # OPENED, SKIPPED_SIZE, REJECTED, UNKNOWN, EMERGENCY_CLOSED
    detail: str = ""


def closing_side(trade_side: str) -> OrderSide:
    return "SELL" if trade_side == "LONG" else "BUY"


class OrderExecutor:
    """Sends the orders of one symbol and records them through its `PositionLedger`."""

    def __init__(
        self,
        symbol: str,
        exchange: Exchange,
        ledger: PositionLedger,
        risk: RiskManager,
        notifier: Notifier,
        *,
        rules: SymbolRules,
        params: StrategyParams,
        leverage: int,
        entry_lock: asyncio.Lock,
        retry: RetryPolicy = RetryPolicy(),
        on_order_error: Callable[[str], None] | None = None,
    ) -> None:
        self.symbol = symbol
        self.exchange = exchange
        self.ledger = ledger
        self.risk = risk
        self.notifier = notifier
        self.rules = rules
        self.params = params
        self.leverage = leverage
        self.entry_lock = entry_lock
        self.retry = retry
        self.on_order_error = on_order_error or (lambda _: None)
        self.on_position_gone: Callable[[], None] = lambda: None

    # ------------------------------------------------------------------------------------------ ids
    def client_id(self, purpose: str, candle_ms: int) -> str:
        """Deterministic, unique within the journal, <= 36 chars as Binance requires."""
        seq = self.ledger.journal.order_count() + 1
        return f"ct-{PURPOSE_CODE[purpose]}-{candle_ms // 1000:x}-{seq}"

    def _intent(self, client_id: str, purpose: str, side: OrderSide, kind: str, qty: float,
                position_id: str | None, trigger: float | None = None) -> None:  # fmt: skip
        now = self.exchange.now_ms()
        self.ledger.record_order(OrderRow(client_id, self.symbol, purpose, side, kind, qty, "INTENT", now, now,
                                          position_id=position_id, trigger_price=trigger))  # fmt: skip

    # ------------------------------------------------------------------------------------------ entry
    async def enter(self, req: EntryRequest) -> EntryOutcome:
        """E1–E14 of 30 §5.1, the critical section under the shared entry lock (INC-18)."""
        async with self.entry_lock:
            balance = await self.exchange.balance()
            per_symbol = balance / self.risk.n_symbols
            ratio = self.risk.margin_ratio(per_symbol)
            ok, qty = position_quantity(per_symbol, req.close, ratio, float(self.leverage), self.rules.min_notional,
                                        self.rules.qty_step, ROUND_STEP_FLOOR)  # fmt: skip
            if ok and qty * req.close / self.leverage > per_symbol:
                ok = False  # DEF-19: the minimum notional was forced up beyond what this balance can margin
            if not ok or not (req.atr > 0 and math.isfinite(req.atr)):
                why = f"balance {balance:.4f} cannot carry the minimum notional {self.rules.min_notional}" if not ok else f"ATR={req.atr!r}"
                logger.info("[%s] entry skipped: %s", self.symbol, why)
                return EntryOutcome("SKIPPED_SIZE", why)
            side: OrderSide = "BUY" if req.side == 1 else "SELL"
            client = self.client_id("ENTRY", req.candle_ms)
            self._intent(client, "ENTRY", side, "MARKET", qty, client)
            try:
                await self.exchange.prepare_symbol(self.symbol, self.leverage)
                result = await self.exchange.market_order(self.symbol, side, qty, reduce_only=False, client_id=client)
            except OrderRejected as exc:
                self.ledger.set_order_status(client, "REJECTED")
                self._order_error(f"entry {side} {qty} rejected: {exc}")
                return EntryOutcome("REJECTED", str(exc))
            except (TemporaryExchangeError, asyncio.TimeoutError) as exc:
                result = await self._find_after_timeout(client, exc)
                if result is None:
                    return EntryOutcome("UNKNOWN", str(exc))
            if not result.fills:
                self.ledger.set_order_status(client, result.status, result.order_id)
                logger.warning("[%s] entry %s answered %s without fills; reconciliation will settle it", self.symbol, client, result.status)
                return EntryOutcome("UNKNOWN", result.status)
            price = result.avg_price if len({f.price for f in result.fills}) > 1 else result.fills[0].price
            sl, tp = sl_tp_levels(req.side, price, req.atr, self.params.atr_sl_mult, self.params.atr_tp_mult)
            sl, tp = self.rules.round_price(sl), self.rules.round_price(tp)
            trade = self.ledger.open_from_order(
                result, side=req.side, candle_ms=req.candle_ms, sl=sl, tp=tp, snapshot=req.snapshot,
                model_version=req.model_version, ml_proba=req.ml_proba,
            )  # fmt: skip
        snap = req.snapshot
        self.notifier.send(
            f"**[{self.symbol}] {trade.side} entry** price `{fmt_price(trade.entry_price)}` qty `{trade.quantity:g}` "
            f"leverage `{self.leverage}x` SL `{fmt_price(sl)}` TP `{fmt_price(tp)}` RSI `{fmt_num(snap.get('rsi'), 2)}` "
            f"MACD hist `{fmt_num(snap.get('macd_hist'), 6)}` ATR `{fmt_num(snap.get('atr'), 6)}`"
        )
        logger.info("[%s] opened %s %g @ %.6f SL %.6f TP %.6f", self.symbol, trade.side, trade.quantity, trade.entry_price, sl, tp)
        if not await self.protect(req.candle_ms):
            return EntryOutcome("EMERGENCY_CLOSED", "SL/TP placement failed")
        return EntryOutcome("OPENED")

    async def _find_after_timeout(self, client: str, exc: BaseException) -> OrderResult | None:
        """A timeout is not a fill: ask the exchange what happened to the order (Nautilus/STYLE 2.7)."""
        logger.warning("[%s] order %s outcome unknown (%s); looking it up", self.symbol, client, exc)
        try:
            found = await self.exchange.lookup_order(self.symbol, client)
        except Exception as lookup_exc:  # noqa: BLE001 - still unknown; reconciliation retries
            logger.warning("[%s] lookup of %s failed: %s", self.symbol, client, lookup_exc)
            found = None
        if found is None:
            self.ledger.set_order_status(client, "UNKNOWN")
        return found

    def _order_error(self, text: str) -> None:
        logger.error("[%s] %s", self.symbol, text)
        self.notifier.send(f"🔴 [{self.symbol}] order error: {text}")
        self.on_order_error(text)

    # ------------------------------------------------------------------------------------------ protection
    async def protect(self, candle_ms: int) -> bool:
        """Place whichever of SL/TP is missing; 3 attempts, legs tracked independently; else emergency close."""
        trade = self.ledger.open
        if trade is None:
            return True
        have = {o.purpose for o in self.ledger.legs("NEW")}
        need = [(p, lvl) for p, lvl in (("SL", trade.sl), ("TP", trade.tp)) if p not in have]
        if not need:
            return True
        if any(lvl is None or not math.isfinite(lvl) or lvl <= 0 for _, lvl in need):
            self._order_error(f"no valid SL/TP levels for {trade.position_id} (sl={trade.sl}, tp={trade.tp})")
            return await self.emergency_close(candle_ms)
        side = closing_side(trade.side)
        failures: list[BaseException] = []
        attempt = 0

        async def place_missing() -> bool:
            """One attempt over the legs still missing; True when both are in place."""
            nonlocal attempt
            attempt += 1
            for purpose, level in list(need):
                client = self.client_id(purpose, candle_ms)
                qty = trade.open_quantity
                kind = "STOP_MARKET" if purpose == "SL" else "TAKE_PROFIT_MARKET"
                self._intent(client, purpose, side, kind, qty, trade.position_id, level)
                try:
                    leg = await self.exchange.place_protective(self.symbol, purpose, side, qty, float(level), client)  # type: ignore[arg-type]
                except (OrderRejected, TemporaryExchangeError, asyncio.TimeoutError) as exc:
                    self.ledger.set_order_status(client, "REJECTED")
                    logger.warning("[%s] %s placement failed (attempt %d/%d): %s", self.symbol, purpose, attempt,
                                   self.retry.attempts, exc)  # fmt: skip
                    failures.append(exc)
                    continue
                self.ledger.set_order_status(client, "NEW", leg.order_id)
                need.remove((purpose, level))
            return not need

        # legs are tracked independently: a retry re-sends only the leg that is still missing
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.retry.attempts),
            wait=wait_fixed(self.retry.pause_s),
            retry=retry_if_result(lambda placed: not placed),
            retry_error_callback=lambda state: False,
        )
        if await retrying(place_missing):
            return True
        logger.error("[%s] SL/TP final failure (%s) – emergency close", self.symbol, failures[-1] if failures else None)
        return await self.emergency_close(candle_ms)

    async def emergency_close(self, candle_ms: int) -> bool:
        """Market-close the unprotected position; its real PnL is recorded from the fill (DEF-07). Returns False."""
        try:
            closed = await self.close(CloseReason.EMERGENCY, candle_ms)
        except Exception as exc:  # noqa: BLE001 - tell a human, loudly, unless nothing is left to protect
            if await self._exchange_flat():
                # Not an unprotected position: the exchange already closed it (typically a leg that fired while the
                # service was down, so re-placing it was refused as "would trigger" and the reduce-only close found
                # nothing to reduce). Reconciliation records how it closed.
                logger.warning("[%s] emergency close not needed: the exchange holds no position any more (%s); "
                               "reconciling", self.symbol, exc)  # fmt: skip
                self.on_position_gone()
                return False
            logger.critical("[%s] emergency close FAILED – manual intervention needed: %s", self.symbol, exc)
            self.notifier.send(f"🔴 [{self.symbol}] emergency close FAILED, close manually: {exc}")
            return False
        if closed is not None:
            self.notifier.send(f"🚨 [{self.symbol}] SL/TP placement failed → emergency close done")
        return False

    async def _exchange_flat(self) -> bool:
        """True only when the exchange positively reports no position for the symbol (a failed look-up is not)."""
        try:
            position = await self.exchange.position(self.symbol)
        except Exception as exc:  # noqa: BLE001 - unknown means the alarm stands
            logger.warning("[%s] position look-up after the failed emergency close failed: %s", self.symbol, exc)
            return False
        return position is None or position.amount == 0

    # ------------------------------------------------------------------------------------------ closes
    async def close(self, reason: CloseReason, candle_ms: int) -> ClosedTrade | None:
        """Market reduce-only close of the open trade, recorded from its fills with `reason` (DEF-06)."""
        trade = self.ledger.open
        if trade is None:
            return None
        purpose = {CloseReason.MANUAL: "CLOSE"}.get(reason, reason.value)
        side = closing_side(trade.side)
        qty = trade.open_quantity
        client = self.client_id(purpose, candle_ms)
        self._intent(client, purpose, side, "MARKET", qty, trade.position_id)
        try:
            result = await self.exchange.market_order(self.symbol, side, qty, reduce_only=True, client_id=client)
        except OrderRejected:
            self.ledger.set_order_status(client, "REJECTED")
            raise
        except (TemporaryExchangeError, asyncio.TimeoutError) as exc:
            result = await self._find_after_timeout(client, exc)
            if result is None:
                return None
        closed = None
        for fill in result.fills:
            out = self.ledger.apply_fill(fill, order_status=result.status, decision_candle_ms=candle_ms)
            closed = closed or out
        if not result.fills:
            self.ledger.set_order_status(client, result.status, result.order_id)
        if closed is not None:
            await self.cancel_legs(closed.trade.position_id)
        return closed

    async def cancel_legs(self, position_id: str) -> int:
        """Cancel the stored SL/TP legs of a position (live siblings are not auto-expired, 30 §5.6/§6.7)."""
        n = 0
        for leg in self.ledger.journal.orders(position_id=position_id, status="NEW"):
            if leg.purpose not in ("SL", "TP") or leg.exchange_id is None:
                continue
            try:
                gone = await self.exchange.cancel_order(self.symbol, leg.exchange_id, is_algo=True)
            except Exception as exc:  # noqa: BLE001 - already filled/cancelled; reconciliation re-checks
                logger.debug("[%s] cancel %s skipped: %s", self.symbol, leg.client_id, exc)
                gone = False
            self.ledger.set_order_status(leg.client_id, "CANCELED" if gone else "GONE")
            n += int(gone)
        return n

    def levels_for(self, side: int, entry_price: float, atr: float) -> tuple[float, float]:
        sl, tp = sl_tp_levels(side, entry_price, atr, self.params.atr_sl_mult, self.params.atr_tp_mult)
        return self.rules.round_price(sl), self.rules.round_price(tp)
