"""One symbol's bot: its own event queue, the per-candle decision flow (spec 30 §4, D1, D5, D10, D11) and fills.

Everything of one symbol — candles, fills, order updates, reconciliation — runs through one queue, one item at a
time, so the close paths can never race (INC-17 C3, DEF-17) and an exception in one item is logged once and
contained (DEF-08). The decision is the backtest kernel's own table (`strategy.decision.decide_candle`):

1. a new UTC day starts from its stored base (D2); a manual kill-switch reset written by the CLI is picked up;
2. the feature engine takes the closed candle (incremental path, ≥ 1,000 candles before trading, D11);
3. a position closed by SL/TP (or any exchange-side close) during this candle: nothing else on this candle;
4. an open position and the opposite signal: close at market (REVERSE, always allowed, D1), then re-enter only if
   the kill switch, daily limit, admission and ML gate allow it *after* the close was booked (BT-02);
5. flat and a LONG/SHORT signal: the same gates, then the entry (`execution.OrderExecutor`).
Every decision is one journal row with the model version used and its latency.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from trader_runtime.backtest.fills import unrealised_pnl
from trader_runtime.config import StrategyParams
from trader_runtime.domain.enums import CloseReason
from trader_runtime.domain.schema import BAR_MS
from trader_runtime.errors import DataError, ModelUnavailable, ReconciliationError
from trader_runtime.exchange.port import (
    CandleClosed,
    Exchange,
    FillEvent,
    MarketDataExhausted,
    OrderUpdate,
    ProtectiveTriggered,
    StreamReconnected,
)
from trader_runtime.model_source import LoadedModel, ModelHolder
from trader_runtime.risk.kill_switch import KillSwitch, ManualReset
from trader_runtime.risk.risk_manager import RiskManager
from trader_runtime.service.execution import EntryRequest, OrderExecutor
from trader_runtime.service.lifecycle import EXCHANGE_SIDE_REASONS, ClosedTrade, PositionLedger, ensure_day, side_code
from trader_runtime.service.notifier import Notifier, fmt_price
from trader_runtime.storage.journal import DecisionRow, Journal
from trader_runtime.strategy.decision import (
    ACT_BLOCK_DAILY,
    ACT_BLOCK_KILL,
    ACT_BLOCK_ML,
    ACT_BLOCK_ML_UNAVAILABLE,
    ACT_BLOCK_OTHER,
    ACT_BLOCK_RISK,
    ACT_ENTER,
    ACT_HOLD,
    ACT_HOLD_POSITION,
    ACT_LEVEL_EXIT,
    ACT_REVERSE,
    ML_BELOW,
    ML_OK,
    ML_UNAVAILABLE,
    decide_candle,
)
from trader_runtime.strategy.incremental import CandleDecisionInput, IncrementalFeatureEngine

logger = logging.getLogger(__name__)

SIDE_NAMES = {1: "LONG", -1: "SHORT", 0: "HOLD"}
BLOCK_NAMES = {
    ACT_BLOCK_OTHER: "BLOCKED_RECONCILE", ACT_BLOCK_KILL: "BLOCKED_KILL", ACT_BLOCK_DAILY: "BLOCKED_DAILY",
    ACT_BLOCK_RISK: "BLOCKED_RISK", ACT_BLOCK_ML: "BLOCKED_ML", ACT_BLOCK_ML_UNAVAILABLE: "BLOCKED_ML_UNAVAILABLE",
}  # fmt: skip
OPEN_GATES = (False, False, False, True, ML_OK)  # (account stop, kill, daily limit, admitted, ML): nothing blocks
REASON_EMOJI = {"TP": "✅", "SL": "❌"}


@dataclass(frozen=True, slots=True)
class Reconcile:
    """Queue command: run reconciliation now (periodic tick, or after a stream reconnect)."""

    reason: str


@dataclass(frozen=True, slots=True)
class BotCommand:
    """Queue command from the operator (`control.py`): `action(bot)` runs between two items, its result or error
    goes to `done`."""

    action: Callable[["SymbolBot"], Awaitable[Any]]
    done: asyncio.Future[Any]


@dataclass
class BotStats:
    candles: int = 0
    decisions: int = 0
    entries: int = 0
    closes: int = 0
    errors: int = 0
    order_errors: int = 0
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=20_000))
    last_candle_ms: int | None = None
    last_close: float | None = None
    last_signal: int = 0
    last_activity_s: float = field(default_factory=time.monotonic)


class SymbolBot:
    """Owns the decision flow of one symbol; `app.py` wires it and `dispatch.EventRouter` feeds its queue."""

    def __init__(
        self,
        symbol: str,
        *,
        mode: str,
        params: StrategyParams,
        ml_mode: str,
        exchange: Exchange,
        journal: Journal,
        risk: RiskManager,
        kill: KillSwitch,
        ledger: PositionLedger,
        executor: OrderExecutor,
        engine: IncrementalFeatureEngine,
        holder: ModelHolder,
        notifier: Notifier,
        reconcile: Callable[[str], Any] | None = None,
    ) -> None:
        self.symbol = symbol
        self.mode = mode
        self.params = params
        self.ml_mode = ml_mode
        self.exchange = exchange
        self.journal = journal
        self.risk = risk
        self.kill = kill
        self.ledger = ledger
        self.executor = executor
        self.engine = engine
        self.holder = holder
        self.notifier = notifier
        self.reconcile = reconcile
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.stats = BotStats()
        self.level_exit_candle_ms: int | None = None
        self.finished = asyncio.Event()
        self.halted_reason: str | None = None  # ReconciliationError: no new entries, exits keep working
        self.entries_paused: str | None = None  # operator pause (control.py): no new entries, exits keep working
        self.on_latency: Callable[[float], None] | None = None  # decision latency in ms (metrics histogram)
        self._kill_row_id = journal.last_kill_row_id(symbol)
        # a position the exchange already closed (e.g. by a leg that fired while we were down): settle it right away
        executor.on_position_gone = lambda: self.queue.put_nowait(Reconcile("position already closed on the exchange"))

    # ------------------------------------------------------------------------------------------ queue
    async def worker(self) -> None:
        while True:
            item = await self.queue.get()
            try:
                await self.handle(item)
            except asyncio.CancelledError:
                raise
            except ReconciliationError as exc:
                self.halted_reason = str(exc)
                self.stats.errors += 1
                logger.error("[%s] reconciliation failed, new entries stopped, SL/TP kept: %s", self.symbol, exc)
                self.notifier.send(f"🔴 [{self.symbol}] reconciliation failed; new entries stopped: {exc}")
            except Exception:  # noqa: BLE001 - contain per item (DEF-08); the stream and the other symbols go on
                self.stats.errors += 1
                logger.exception("[%s] error while handling %s", self.symbol, type(item).__name__)
                self._event("ERROR", {"item": type(item).__name__})
            finally:
                self.stats.last_activity_s = time.monotonic()
                self.queue.task_done()

    async def handle(self, item: Any) -> None:
        if isinstance(item, CandleClosed):
            await self.on_candle(item)
        elif isinstance(item, FillEvent):
            await self.on_fill(item)
        elif isinstance(item, OrderUpdate):
            self.on_order_update(item)
        elif isinstance(item, ProtectiveTriggered):
            if item.client_id:
                self.ledger.linked[item.actual_order_id] = item.client_id
            else:
                legs = {o.exchange_id: o.client_id for o in self.ledger.legs("NEW")}
                if item.algo_id in legs:
                    self.ledger.linked[item.actual_order_id] = legs[item.algo_id]
        elif isinstance(item, (Reconcile, StreamReconnected)):
            if self.reconcile is not None:
                await self.reconcile(item.reason if isinstance(item, Reconcile) else f"{item.stream} stream reconnected")
        elif isinstance(item, MarketDataExhausted):
            await self.on_end_of_data(item)
        elif isinstance(item, BotCommand):
            try:
                result = await item.action(self)
            except Exception as exc:  # noqa: BLE001 - the operator gets the error; the bot goes on
                if not item.done.done():
                    item.done.set_exception(exc)
            else:
                if not item.done.done():
                    item.done.set_result(result)
        else:
            logger.debug("[%s] ignoring %r", self.symbol, item)

    # ------------------------------------------------------------------------------------------ fills
    async def on_fill(self, ev: FillEvent) -> None:
        ensure_day(self.journal, self.risk, ev.fill.time_ms, self.exchange.now_ms())
        closed = self.ledger.apply_fill(ev.fill, order_status=ev.order_status)
        if closed is not None:
            await self.after_close(closed)

    def on_order_update(self, ev: OrderUpdate) -> None:
        row = self.journal.order(ev.client_id) if ev.client_id else None
        if row is None:
            row = next((o for o in self.ledger.legs("NEW") if o.exchange_id == ev.order_id), None)
        if row is not None and ev.status in ("CANCELED", "EXPIRED", "REJECTED"):
            self.ledger.set_order_status(row.client_id, ev.status)
            if self.ledger.open is not None and row.purpose in ("SL", "TP"):
                logger.warning("[%s] %s leg %s is %s while the position is open; re-placing at the next candle",
                               self.symbol, row.purpose, row.client_id, ev.status)  # fmt: skip

    async def after_close(self, closed: ClosedTrade) -> None:
        """Notify (N2/N4), cancel the surviving leg, and block entries on this candle after an SL/TP close."""
        t = closed.trade
        self.stats.closes += 1
        reason = CloseReason(t.close_reason)
        if reason in EXCHANGE_SIDE_REASONS:
            self.level_exit_candle_ms = t.exit_candle_ms
            await self.executor.cancel_legs(t.position_id)
        qty = t.quantity
        est = (t.exit_price - t.entry_price) * qty if t.side == "LONG" else (t.entry_price - t.exit_price) * qty
        self.notifier.send(
            f"{REASON_EMOJI.get(reason.value, '🔶')} **[{self.symbol}] {t.side} {reason.value} close** exit "
            f"`{fmt_price(t.exit_price)}` estimated `{est:+.4f}` USDT net `{t.net_pnl:+.4f}` USDT "
            f"(slippage + fees `{(t.net_pnl or 0.0) - est:+.4f}`)"
        )
        if closed.kill is not None:
            logger.error("[%s] KILL SWITCH: %s", self.symbol, closed.kill.reason)
            self.notifier.send(
                f"🚨 [KILL SWITCH] {self.symbol} new entries stopped: {closed.kill.reason}. Existing SL/TP keep "
                f"working. Reset: `cointrader trader reset-kill {self.symbol}`"
            )

    # ------------------------------------------------------------------------------------------ candles
    async def on_candle(self, ev: CandleClosed) -> None:
        t0 = time.perf_counter()
        candle_ms = ev.open_time_ms
        ensure_day(self.journal, self.risk, candle_ms + BAR_MS - 1, self.exchange.now_ms())
        self._pick_up_manual_reset()
        d = await self._features(ev)
        self.stats.candles += 1
        self.stats.last_candle_ms, self.stats.last_close, self.stats.last_signal = candle_ms, d.close, d.signal
        model = self.holder.take() if self.ml_mode != "off" else None
        if not d.ready:
            self._record(d, "WARMUP", f"{d.buffered} of {self.engine.min_candles} candles", model, None, t0)
            return
        if self.ledger.open is not None and self.level_exit_candle_ms != candle_ms:
            await self.executor.protect(candle_ms)  # re-place a missing leg every candle until protected (DEF-01)
        action, detail, proba = await self._decide(d, candle_ms, model)
        self._record(d, action, detail, model, proba, t0)

    async def _features(self, ev: CandleClosed) -> CandleDecisionInput:
        try:
            return self.engine.update_candle(ev.open_time_ms, ev.values)
        except DataError as exc:
            logger.warning("[%s] %s; reseeding the feature buffer from the exchange", self.symbol, exc)
            history = await self.exchange.history(self.symbol, self.engine.max_candles)
            self.engine.seed(history)
            if self.engine.last_time is None or self.engine.last_time.value // 1_000_000 < ev.open_time_ms:
                self.engine.append(ev.frame())
            return self.engine.evaluate()

    async def _decide(self, d: CandleDecisionInput, candle_ms: int, model: LoadedModel | None) -> tuple[str, str, float | None]:
        """The kernel's decision table (`strategy.decision.decide_candle`) on this bot's live state."""
        trade = self.ledger.open
        pos = side_code(trade.side) if trade is not None else 0
        level_exit = self.level_exit_candle_ms == candle_ms
        act = decide_candle(pos, level_exit, d.signal, False, *OPEN_GATES)  # gates matter only on the entry path
        proba = None
        if act == ACT_ENTER:
            gates, proba = self._gate(d, model)
            act = decide_candle(pos, level_exit, d.signal, False, *gates)
        if act == ACT_LEVEL_EXIT:
            return "LEVEL_EXIT", "position closed by SL/TP during this candle", None
        if act == ACT_HOLD_POSITION:
            return "HOLD_POSITION", d.hold_reason if d.signal == 0 else f"signal matches the open {trade.side}", None
        if act == ACT_HOLD:
            return "HOLD", d.hold_reason, None
        if act == ACT_REVERSE:
            closed = await self.executor.close(CloseReason.REVERSE, candle_ms)
            if closed is None:
                self.queue.put_nowait(Reconcile("reverse close not confirmed"))  # right after this candle
                return "REVERSE_PENDING", "close not confirmed; reconciliation will settle it", None
            await self.after_close(closed)
            gates, proba = self._gate(d, model)  # BT-02: halts and admission as they stand after the close
            act = decide_candle(0, False, d.signal, True, *gates)
            if act != ACT_ENTER:
                return "REVERSE_CLOSE_ONLY", BLOCK_NAMES[act], proba
            if self.entries_paused:  # operator pause (control.py): the close was an exit, the re-entry waits
                return "REVERSE_CLOSE_ONLY", "BLOCKED_PAUSED", proba
            outcome = await self._enter(d, candle_ms, model, proba)
            return ("REVERSE" if outcome.status == "OPENED" else f"REVERSE_{outcome.status}"), outcome.detail, proba
        if act != ACT_ENTER:
            return BLOCK_NAMES[act], "", proba
        if self.entries_paused:  # operator pause (control.py): no new entries, exits keep working
            return "BLOCKED_PAUSED", self.entries_paused, proba
        outcome = await self._enter(d, candle_ms, model, proba)
        return ("ENTRY" if outcome.status == "OPENED" else outcome.status), outcome.detail, proba

    def _gate(self, d: CandleDecisionInput, model: LoadedModel | None) -> tuple[tuple[bool, bool, bool, bool, int], float | None]:
        """The gates `decide_candle` reads: (account stop, kill switch, daily limit, admission, ML code) (D1, D5)."""
        proba: float | None = None
        if self.ml_mode != "off" and model is not None:
            try:
                proba = model.predict_row(d.feature_values, d.feature_names)
            except ModelUnavailable as exc:
                logger.warning("[%s] ML filter failed on this candle: %s", self.symbol, exc)
        ml = ML_OK
        if self.ml_mode == "on":
            ml = ML_UNAVAILABLE if model is None or proba is None else (ML_BELOW if proba < model.threshold else ML_OK)
        admitted = d.signal != 0 and self.risk.can_open(self.symbol, d.signal)
        return (bool(self.halted_reason), self.kill.killed, self.risk.daily_limited(), admitted, ml), proba

    async def _enter(self, d: CandleDecisionInput, candle_ms: int, model: LoadedModel | None, proba: float | None):
        snapshot = {"rsi": _num(d.feature("rsi")), "macd_hist": _num(d.feature("macd_hist")), "atr": d.atr,
                    "adx": _num(d.feature("adx"))}  # fmt: skip
        outcome = await self.executor.enter(
            EntryRequest(d.signal, candle_ms, d.close, d.atr, snapshot, model.version if model else None, proba)
        )
        if outcome.status == "OPENED":
            self.stats.entries += 1
        elif outcome.status == "UNKNOWN":
            # the order may have filled: a position that nobody protects must not wait for the periodic tick
            self.queue.put_nowait(Reconcile("entry outcome unknown"))
        return outcome

    async def on_end_of_data(self, ev: MarketDataExhausted) -> None:
        """Replay only: close what is open at the last candle's close (END_OF_DATA, like the backtest)."""
        if self.ledger.open is not None and self.stats.last_candle_ms is not None:
            closed = await self.executor.close(CloseReason.END_OF_DATA, self.stats.last_candle_ms)
            if closed is not None:
                await self.after_close(closed)
        self.finished.set()

    # ------------------------------------------------------------------------------------------ records
    def _record(self, d: CandleDecisionInput, action: str, detail: str, model: LoadedModel | None,
                proba: float | None, t0: float) -> None:  # fmt: skip
        latency = (time.perf_counter() - t0) * 1000.0
        self.stats.decisions += 1
        self.stats.latencies_ms.append(latency)
        if self.on_latency is not None:
            self.on_latency(latency)
        version = model.version if model else None
        trade = self.ledger.open
        status: dict[str, Any] = {
            "last_candle_ms": int(d.time.value // 1_000_000), "last_close": d.close, "signal": SIDE_NAMES[d.signal],
            "action": action, "ml_mode": self.ml_mode, "model_version": version,
            "model_alias": model.alias if model else None, "kill_active": int(self.kill.killed),
            "position": trade.side if trade else "NONE",
            "unrealized_pnl": None if trade is None else unrealised_pnl(side_code(trade.side), trade.entry_price, d.close, trade.open_quantity),
        }  # fmt: skip
        with self.journal.coalesced() as tx:  # replay: written together with the next batch or trade
            tx.add_decision(DecisionRow(
                self.symbol, int(d.time.value // 1_000_000), d.close, d.signal, action, d.long_score, d.short_score,
                _num(d.feature("adx")), d.atr, detail or None, self.ml_mode, version, proba, round(latency, 3),
            ))  # fmt: skip
            tx.set_status(self.symbol, status, self.exchange.now_ms())
        quiet = self.mode == "replay" and action in ("HOLD", "HOLD_POSITION", "WARMUP")
        level = logging.DEBUG if quiet else logging.INFO
        if not logger.isEnabledFor(level):
            return
        logger.log(
            level,
            "decision symbol=%s candle=%s mode=%s signal=%s scores=%d/%d action=%s detail=%s ml=%s model=%s proba=%s latency_ms=%.2f",
            self.symbol, d.time.isoformat(), self.mode, SIDE_NAMES[d.signal], d.long_score, d.short_score, action,
            detail or "-", self.ml_mode, version or "-", "-" if proba is None else f"{proba:.4f}", latency,
        )  # fmt: skip

    def _pick_up_manual_reset(self) -> None:
        """`cointrader trader reset-kill SYM` writes a RESET row; apply it without restarting (DEF-12)."""
        last = self.journal.last_kill_row_id(self.symbol)
        if last == self._kill_row_id:
            return
        self._kill_row_id = last
        rows = self.journal.kill_rows(self.symbol)
        if rows and rows[-1].action == "RESET":
            was = self.kill.killed
            self.kill.apply(ManualReset(self.exchange.now_ms(), by="reset-kill command"))
            logger.warning("[%s] kill switch reset by operator (was %s); only later trades count",
                           self.symbol, "active" if was else "inactive")

    def _event(self, kind: str, detail: dict[str, Any]) -> None:
        try:
            with self.journal.transaction() as tx:
                tx.add_event(self.exchange.now_ms(), kind, self.symbol, detail)
        except Exception:  # noqa: BLE001 - the journal failing here is already being reported
            logger.exception("[%s] could not record event %s", self.symbol, kind)


def _num(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if f != f else f
