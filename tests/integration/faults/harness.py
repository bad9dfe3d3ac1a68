"""Runs the real trading service against the fake exchange, candle by candle, and kills or restarts it on cue.

`TraderThread` runs one `TraderApp` (demo/live mode, python-binance pointed at the fake by base URLs) on its own
event loop in a background thread, as a process would. `stop()` is the graceful path (SIGTERM → D6 shutdown);
`kill()` is a crash: the loop is halted between two steps and never resumed — no `finally`, no shutdown, no last
journal write — and its sockets are cut the way the kernel cuts a dead process's connections. A new instance then
starts on the same journal and the same exchange (D6, 30 §6.9). The dead instance is parked, never collected, so
its coroutines are not closed behind our back.

`TradingRun` is what a scenario holds: the fake, the journal path, the running service, the protection monitor,
and the steps — advance the replay one candle and wait until every bot has handled it (queues drained and the
fake quiet), restart, check every invariant.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Coroutine, TypeVar

import pandas as pd

from trader_runtime.config import RuntimeSettings, StrategyParams
from trader_runtime.exchange.binance.client import BinanceEndpoints, BinanceExchange
from trader_runtime.service.app import TraderApp, TraderOptions
from trader_runtime.service.execution import RetryPolicy
from trader_runtime.storage.journal import JournalReader
from trader_runtime.testing.fake_exchange import LIVE, FakeExchange, FakeExchangeConfig, SymbolSpec, VenueBehaviour
from trader_runtime.testing.fake_exchange import faults as fault_kinds

from tests.integration.faults.invariants import ProtectionMonitor, Report, activity, check_all, read_books, read_journal
from tests.integration.faults.market import FAST_PARAMS, SEED, synthetic_frame

T = TypeVar("T")
FAST_RETRY = RetryPolicy(attempts=3, pause_s=0.05)
#: the adapter's timings scaled down like the replay clock (production: 10 s REST timeout, 5 s reconnect delay,
#: 10 s wait for fills on the user stream (1 s once the answer says FILLED), 3 s wait for BTC/ETH closes, 30 min
#: listen-key keep-alive, 60 s of market silence before the kline socket is replaced)
REST_TIMEOUT_S = 1.0
ADAPTER_TIMINGS: dict[str, float] = {"order_wait_s": 2.0, "filled_wait_s": 0.2, "corr_wait_s": 1.0, "reconnect_delay_s": 0.2,
                                     "keepalive_s": 1.0, "market_stale_s": 1.5}
#: one bounded REST retry sequence of the adapter (`exchange.binance.errors.call`: 0.5 s then 1 s back-off) may sit
#: between an entry and its SL/TP (reading the entry's fills when the stream missed them)
REST_BACKOFF_S = 1.5
#: wall-clock allowance on top of the retry budget for REST round trips and journal fsyncs on a loaded machine
PROTECTION_SLACK_S = 2.0
START_TIMEOUT_S = 60.0
CANDLE_TIMEOUT_S = 30.0
QUIET_S = 0.015

_GRAVEYARD: list[tuple[asyncio.AbstractEventLoop, Any, Any]] = []  # killed instances: never resumed, never collected
_DEAD_COROUTINES: set[int] = set()


def _ignore_dead_instances(unraisable: Any, _previous: Any = sys.unraisablehook) -> None:
    """At interpreter exit the killed instances' coroutines are finalised on their stopped loops; their complaints
    about it are noise (a killed process would have said nothing), everything else goes to the usual hook."""
    if id(unraisable.object) not in _DEAD_COROUTINES:
        _previous(unraisable)


class ServiceDied(AssertionError):
    """The service ended on its own while a scenario expected it to run."""


class CandleNotProcessed(AssertionError):
    """A closed candle did not reach every bot in time (a stream that did not recover)."""


# ------------------------------------------------------------------------------------------------ configuration
def settings_env(fx: FakeExchange, symbols: Iterable[str], *, mode: str = "live", **env: Any) -> dict[str, str]:
    """The service's environment: the fake's keys for both modes, one-symbol-list, ML off, leverage 10."""
    values: dict[str, Any] = {
        "COINTRADER_MODE": mode, "SYMBOLS": ",".join(symbols), "LEVERAGE": 10, "ML_MODE": "off",
        "BINANCE_API_KEY": fx.api_key, "BINANCE_API_SECRET": fx.api_secret,
        "BINANCE_DEMO_API_KEY": fx.api_key, "BINANCE_DEMO_API_SECRET": fx.api_secret,
    }  # fmt: skip
    values.update(env)
    return {k: str(v) for k, v in values.items()}


def trader_settings(env: Mapping[str, str]) -> RuntimeSettings:
    """Settings as the service reads them from that environment (no `.env` file)."""
    return RuntimeSettings(_env_file=None, **env)


def binance_exchange(fx: FakeExchange, settings: RuntimeSettings, symbols: Iterable[str],
                     timings: Mapping[str, float] | None = None) -> BinanceExchange:  # fmt: skip
    """The demo/live adapter as `build_binance` makes it, aimed at the fake, with test-speed timings."""
    endpoints = BinanceEndpoints(settings.mode == "demo", fx.rest_url, fx.ws_url, fx.api_key, fx.api_secret, timeout_s=REST_TIMEOUT_S)
    corr = [c.strip() for c in settings.correlation_symbols.split(",") if c.strip()]
    return BinanceExchange(settings.mode, endpoints, list(symbols), corr, **{**ADAPTER_TIMINGS, **(timings or {})})


def trader_options(fx: FakeExchange, journal: Path, symbols: Iterable[str], *, strategy: StrategyParams = FAST_PARAMS,
                   **overrides: Any) -> TraderOptions:  # fmt: skip
    """Options for a fast, offline run: no status port, short retry pauses, the fake's base URLs."""
    base = TraderOptions(journal_path=journal, http_port=None, rest_url=fx.rest_url, ws_url=fx.ws_url, retry=FAST_RETRY,
                         reconcile_interval_s=2.0, model_cache=journal.parent / "model-cache",
                         params={s: strategy for s in symbols})  # fmt: skip
    return replace(base, **overrides)  # overrides may carry per-symbol `params`


# ------------------------------------------------------------------------------------------------ one instance
class TraderThread:
    """One service instance on its own loop and thread."""

    def __init__(self, make_app: Callable[[], TraderApp]) -> None:
        self._make_app = make_app
        self.loop: asyncio.AbstractEventLoop | None = None
        self.app: TraderApp | None = None
        self.task: asyncio.Task[int] | None = None
        self.error: BaseException | None = None
        self.exit_code: int | None = None
        self.killed = False
        self._thread = threading.Thread(target=self._main, name="trader-service", daemon=True)

    # -------------------------------------------------------------------------------------- lifecycle
    def start(self, timeout: float = START_TIMEOUT_S) -> "TraderThread":
        self._thread.start()
        deadline = time.monotonic() + timeout
        while True:
            app = self.app
            if app is not None and app.ready:
                return self
            if not self._thread.is_alive():
                raise ServiceDied(f"service ended during start-up: {self.error!r}") from self.error
            if time.monotonic() > deadline:
                raise ServiceDied(f"service not ready after {timeout} s")
            time.sleep(0.01)

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self.loop = loop

        async def main() -> int:
            try:
                self.app = self._make_app()
                code = await self.app.run()
            except BaseException as exc:
                self.error = exc
                raise
            self.exit_code = code
            return code

        self.task = loop.create_task(main(), name="trader-main")
        self.task.add_done_callback(lambda _: loop.stop())
        loop.run_forever()
        if self.killed:
            return  # a dead process: nothing more runs, nothing is cleaned up
        try:  # what asyncio.run does after main() returns: cancel what is left, then close
            left = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for t in left:
                t.cancel()
            if left:
                loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            loop.close()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive() and not self.killed

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM: the service's own graceful shutdown (D6)."""
        if not self._thread.is_alive():
            return
        assert self.loop is not None and self.app is not None
        self.loop.call_soon_threadsafe(self.app.request_stop)
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise ServiceDied(f"service did not stop within {timeout} s")

    def kill(self) -> None:
        """SIGKILL: halt the loop between two steps, never resume it, cut its connections."""
        loop = self.loop
        if loop is None or not self._thread.is_alive():
            return
        self.killed = True
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(10)
        for transport in list(getattr(loop, "_transports", {}).values()):  # asyncio's private fd → transport map
            sock = transport.get_extra_info("socket")
            if sock is None:
                continue
            try:
                with socket.socket(fileno=os.dup(sock.fileno())) as dup:
                    dup.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self.app is not None:  # its webhook thread dies with the process too (else interpreter exit waits on it)
            self.app.notifier.close(timeout_s=0.5)
            for lock in self.app.locks:  # the kernel drops a dead process's flock locks
                lock.release()
        _DEAD_COROUTINES.update(id(t.get_coro()) for t in asyncio.all_tasks(loop))
        sys.unraisablehook = _ignore_dead_instances
        _GRAVEYARD.append((loop, self.app, self.task))

    # -------------------------------------------------------------------------------------- access
    def call(self, coro: Coroutine[Any, Any, T], timeout: float = CANDLE_TIMEOUT_S) -> T:
        """Run `coro` on the service's loop and wait for its result."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def bots(self) -> dict[str, Any]:
        assert self.app is not None
        return dict(self.app.bots)

    def drained(self) -> bool:
        """Every bot has handled everything delivered to it so far (waits on the service's loop)."""
        assert self.app is not None and self.app.router is not None
        self.call(self.app.router.drain())
        return all(b.queue.qsize() == 0 for b in self.app.bots.values())

    def last_candles(self) -> dict[str, int | None]:
        return {s: b.stats.last_candle_ms for s, b in self.bots().items()}


# ------------------------------------------------------------------------------------------------ a real process
REPO = Path(__file__).resolve().parents[3]


class ProcessTrader:
    """`cointrader trader run` in a child process: SIGTERM to stop, SIGKILL to crash. Observed only from outside
    (the fake's connections and the journal), like an operator would."""

    quiet_s = 0.1

    def __init__(self, fx: FakeExchange, journal: Path, settings_env: Mapping[str, str], log: Path) -> None:
        self.fx = fx
        self.journal = journal
        self.env = {**os.environ, **settings_env, "PYTHONPATH": str(REPO)}
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.killed = False
        self.error: BaseException | None = None
        self.exit_code: int | None = None
        self._connects_before = (0, 0)

    def start(self, timeout: float = START_TIMEOUT_S) -> "ProcessTrader":
        conns = self.fx.connections()
        self._connects_before = (conns["market_total"], conns["user_total"])
        args = [sys.executable, "-m", "tests.integration.faults.trader_process", "--mode", self.env["COINTRADER_MODE"],
                "--journal", str(self.journal), "--rest-url", self.fx.rest_url, "--ws-url", self.fx.ws_url, "--http-port", "-1"]
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(args, cwd=REPO, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:  # ready = both of its streams are connected to the fake
            conns = self.fx.connections()
            if conns["market_total"] > self._connects_before[0] and conns["user_total"] > self._connects_before[1]:
                return self
            if self.proc.poll() is not None:
                self.exit_code = self.proc.returncode
                raise ServiceDied(f"trader process exited with {self.proc.returncode} during start-up; log {self.log}:\n"
                                  f"{self.log.read_text(errors='replace')[-3000:]}")
            if time.monotonic() > deadline:
                raise ServiceDied(f"trader process not connected after {timeout} s; log {self.log}")
            time.sleep(0.05)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 30.0) -> None:
        if self.alive:
            assert self.proc is not None
            self.proc.send_signal(signal.SIGTERM)
            self.exit_code = self.proc.wait(timeout)

    def kill(self) -> None:
        if self.alive:
            assert self.proc is not None
            self.killed = True
            self.proc.kill()
            self.exit_code = self.proc.wait(10)

    def last_candles(self) -> dict[str, int | None]:
        with JournalReader(self.journal) as r:
            rows = r._con.execute("SELECT symbol, MAX(candle_ms) FROM decisions GROUP BY symbol").fetchall()
        seen = {s: int(m) for s, m in rows}
        return {s: seen.get(s) for s in self.env["SYMBOLS"].split(",")}

    def drained(self) -> bool:
        return True  # not observable from outside; the quiet period covers it


# ------------------------------------------------------------------------------------------------ a scenario
@dataclass
class TradingRun:
    """The fake exchange + one journal + the service instance currently running on them."""

    fx: FakeExchange
    journal: Path
    symbols: list[str]
    settings: RuntimeSettings
    options: TraderOptions
    seeded: dict[str, Decimal] = field(default_factory=dict)
    service: TraderThread | ProcessTrader | None = None
    env: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    starts: int = 0
    kills: int = 0
    candles: int = 0
    last_candle_ms: int | None = None
    monitor: ProtectionMonitor | None = None

    def __post_init__(self) -> None:
        self.monitor = ProtectionMonitor(self.fx).start()

    # -------------------------------------------------------------------------------------- service
    def start(self, *, process: bool = False, **option_overrides: Any) -> TraderThread | ProcessTrader:
        """Start a new instance: in this process (default) or as a real OS process (`process=True`)."""
        if self.service is not None and self.service.alive:
            raise RuntimeError("a service instance is already running")
        options = replace(self.options, **option_overrides) if option_overrides else self.options
        settings = self.settings
        service: TraderThread | ProcessTrader
        if process:
            service = ProcessTrader(self.fx, self.journal, self.process_env(), self.journal.parent / f"process-{self.starts}.log")
        else:
            fx, symbols, timings = self.fx, self.symbols, self.timings
            service = TraderThread(lambda: TraderApp(settings, options, exchange=binance_exchange(fx, settings, symbols, timings)))
        self.service = service
        before = self.fx.connections()
        service.start()
        self._wait_streams(before)
        self.starts += 1
        assert self.monitor is not None
        self.monitor.service_up()
        return service

    def service_only(self) -> TraderThread:
        """Start an instance and return as soon as it reports ready — before its streams connect (start-up races)."""
        settings, options, fx, symbols, timings = self.settings, self.options, self.fx, self.symbols, self.timings
        service = TraderThread(lambda: TraderApp(settings, options, exchange=binance_exchange(fx, settings, symbols, timings)))
        self.service = service
        self._connects_before = self.fx.connections()
        service.start()
        self.starts += 1
        assert self.monitor is not None
        self.monitor.service_up()
        return service

    def wait_streams_of(self, service: TraderThread) -> None:
        self._wait_streams(self._connects_before)

    def _wait_streams(self, before: Mapping[str, int], timeout: float = START_TIMEOUT_S) -> None:
        """The service subscribes to its streams after start-up; a candle closed before that would be missed."""
        deadline = time.monotonic() + timeout
        while True:
            now = self.fx.connections()
            if now["market_total"] > before["market_total"] and now["user_total"] > before["user_total"]:
                return
            self.require_alive()
            if time.monotonic() > deadline:
                raise ServiceDied(f"streams not connected {timeout} s after start-up: {now}")
            time.sleep(0.01)

    def stop(self) -> None:
        if self.service is not None:
            assert self.monitor is not None
            self.monitor.service_down()
            self.service.stop()

    def kill(self) -> None:
        if self.service is not None:
            assert self.monitor is not None
            self.monitor.service_down()
            self.service.kill()
            self.kills += 1

    def restart(self, *, kill: bool = False, process: bool = False, **option_overrides: Any) -> TraderThread | ProcessTrader:
        self.kill() if kill else self.stop()
        return self.start(process=process, **option_overrides)

    def process_env(self) -> dict[str, str]:
        """The environment a child process reads its settings from (same values as `settings`)."""
        params = self.options.params[self.symbols[0]] if self.options.params else None
        env = {k: str(v) for k, v in self.env.items()}
        if params is not None:
            env.update(ATR_SL_MULT=str(params.atr_sl_mult), ATR_TP_MULT=str(params.atr_tp_mult),
                       SIGNAL_THRESHOLD=str(params.signal_threshold), ADX_THRESHOLD=str(params.adx_threshold),
                       VOL_MULTIPLIER=str(params.volume_multiplier))  # fmt: skip
        return env

    @property
    def app(self) -> TraderApp:
        assert isinstance(self.service, TraderThread) and self.service.app is not None
        return self.service.app

    def require_alive(self) -> None:
        if self.service is None or not self.service.alive:
            err = self.service.error if self.service else None
            raise ServiceDied(f"the service is not running (error: {err!r})") from err

    # -------------------------------------------------------------------------------------- replay
    def advance(self, n: int = 1, *, settle: bool = True, timeout: float = CANDLE_TIMEOUT_S) -> int:
        """Close `n` candles one at a time, each followed by a settle; returns the last one's open time (ms)."""
        for _ in range(n):
            (opened,) = self.fx.advance(1)
            self.candles += 1
            self.last_candle_ms = int(opened.value // 1_000_000)
            if settle:
                self.settle(timeout=timeout)
        assert self.last_candle_ms is not None
        return self.last_candle_ms

    def settle(self, target_ms: int | None = None, *, timeout: float = CANDLE_TIMEOUT_S) -> None:
        """Every bot has processed candle `target_ms` (default: the last one advanced), its queue is drained and
        the fake has been quiet for a moment (late stream events delivered)."""
        self.require_alive()
        assert self.service is not None
        target = self.last_candle_ms if target_ms is None else target_ms
        deadline = time.monotonic() + timeout
        if target is not None:
            while True:
                seen = self.service.last_candles()
                if all(v is not None and v >= target for v in seen.values()):
                    break
                self.require_alive()
                if time.monotonic() > deadline:
                    raise CandleNotProcessed(f"candle {pd.Timestamp(target, unit='ms', tz='UTC')} not processed within "
                                             f"{timeout} s; bots at {seen}")  # fmt: skip
                time.sleep(0.002)
        self.quiesce(deadline)

    def quiesce(self, deadline: float | None = None) -> None:
        assert self.service is not None
        deadline = deadline or time.monotonic() + CANDLE_TIMEOUT_S
        quiet = getattr(self.service, "quiet_s", QUIET_S)
        last, changed = activity(self.fx), time.monotonic()
        while True:
            drained = self.service.drained()
            now_activity = activity(self.fx)
            now = time.monotonic()
            if now_activity != last:
                last, changed = now_activity, now
            elif drained and now - changed >= quiet:
                return
            if now > deadline:
                raise CandleNotProcessed("the service did not go quiet (events keep flowing or a queue never drains)")
            time.sleep(0.003)

    def advance_until(self, predicate: Callable[["TradingRun"], bool], limit: int, what: str = "condition") -> int:
        """Advance candle by candle until `predicate(run)` holds; returns how many candles that took."""
        for i in range(1, limit + 1):
            self.advance()
            if predicate(self):
                return i
        raise AssertionError(f"{what} not reached within {limit} candles")

    def wait_until(self, predicate: Callable[["TradingRun"], bool], timeout: float, what: str = "condition") -> float:
        """Wait (wall clock, no replay) until `predicate(run)` holds; returns the seconds it took."""
        t0 = time.monotonic()
        while not predicate(self):
            if time.monotonic() - t0 > timeout:
                raise AssertionError(f"{what} not reached within {timeout} s")
            time.sleep(0.01)
        return time.monotonic() - t0

    # -------------------------------------------------------------------------------------- views
    def position(self, symbol: str | None = None) -> Decimal:
        sym = symbol or self.symbols[0]
        return read_books(self.fx).positions.get(sym, (Decimal(0), Decimal(0)))[0]

    def journal_view(self):  # noqa: ANN201 - JournalView
        return read_journal(self.journal, self.symbols)

    def fault(self, rule: fault_kinds.FaultRule) -> fault_kinds.FaultRule:
        return self.fx.faults.add(rule)

    @property
    def protection_budget_s(self) -> float:
        """The runtime's retry budget between a fill and its SL/TP: an entry answer that times out (REST timeout),
        one REST back-off sequence to learn its fills, the SL/TP attempts with their pauses (30 §5.4) — plus slack
        for a loaded machine. Beyond it the position must have been protected or closed."""
        retry = self.options.retry
        return REST_TIMEOUT_S + REST_BACKOFF_S + retry.attempts * retry.pause_s + PROTECTION_SLACK_S

    def check(self, *, protection: bool = True, context: str = "") -> Report:
        """Every invariant of the settled state plus the protection window; raises listing all violations."""
        running = self.service is not None and self.service.alive
        if running:
            self.quiesce()
        report = check_all(self.fx, self.journal, self.symbols, seeded=self.seeded, running=running, protection=protection)
        assert self.monitor is not None
        self.monitor.check(report, self.protection_budget_s)
        report.assert_ok(context)
        return report

    def close(self) -> None:
        try:
            if self.service is not None and self.service.alive:
                self.stop()
        finally:
            assert self.monitor is not None
            self.monitor.stop()


def build_run(workdir: Path, *, symbols: tuple[str, ...] = ("XRPUSDT",), history: int | None = None,
              venue: VenueBehaviour = LIVE, mode: str = "live", params: StrategyParams = FAST_PARAMS, days: int = 24,
              seed: int = SEED, start: bool = True, specs: Mapping[str, SymbolSpec] | None = None,
              exchange: Mapping[str, Any] | None = None, options: Mapping[str, Any] | None = None,
              env: Mapping[str, Any] | None = None, timings: Mapping[str, float] | None = None) -> TradingRun:  # fmt: skip
    """A fake venue replaying `days` of the synthetic market (first `history` candles already closed), a journal
    under `workdir`, and — unless `start=False` — the service running on them."""
    frames = {s: synthetic_frame(s, days, seed) for s in symbols}
    config = FakeExchangeConfig(venue=venue, history_candles=history, slippage_bps=1.0, **(exchange or {}))
    fx = FakeExchange(frames, config=config, symbol_specs=specs).start()
    workdir.mkdir(parents=True, exist_ok=True)
    journal = workdir / "journal.sqlite"
    environment = settings_env(fx, symbols, mode=mode, **(env or {}))
    run = TradingRun(fx, journal, list(symbols), trader_settings(environment),
                     trader_options(fx, journal, symbols, strategy=params, **(options or {})), env=environment,
                     timings=dict(timings or {}))  # fmt: skip
    if start:
        try:
            run.start()
        except BaseException:
            run.close()
            fx.stop()
            raise
    return run


def seed_position(run: TradingRun, symbol: str, amount: float, entry_price: float) -> None:
    """A position that was on the account before the service ever saw it (manual trade, lost journal)."""
    run.fx.seed_position(symbol, amount, entry_price)
    run.seeded[symbol] = run.seeded.get(symbol, Decimal(0)) + Decimal(str(amount))



# ------------------------------------------------------------------------------------------------ scenario steps
def open_position(run: TradingRun, symbol: str | None = None, limit: int = 120) -> int:
    """Advance until the exchange holds a position for `symbol`; returns the candles it took."""
    return run.advance_until(lambda r: r.position(symbol) != 0, limit, f"a position on {symbol or run.symbols[0]}")


def closed_trades(run: TradingRun, symbol: str | None = None) -> list[Any]:
    sym = symbol or run.symbols[0]
    return [t for t in run.journal_view().trades.get(sym, []) if t.status == "CLOSED"]


def close_position(run: TradingRun, symbol: str | None = None, limit: int = 200) -> Any:
    """Advance until the journal records one more closed trade for `symbol`; returns that trade."""
    before = len(closed_trades(run, symbol))
    run.advance_until(lambda r: len(closed_trades(r, symbol)) > before, limit, "a closed trade")
    return closed_trades(run, symbol)[-1]


def decisions(run: TradingRun) -> pd.DataFrame:
    with JournalReader(run.journal) as r:
        return r.decisions()
