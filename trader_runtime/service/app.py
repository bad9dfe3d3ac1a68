"""The trading service, wired: settings → journal → exchange → risk/kill state → models → bots → tasks.

This module only assembles and sequences (STYLE 2.10 #1); each job lives in its own module. Start-up order is the
safety order: validate configuration and load models (a bad setting stops here, before any order), restore risk
and kill-switch state from the journal (DEF-11), seed each symbol's feature buffer (D11), reconcile every symbol
with the exchange (D6, DEF-01/03), and only then start consuming candles. Shutdown cancels only orders that do not
protect an open position (D6, DEF-02), so SL/TP stay on the exchange while the service is down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trader_runtime.backtest.fills import FillModel
from trader_runtime.config import RuntimeSettings, StrategyParams, _read_dotenv
from trader_runtime.credentials import control_token
from trader_runtime.domain.schema import BAR_MS
from trader_runtime.errors import ConfigError, ModelRefused, ModelUnavailable
from trader_runtime.exchange.factory import ExchangeContext, ReplaySource, build_exchange
from trader_runtime.exchange.port import Exchange, SymbolRules
from trader_runtime.logs import register_secret
from trader_runtime.model_source import LoadedModel, ModelHolder, ModelPoller, ModelSource
from trader_runtime.risk.kill_switch import KillSwitch
from trader_runtime.risk.risk_manager import RiskManager, utc_day_ms
from trader_runtime.service.bot import Reconcile, SymbolBot
from trader_runtime.service.control import Controller
from trader_runtime.service.dispatch import EventRouter
from trader_runtime.service.execution import OrderExecutor, RetryPolicy
from trader_runtime.service.lifecycle import ClosedTrade, PositionLedger, ensure_day
from trader_runtime.service.metrics import TraderMetrics
from trader_runtime.service.notifier import Notifier
from trader_runtime.service.reconcile import Reconciler
from trader_runtime.service.sd_notify import SystemdNotifier, watchdog_interval_s
from trader_runtime.service import views
from trader_runtime.service.status_http import StatusServer
from trader_runtime.service.watchdog import Watchdog
from trader_runtime.storage.instance_lock import InstanceLock, account_lock_path, journal_lock_path
from trader_runtime.storage.journal import Journal, KillRow
from trader_runtime.strategy.features import MIN_LIVE_CANDLES
from trader_runtime.strategy.registry import get_strategy, params_for_reload

logger = logging.getLogger(__name__)

MARGIN_BASE_KEY = "margin_base_balance"
SHUTDOWN_CANCEL_TIMEOUT_S = 5.0
#: replay: seconds the per-candle rows (decision, status, cursor) may wait to be written together
REPLAY_COALESCE_S = 1.0


@dataclass(frozen=True)
class TraderOptions:
    """Run options that are not account settings (CLI flags); defaults give the offline replay demo."""

    journal_path: Path | None = None  # None: settings.journal_path
    replay: ReplaySource = field(default_factory=ReplaySource)
    speed: float = 0.0
    initial_balance: float = 1000.0
    fill_model: FillModel = field(default_factory=FillModel)
    warmup: int = MIN_LIVE_CANDLES
    http_port: int | None = 8787
    reconcile_interval_s: float = 300.0
    model_poll_s: float = 60.0
    model_cache: Path = Path(".model_cache")
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    stale_after_s: float = 3 * 900.0
    rest_url: str | None = None
    ws_url: str | None = None
    #: strategy parameters per symbol, resolved by the caller (config file overrides); an object of the configured
    #: strategy's parameter type (StrategyParams for weighted-signal, MTFParams for mtf-pullback)
    params: dict[str, Any] | None = None
    params_loader: Callable[[str], Any] | None = None  # what `ctl reload` re-reads (default: env + .env)


def register_settings_secrets(settings: RuntimeSettings) -> None:
    for name in ("binance_api_key", "binance_api_secret", "binance_demo_api_key", "binance_demo_api_secret",
                 "discord_webhook_url"):  # fmt: skip
        register_secret(getattr(settings, name).get_secret_value())


def validate_symbols(settings: RuntimeSettings) -> list[str]:
    symbols = settings.symbol_list
    dupes = sorted({s for s in symbols if symbols.count(s) > 1})
    if dupes:
        raise ConfigError(f"SYMBOLS={settings.symbols!r} lists {dupes} more than once; one bot per symbol")
    return symbols


class TraderApp:
    """One process: N symbol bots, the shared risk manager, and the service tasks around them."""

    def __init__(self, settings: RuntimeSettings, options: TraderOptions = TraderOptions(), *,
                 exchange: Exchange | None = None, notifier: Notifier | None = None,
                 sources: dict[str, ModelSource] | None = None,
                 strategy_env: dict[str, str] | None = None) -> None:  # fmt: skip
        register_settings_secrets(settings)
        self.settings = settings
        self.options = options
        self.mode = settings.mode
        self.symbols = validate_symbols(settings)
        self.strategies = {s: get_strategy(settings.strategy_name_for(s, strategy_env)) for s in self.symbols}
        no_filter = [s for s in self.symbols if self.strategies[s].feature_columns is None]
        if settings.ml_mode != "off" and no_filter:  # refused before any file, lock or socket exists
            raise ConfigError(f"ML_MODE={settings.ml_mode} but the {self.strategies[no_filter[0]].title} strategy of "
                              f"{', '.join(no_filter)} has no ML filter; set ML_MODE=off or choose weighted-signal")
        self.strategy_params = {s: self._strategy_params(s, options.params) for s in self.symbols}
        #: what the executor and reconciliation read: the SL/TP multiples of each symbol's strategy
        self.params = {s: self._exit_params(s) for s in self.symbols}
        self.journal_path = Path(options.journal_path or settings.journal_path)
        self.notifier = notifier or Notifier(settings.discord_webhook_url.get_secret_value(), self.mode)
        self._exchange = exchange
        self._sources = sources
        self.sd = SystemdNotifier()
        self.stop_event = asyncio.Event()
        self.bots: dict[str, SymbolBot] = {}
        self.pollers: dict[str, ModelPoller] = {}
        self.holders: dict[str, ModelHolder] = {}
        self.rules: dict[str, SymbolRules] = {}
        self.reconcilers: dict[str, Reconciler] = {}
        self.ml_mode = settings.ml_mode  # the operator may switch it at runtime (control.py)
        self.control_token = control_token(settings.control_token_file)  # None: control actions are off
        self.controller = Controller(self, options.params_loader or self._reload_params)
        self.prometheus = TraderMetrics(self)
        self.started_s = time.monotonic()
        self.journal: Journal | None = None
        self.exchange: Exchange | None = None
        self.risk: RiskManager | None = None
        self.router: EventRouter | None = None
        self.http: StatusServer | None = None
        self.http_port: int | None = None
        self.balance: float | None = None
        self.ready = False
        self._tasks: list[asyncio.Task[Any]] = []
        self._entry_lock = asyncio.Lock()  # the shared entry critical section (INC-18)
        self.locks = self._instance_locks()

    def _strategy_params(self, symbol: str, given: dict[str, Any] | None) -> Any:
        strategy = self.strategies[symbol]
        p = (given or {}).get(symbol)
        if p is None:
            return self.settings.strategy_params_for(symbol)
        if not isinstance(p, strategy.params_type):
            raise ConfigError(f"{symbol}: parameters {p!r} do not belong to the {strategy.title} strategy")
        return p

    def _reload_params(self, symbol: str) -> Any:
        """What `ctl reload` re-reads by default: the parameters of the symbol's running strategy from env + .env
        (refused when the configuration sets another strategy's parameter for it, `registry.params_for_reload`)."""
        env = {**_read_dotenv(), **os.environ}
        return params_for_reload(self.strategies[symbol].name, symbol, env)

    def _exit_params(self, symbol: str) -> StrategyParams:
        return self.exit_params_of(symbol, self.strategy_params[symbol])

    def exit_params_of(self, symbol: str, p: Any) -> StrategyParams:
        """The SL/TP multiples the executor and reconciliation read, from the symbol's strategy parameters."""
        if isinstance(p, StrategyParams):
            return p
        sl, tp = self.strategies[symbol].exit_multiples(p)
        return StrategyParams(atr_sl_mult=sl, atr_tp_mult=tp)

    def request_stop(self) -> None:
        self.stop_event.set()

    # ------------------------------------------------------------------------------------------ start-up
    async def start(self) -> None:
        logger.info("CoinTrader trader starting: mode=%s symbols=%s ml=%s journal=%s", self.mode.upper(),
                    ",".join(self.symbols), self.settings.ml_mode, self.journal_path)  # fmt: skip
        self._log_configuration()
        self.holders = self._load_models()  # ConfigError before any order when ML is on without a model
        for lock in self.locks:  # one trader per journal and per account, before the journal is touched
            lock.acquire()
        await self._start_http()  # a port in use is an error, found before any order
        # replay at full speed: per-candle rows reach the file about once a second (trades and venue changes at once)
        fast_replay = self.mode == "replay" and self.options.speed == 0
        journal = Journal(self.journal_path, durable=self.mode != "replay",
                          coalesce_s=REPLAY_COALESCE_S if fast_replay else 0.0)  # fmt: skip
        self.journal = journal
        journal.claim_mode(self.mode)
        exchange = self._exchange or build_exchange(self._context(journal))
        self.exchange = exchange
        await exchange.start()
        if not await exchange.one_way_mode():
            raise ConfigError("the account is in hedge (dual-side) position mode; switch to one-way mode")
        for s in self.symbols:
            self.rules[s] = await exchange.symbol_rules(s)
        self.balance = await exchange.balance()
        self.risk = self._restore_risk(journal, self.balance)
        for s in self.symbols:
            self.bots[s] = await self._build_bot(s, journal, exchange)
        self.controller.restore()  # an operator pause survives a restart
        for bot in self.bots.values():  # reconcile before the first candle (D6)
            await bot.reconcile("start-up")  # type: ignore[misc]
        self.router = EventRouter(self.bots)
        self._write_global_status()
        self.notifier.send(f"ℹ️ trader started: symbols {', '.join(self.symbols)}, ML {self.settings.ml_mode}")

    async def _start_http(self) -> None:
        if self.options.http_port is None or self.options.http_port < 0:
            return
        server = StatusServer(self, self.options.http_port, token=self.control_token)
        try:
            self.http_port = await server.start()
        except OSError as exc:
            await server.stop()
            raise ConfigError(f"status port {self.options.http_port} on 127.0.0.1 cannot be used ({exc.strerror or exc}); "
                              "pass another --http-port or -1 to run without the endpoint") from None  # fmt: skip
        self.http = server

    def _instance_locks(self) -> list[InstanceLock]:
        locks = []
        if str(self.journal_path) != ":memory:":
            locks.append(InstanceLock(journal_lock_path(self.journal_path), f"journal {self.journal_path}"))
        if self.mode in ("demo", "live"):
            key = self.settings.binance_demo_api_key if self.mode == "demo" else self.settings.binance_api_key
            path = account_lock_path(self.mode, key.get_secret_value(), self.options.rest_url or "")
            locks.append(InstanceLock(path, f"the {self.mode} exchange account"))
        return locks

    def _log_configuration(self) -> None:
        s = self.settings
        logger.info(
            "configuration: leverage=%d margin=[%.2f..%.2f] decay=%g max_positions=%d max_same_direction=%d "
            "ml_mode=%s ml_threshold=%.2f keys=%s webhook=%s", s.leverage, s.margin_min_ratio, s.margin_max_ratio,
            s.margin_decay_rate, s.max_positions, s.max_same_direction, s.ml_mode, s.ml_threshold,
            "set" if (s.binance_api_key.get_secret_value() or s.binance_demo_api_key.get_secret_value()) else "unset",
            "set" if s.discord_webhook_url.get_secret_value() else "unset",
        )  # fmt: skip
        for sym, p in self.strategy_params.items():
            logger.info("[%s] strategy %s, params %s", sym, self.strategies[sym].name, self.strategies[sym].params_dict(p))

    def _context(self, journal: Journal) -> ExchangeContext:
        def save(key: str, state: dict[str, Any]) -> None:
            with journal.transaction() as tx:
                tx.save_venue_state(key, state, int(time.time() * 1000))

        def save_progress(key: str, state: dict[str, Any]) -> None:
            with journal.coalesced(step=True) as tx:  # the replay cursor: a new candle starts
                tx.save_venue_state(key, state, int(time.time() * 1000))

        o = self.options
        # the replay's history must hold what every symbol's strategy needs before its first decision
        warmup = max([o.warmup] + [self.strategies[s].live_history_candles(self.strategy_params[s]) for s in self.symbols])
        return ExchangeContext(self.settings, self.symbols, warmup, o.replay, o.speed, o.initial_balance,
                               o.fill_model, o.rest_url, o.ws_url, journal.venue_state, save,
                               save_progress)  # fmt: skip

    def _load_models(self) -> dict[str, ModelHolder]:
        s = self.settings
        holders = {sym: ModelHolder() for sym in self.symbols}
        if s.ml_mode == "off":
            return holders
        for sym in self.symbols:
            model, poller = self.first_model(sym)
            if model is None and s.ml_mode == "on":
                raise ConfigError(
                    f"ML_MODE=on but no usable model for {sym}: {poller.source.name}@{poller.source.alias} not usable at "
                    f"{s.mlflow_tracking_uri} ({poller.refused or poller.last_error or 'unreachable'}) and nothing cached "
                    f"in {poller.source.cache}; train/promote one or set ML_MODE=off"
                )
            holders[sym] = ModelHolder(model)
            poller.holder = holders[sym]
            self.pollers[sym] = poller
            logger.info("[%s] ML %s with model %s", sym, s.ml_mode, f"v{model.version} ({model.source})" if model else "none yet")
        return holders

    def model_source(self, symbol: str) -> ModelSource:
        s = self.settings
        return (self._sources or {}).get(symbol) or ModelSource(
            s.mlflow_tracking_uri, s.model_name.format(symbol=symbol), cache_dir=self.options.model_cache,
            threshold=s.ml_threshold, use_model_threshold=s.ml_use_model_threshold, key_file=s.promotion_key_file,
        )  # fmt: skip

    def first_model(self, symbol: str) -> tuple[LoadedModel | None, ModelPoller]:
        """The alias's champion, else the last good cached model; a refused champion is alerted once."""
        source = self.model_source(symbol)
        poller = ModelPoller(source, self.holders.get(symbol) or ModelHolder(), self.options.model_poll_s,
                             on_refused=lambda why: self.notifier.send(f"🔴 [{symbol}] model refused, keeping the last good one: {why}"))  # fmt: skip
        try:
            return source.fetch(None), poller
        except ModelUnavailable as exc:
            if isinstance(exc, ModelRefused):
                poller.refuse(str(exc))
            else:
                poller.last_error = str(exc)
            logger.warning("[%s] %s; trying the local model cache", symbol, exc)
        try:
            return source.load_cached(), poller
        except ModelUnavailable as exc:
            logger.warning("[%s] no usable cached model: %s", symbol, exc)
            return None, poller

    def start_poller(self, symbol: str, poller: ModelPoller) -> None:
        """Used when the operator switches ML on at runtime (the trader started with ML off)."""
        poller.holder = self.holders[symbol]
        self.pollers[symbol] = poller
        self._spawn(poller.run(), f"model-poll-{symbol}")

    def _restore_risk(self, journal: Journal, balance: float) -> RiskManager:
        stored = journal.meta(MARGIN_BASE_KEY)
        if not stored and not balance > 0:
            raise ConfigError(f"the account holds {balance} USDT; fund it before the first start (the dynamic margin "
                              "ratio is anchored to the first balance seen)")
        margin_base = float(stored) if stored else balance
        if stored is None:
            with journal.transaction() as tx:
                tx.set_meta(MARGIN_BASE_KEY, repr(balance))
        open_trades = journal.open_trades()
        ledger = balance + sum(t.entry_fee for t in open_trades.values())
        assert self.exchange is not None
        day = utc_day_ms(self.exchange.now_ms())
        base = journal.daily_base(day)
        stored_day = (day, base, journal.daily_net_pnl(day)) if base is not None else None
        positions = {sym: (1 if t.side == "LONG" else -1) for sym, t in open_trades.items()}
        risk = RiskManager.restore(self.settings.risk_limits, len(self.symbols), margin_base, ledger, positions, stored_day)
        logger.info("risk restored: balance %.4f, margin base %.4f, day base %s, daily pnl %.4f, open %s", balance,
                    margin_base, base, risk.daily_pnl, positions or "none")  # fmt: skip
        return risk

    async def _build_bot(self, symbol: str, journal: Journal, exchange: Exchange) -> SymbolBot:
        assert self.risk is not None
        limits = self.settings.risk_limits
        closed = [(t.exit_time_ms, t.net_pnl) for t in journal.closed_trades(symbol, limit=2 * max(limits.kill_fast_streak, limits.kill_slow_window))]
        kill = KillSwitch.restore(symbol, limits, [(r.action, r.marker_ms, r.reason) for r in journal.kill_rows(symbol)],
                                  closed)  # fmt: skip
        boot = kill.boot_transition(exchange.now_ms())
        if boot is not None:  # silent at boot (30 §8.2): persisted and logged, not notified
            with journal.transaction() as tx:
                tx.add_kill_row(KillRow(symbol, boot.time_ms, "KILL", boot.reason, journal.last_exit_ms(symbol)))
            logger.error("[%s] KILL SWITCH active at start-up: %s", symbol, boot.reason)
        elif kill.killed:
            logger.warning("[%s] kill switch still active: %s (reset: cointrader trader reset-kill %s)", symbol,
                           kill.snapshot().reason, symbol)  # fmt: skip
        ledger = PositionLedger(symbol, self.mode, journal, self.risk, kill, leverage=self.settings.leverage,
                                now_ms=exchange.now_ms)  # fmt: skip
        executor = OrderExecutor(symbol, exchange, ledger, self.risk, self.notifier, rules=self.rules[symbol],
                                 params=self.params[symbol], leverage=self.settings.leverage,
                                 entry_lock=self._entry_lock, retry=self.options.retry)  # fmt: skip
        engine = self.strategies[symbol].live_engine(symbol, self.strategy_params[symbol],
                                                     position_open=lambda: ledger.open is not None)
        history = await exchange.history(symbol, engine.max_candles)
        if len(history):
            engine.seed(history)
        bot = SymbolBot(symbol, mode=self.mode, params=self.params[symbol], ml_mode=self.ml_mode,
                        exchange=exchange, journal=journal, risk=self.risk, kill=kill, ledger=ledger,
                        executor=executor, engine=engine, holder=self.holders[symbol], notifier=self.notifier)  # fmt: skip

        def last_atr() -> float | None:
            try:
                return engine.evaluate().atr if len(engine) else None
            except Exception:  # noqa: BLE001 - no ATR yet is a normal answer here
                return None

        async def on_closed(closed: ClosedTrade) -> None:
            await bot.after_close(closed)

        reconciler = Reconciler(symbol, exchange, ledger, executor, self.notifier, self.params[symbol],
                                atr=last_atr, on_closed=on_closed)  # fmt: skip
        bot.reconcile = reconciler.run
        bot.on_latency = self.prometheus.latency_observer(symbol)
        self.reconcilers[symbol] = reconciler
        return bot

    # ------------------------------------------------------------------------------------------ running
    async def run(self) -> int:
        """Start, trade until stopped (signal, replay exhausted, or a fatal error), then shut down cleanly."""
        try:
            await self.start()
            await self._serve()
        finally:
            await self.shutdown()
        return 0

    async def _serve(self) -> None:
        assert self.exchange is not None and self.router is not None
        spawn = self._spawn
        for bot in self.bots.values():
            spawn(bot.worker(), f"bot-{bot.symbol}")
        feed = spawn(self.exchange.run(self.router), "market-feed")
        if self.mode != "replay":
            spawn(self._reconcile_ticker(), "reconcile")
            spawn(self._midnight_roller(), "daily-reset")
        for sym, poller in self.pollers.items():
            spawn(poller.run(), f"model-poll-{sym}")
        interval = watchdog_interval_s()
        if interval is not None:
            wd = Watchdog(self.sd, interval, self._oldest_activity, stale_after_s=None if self.mode == "replay" else self.options.stale_after_s)
            spawn(wd.run(), "watchdog")
        self.ready = True
        self._write_global_status()
        self.sd.ready(f"trading {','.join(self.symbols)} ({self.mode})")
        stop = asyncio.create_task(self.stop_event.wait(), name="stop-wait")
        waiting = {stop, feed}
        while True:
            done, _ = await asyncio.wait(waiting | {t for t in self._tasks if t is not feed}, return_when=asyncio.FIRST_COMPLETED)
            if stop in done:
                logger.warning("stop requested; shutting down")
                break
            if feed in done:
                exc = feed.exception()
                if exc is not None:
                    raise exc
                await asyncio.gather(*(b.finished.wait() for b in self.bots.values()))
                logger.info("replay data exhausted; shutting down")
                break
            crashed = [t for t in done if t is not stop and t.done() and not t.cancelled() and t.exception()]
            if crashed:
                raise crashed[0].exception()  # type: ignore[misc]
        stop.cancel()

    def _spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.append(task)
        return task

    async def _reconcile_ticker(self) -> None:
        while True:
            await asyncio.sleep(self.options.reconcile_interval_s)
            for bot in self.bots.values():
                bot.queue.put_nowait(Reconcile("periodic"))

    async def _midnight_roller(self) -> None:
        """Start the new UTC day at midnight even when nothing happens (D2); events also start it on their own."""
        assert self.exchange is not None and self.risk is not None and self.journal is not None
        while True:
            now = self.exchange.now_ms()
            nxt = utc_day_ms(now) + 86_400_000
            await asyncio.sleep(max((nxt - now) / 1000.0, 0.0) + 0.001)
            if ensure_day(self.journal, self.risk, self.exchange.now_ms(), self.exchange.now_ms()):
                logger.info("new UTC day: base %.4f", self.risk.day_base or 0.0)
                self._write_global_status()

    def _oldest_activity(self) -> float | None:
        stamps = [b.stats.last_activity_s for b in self.bots.values()]
        return min(stamps) if stamps else None

    # ------------------------------------------------------------------------------------------ shutdown
    async def shutdown(self) -> None:
        self.sd.stopping()
        feed = next((t for t in self._tasks if t.get_name() == "market-feed"), None)
        if feed is not None and not feed.done():
            feed.cancel()
            with contextlib.suppress(BaseException):
                await feed
        if self.bots and self.exchange is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.gather(*(b.queue.join() for b in self.bots.values())), 5.0)
        for task in self._tasks:
            task.cancel()
        results = await asyncio.gather(*self._tasks, return_exceptions=True)
        for task, res in zip(self._tasks, results):
            if isinstance(res, BaseException) and not isinstance(res, asyncio.CancelledError):
                logger.warning("task %s ended with %r", task.get_name(), res)
        if self.exchange is not None:
            for sym in self.bots:
                try:
                    await asyncio.wait_for(self._cancel_unprotective(sym), SHUTDOWN_CANCEL_TIMEOUT_S)
                except Exception as exc:  # noqa: BLE001 - shutdown goes on
                    logger.warning("[%s] shutdown order clean-up ignored: %s", sym, exc)
            with contextlib.suppress(Exception):
                await self.exchange.close()
        if self.http is not None:
            await self.http.stop()
        if self.journal is not None:
            with contextlib.suppress(Exception):
                self._write_global_status(stopped=True)
            self.journal.close()
        for lock in self.locks:
            lock.release()
        self.notifier.send("ℹ️ trader stopped")
        self.notifier.close()
        logger.info("shutdown complete")

    async def _cancel_unprotective(self, symbol: str) -> None:
        """D6/DEF-02: keep the SL/TP legs of an open position; cancel everything else of the symbol."""
        assert self.exchange is not None and self.journal is not None
        bot = self.bots[symbol]
        keep = {o.exchange_id for o in bot.ledger.legs("NEW")} if bot.ledger.open is not None else set()
        for order in await self.exchange.open_orders(symbol):
            if order.order_id in keep:
                continue
            await self.exchange.cancel_order(symbol, order.order_id, is_algo=order.is_algo)
            logger.info("[%s] cancelled non-protective order %s at shutdown", symbol, order.order_id)

    # ------------------------------------------------------------------------------------------ status views
    def _write_global_status(self, stopped: bool = False) -> None:
        assert self.journal is not None
        r = self.risk
        values = {"mode": self.mode, "symbols": ",".join(self.symbols), "ml_mode": self.ml_mode,
                  "strategies": ",".join(f"{s}={self.strategies[s].name}" for s in self.symbols),
                  "state": "stopped" if stopped else ("running" if self.ready else "starting"),
                  "day_base": None if r is None else r.day_base, "daily_pnl": None if r is None else r.daily_pnl,
                  "balance": self.balance, "http_port": self.http_port}  # fmt: skip
        with self.journal.transaction() as tx:
            tx.set_status("", values, self.exchange.now_ms() if self.exchange else int(time.time() * 1000))

    def candle_age_s(self, bot: SymbolBot) -> float | None:
        if bot.stats.last_candle_ms is None or self.exchange is None:
            return None
        return max(self.exchange.now_ms() - (bot.stats.last_candle_ms + BAR_MS), 0) / 1000.0

    def health(self) -> tuple[bool, dict[str, Any]]:
        ages = {s: self.candle_age_s(b) for s, b in self.bots.items()}
        stale = [s for s, a in ages.items() if a is not None and a > self.options.stale_after_s]
        ok = self.ready and not stale
        return ok, {"status": "ok" if ok else ("starting" if not self.ready else "stale"), "mode": self.mode,
                    "last_candle_age_s": ages, "stale": stale, "uptime_s": round(time.monotonic() - self.started_s, 1)}  # fmt: skip

    # views for the HTTP endpoint and the dashboard (service/views.py computes them)
    def status(self) -> dict[str, Any]:
        return views.status_view(self)

    def money(self) -> dict[str, Any]:
        return views.money(self)

    def unrealised(self, symbol: str) -> float | None:
        return views.unrealised(self, symbol)

    def equity(self) -> list[dict[str, Any]]:
        return views.equity_curve(self)

    def decisions(self, symbol: str | None, limit: int) -> list[dict[str, Any]]:
        return views.decisions_view(self, symbol, limit)

    def actions(self) -> list[dict[str, Any]]:
        return views.actions_view(self)

    def trades(self, symbol: str | None, status: str | None, limit: int) -> list[dict[str, Any]]:
        assert self.journal is not None
        df = self.journal.trades_frame(symbol=symbol, status=status, limit=limit)
        df = df.drop(columns=[c for c in df.columns if c.endswith("_acc") or c.endswith("_ms")])
        for col in ("entry_time", "exit_time", "entry_candle_time", "exit_candle_time"):
            df[col] = df[col].map(lambda t: None if t is None or t != t else t.isoformat())
        return df.astype(object).where(df.notna(), None).to_dict(orient="records")

    def metrics(self) -> bytes:
        return self.prometheus.render()
