"""Operator control of a running trader: pause/resume entries, force-exit, kill-switch reset, reload, ML mode.

Why: steering the bot must not need a shell, and must never race the bot's own decisions. Every action that
touches a symbol runs *on that symbol's queue* (`bot.BotCommand`), between two candles or fills, exactly like a
fill or a reconciliation — so the reply means the change is in force and no decision saw half of it.

- `pause` / `resume`: new entries (and re-entries after a reverse) are blocked; exits, SL/TP, reverse closes and
  reconciliation keep working. Kept in the journal, so a restart stays paused.
- `exit SYM`: market reduce-only close of the open position, recorded with reason MANUAL.
- `reset-kill SYM`: the kill switch counts only trades closed from now on (as `cointrader trader reset-kill`).
- `reload`: each symbol's parameters re-read from the configuration for the strategy it runs (weighted signal or MTF
  pullback) and validated for every symbol before any changes; a parameter of another strategy set for a symbol, or
  a new strategy name, is refused; effective from the next candle (SL/TP already on the exchange keep their levels;
  the MTF pullback replays its decision state over its candles with the new parameters, as a restart would).
- `ml-mode off|shadow|on`: `on` is refused while a symbol has no usable model; `shadow`/`on` are refused while a
  symbol trades a strategy without an ML filter (the MTF pullback). Lasts until restart (ML_MODE decides at start-up).

Every action is journaled (event `CONTROL`: when, what, reason, outcome) and notified. Authentication is the HTTP
layer's job (`status_http.py`); this module trusts its caller.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from trader_runtime.config import StrategyParams
from trader_runtime.domain.enums import CloseReason
from trader_runtime.domain.schema import BAR_MS
from trader_runtime.errors import ConfigError
from trader_runtime.service.bot import BotCommand, Reconcile, SymbolBot
from trader_runtime.storage.journal import KillRow

logger = logging.getLogger(__name__)

ACTIONS = ("pause", "resume", "exit", "reset-kill", "reload", "ml-mode")
ML_MODES = ("off", "shadow", "on")
PAUSE_META = "entries_paused"
MAX_REASON_CHARS = 500
COMMAND_TIMEOUT_S = 60.0


class ControlRefused(Exception):
    """The action cannot be done as asked; nothing was changed. `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ControlRequest:
    action: str
    reason: str
    symbol: str | None = None
    mode: str | None = None

    @classmethod
    def parse(cls, action: str, body: Mapping[str, Any], symbols: list[str]) -> "ControlRequest":
        """Validate before anything happens: known action, a reason, a traded symbol, a valid mode."""
        if action not in ACTIONS:
            raise ControlRefused(404, f"unknown action {action!r}; allowed {', '.join(ACTIONS)}")
        reason = str(body.get("reason") or "").strip()
        if not reason:
            raise ControlRefused(400, "a reason is required (it is journaled with the action)")
        if len(reason) > MAX_REASON_CHARS:
            raise ControlRefused(400, f"reason has {len(reason)} characters; at most {MAX_REASON_CHARS}")
        symbol = body.get("symbol")
        if action in ("exit", "reset-kill"):
            symbol = str(symbol or "").strip().upper()
            if symbol not in symbols:
                raise ControlRefused(400, f"symbol {symbol or '(none)'!r} is not traded here; traded: {', '.join(symbols)}")
        else:
            symbol = None
        mode = body.get("mode")
        if action == "ml-mode":
            mode = str(mode or "").strip().lower()
            if mode not in ML_MODES:
                raise ControlRefused(400, f"mode {mode or '(none)'!r}; allowed {', '.join(ML_MODES)}")
        else:
            mode = None
        return cls(action, reason, symbol, mode)


@dataclass(frozen=True)
class ControlOutcome:
    action: str
    changed: bool
    detail: str
    time: str
    symbol: str | None = None
    mode: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def now_iso() -> str:
    return pd.Timestamp.now(tz="UTC").isoformat()


class Controller:
    """Carries out control requests on a running `TraderApp` (typed loosely: app.py imports this module)."""

    def __init__(self, app: Any, params_loader: Callable[[str], Any]) -> None:
        self.app = app
        self.params_loader = params_loader
        self.paused: dict[str, Any] | None = None  # {"reason", "time"} while entries are paused
        self._lock = asyncio.Lock()  # one action at a time

    # ------------------------------------------------------------------------------------------ restore
    def restore(self) -> None:
        """Start-up: a pause set before a restart still holds (a crash must not silently resume entries)."""
        raw = self.app.journal.meta(PAUSE_META)
        state = json.loads(raw) if raw else None
        if state and state.get("paused"):
            self.paused = {"reason": state.get("reason"), "time": state.get("time")}
            for bot in self.app.bots.values():
                bot.entries_paused = str(state.get("reason") or "paused")
            logger.warning("new entries are PAUSED (since %s: %s); `cointrader trader ctl resume` resumes them",
                           self.paused["time"], self.paused["reason"])  # fmt: skip

    # ------------------------------------------------------------------------------------------ dispatch
    async def execute(self, req: ControlRequest) -> ControlOutcome:
        handlers: dict[str, Callable[[ControlRequest], Awaitable[tuple[bool, str]]]] = {
            "pause": self._pause, "resume": self._resume, "exit": self._exit, "reset-kill": self._reset_kill,
            "reload": self._reload, "ml-mode": self._ml_mode,
        }  # fmt: skip
        async with self._lock:
            changed, detail = await handlers[req.action](req)
            outcome = ControlOutcome(req.action, changed, detail, now_iso(), req.symbol, req.mode)
            self._journal(req, outcome)
        what = " ".join(x for x in (req.action, req.symbol, req.mode) if x)
        logger.warning("operator %s: %s (reason: %s)", what, detail, req.reason)
        self.app.notifier.send(f"🛂 operator **{what}**: {detail} — reason: {req.reason}")
        return outcome

    def _journal(self, req: ControlRequest, outcome: ControlOutcome) -> None:
        with self.app.journal.transaction() as tx:
            tx.add_event(self.app.exchange.now_ms(), "CONTROL", req.symbol,
                         {**outcome.to_dict(), "reason": req.reason})  # fmt: skip

    async def _on_bot(self, bot: SymbolBot, action: Callable[[SymbolBot], Awaitable[Any]]) -> Any:
        """Run `action(bot)` on the bot's own queue and wait for it."""
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        bot.queue.put_nowait(BotCommand(action, done))
        return await asyncio.wait_for(asyncio.shield(done), COMMAND_TIMEOUT_S)

    # ------------------------------------------------------------------------------------------ actions
    async def _pause(self, req: ControlRequest) -> tuple[bool, str]:
        if self.paused is not None:
            return False, f"entries already paused since {self.paused['time']}"
        await self._set_paused(req.reason)
        return True, "new entries paused; exits, SL/TP and reconciliation keep working"

    async def _resume(self, req: ControlRequest) -> tuple[bool, str]:
        if self.paused is None:
            return False, "entries were not paused"
        await self._set_paused(None)
        return True, "new entries resumed"

    async def _set_paused(self, reason: str | None) -> None:
        async def apply(bot: SymbolBot) -> None:
            bot.entries_paused = reason

        for bot in self.app.bots.values():
            await self._on_bot(bot, apply)
        when = now_iso()
        self.paused = None if reason is None else {"reason": reason, "time": when}
        with self.app.journal.transaction() as tx:
            tx.set_meta(PAUSE_META, json.dumps({"paused": reason is not None, "reason": reason, "time": when}))

    async def _exit(self, req: ControlRequest) -> tuple[bool, str]:
        bot = self.app.bots[req.symbol]

        async def close(bot: SymbolBot) -> tuple[bool, str]:
            trade = bot.ledger.open
            if trade is None:
                return False, f"{bot.symbol} has no open position"
            candle_ms = bot.stats.last_candle_ms
            if candle_ms is None:
                candle_ms = (bot.exchange.now_ms() // BAR_MS) * BAR_MS
            closed = await bot.executor.close(CloseReason.MANUAL, candle_ms)
            if closed is None:
                bot.queue.put_nowait(Reconcile("manual close not confirmed"))
                return True, f"close of the {trade.side} position sent but not confirmed; reconciliation will settle it"
            await bot.after_close(closed)
            t = closed.trade
            return True, f"{t.side} {t.quantity:g} closed at {t.exit_price:g}, net {t.net_pnl:+.4f} USDT (reason MANUAL)"

        return await self._on_bot(bot, close)

    async def _reset_kill(self, req: ControlRequest) -> tuple[bool, str]:
        bot = self.app.bots[req.symbol]

        async def reset(bot: SymbolBot) -> tuple[bool, str]:
            was = bot.kill.killed
            now = bot.exchange.now_ms()
            with bot.journal.transaction() as tx:
                tx.add_kill_row(KillRow(bot.symbol, now, "RESET", f"operator reset: {req.reason}"[:500],
                                        bot.journal.last_exit_ms(bot.symbol)))  # fmt: skip
            bot._pick_up_manual_reset()  # applies the RESET row just written
            return was, ("kill switch reset; only trades closed from now on count" if was
                         else "kill switch was not active; history marker moved to now")  # fmt: skip

        return await self._on_bot(bot, reset)

    async def _reload(self, req: ControlRequest) -> tuple[bool, str]:
        """Every symbol's parameters re-read for the strategy it runs and validated before anything changes."""
        new: dict[str, Any] = {}
        for sym in self.app.bots:
            try:
                p = self.params_loader(sym)
            except ConfigError as exc:
                raise ControlRefused(400, f"configuration refused, nothing changed: {exc}") from None
            running = self.app.strategy_params[sym]
            if type(p) is not type(running):
                raise ControlRefused(400, f"configuration refused, nothing changed: {sym} runs the "
                                          f"{self.app.strategies[sym].title} strategy; its parameters cannot become {p!r}")  # fmt: skip
            new[sym] = p
        changes = {s: p for s, p in new.items() if p != self.app.strategy_params[s]}
        if not changes:
            return False, "strategy parameters unchanged"

        def apply_to(params: Any, exits: StrategyParams) -> Callable[[SymbolBot], Awaitable[None]]:
            async def apply(bot: SymbolBot) -> None:
                bot.params = exits
                bot.executor.params = exits
                if isinstance(params, StrategyParams):
                    bot.engine.params = params
                else:  # a strategy with its own engine state (MTF pullback): replayed with the new parameters
                    bot.engine.set_params(params)
                reconciler = self.app.reconcilers.get(bot.symbol)
                if reconciler is not None:
                    reconciler.params = exits

            return apply

        summary = "; ".join(f"{s} {_diff(self.app.strategy_params[s], p)}" for s, p in changes.items())
        for sym, params in changes.items():
            exits = self.app.exit_params_of(sym, params)
            await self._on_bot(self.app.bots[sym], apply_to(params, exits))
            self.app.strategy_params[sym] = params
            self.app.params[sym] = exits
            logger.warning("[%s] %s parameters reloaded: %s", sym, self.app.strategies[sym].title, params.as_dict())
        return True, f"from the next candle: {summary} (SL/TP already on the exchange keep their levels)"

    async def _ml_mode(self, req: ControlRequest) -> tuple[bool, str]:
        mode = str(req.mode)
        if mode == self.app.ml_mode:
            return False, f"ML mode already {mode}"
        no_filter = [s for s in self.app.bots if self.app.strategies[s].feature_columns is None]
        if mode != "off" and no_filter:
            title = self.app.strategies[no_filter[0]].title
            raise ControlRefused(409, f"{', '.join(no_filter)} trades the {title} strategy, which has no ML filter; "
                                      f"ML mode stays {self.app.ml_mode}")  # fmt: skip
        if mode != "off":
            missing = await self._ensure_models(mode)
            if missing and mode == "on":
                raise ControlRefused(409, f"no usable model for {', '.join(missing)}; ML mode stays {self.app.ml_mode}")

        async def apply(bot: SymbolBot) -> None:
            bot.ml_mode = mode

        for bot in self.app.bots.values():
            await self._on_bot(bot, apply)
        previous, self.app.ml_mode = self.app.ml_mode, mode
        return True, f"ML mode {previous} → {mode} from the next candle (until restart; ML_MODE decides at start-up)"

    async def _ensure_models(self, mode: str) -> list[str]:
        """Start the model source of every symbol that has none (the trader started with ML off); returns the
        symbols still without a model."""
        missing = []
        for sym in self.app.bots:
            holder = self.app.holders[sym]
            if sym not in self.app.pollers:
                model, poller = await asyncio.to_thread(self.app.first_model, sym)
                if model is not None:
                    holder.stage(model)
                self.app.start_poller(sym, poller)
            if holder.empty:
                missing.append(sym)
        return missing


def _diff(old: Any, new: Any) -> str:
    a, b = old.as_dict(), new.as_dict()
    parts = [f"{k} {a[k]}→{b[k]}" for k in b if a.get(k) != b[k]]
    return ", ".join(parts) or "unchanged"

