"""`FakeExchange`: the fake USD-M venue running on 127.0.0.1 in a background thread with its own event loop.

The thread makes it usable the same way from synchronous tests (python-binance `Client`) and from async code
(`AsyncClient`, `BinanceSocketManager`): control calls are marshalled onto the server loop. Control methods block
the caller briefly; from a coroutine prefer the `a…` variants (`aadvance`) so the caller's loop keeps reading its
sockets while the fake publishes.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Coroutine, Mapping, TypeVar

import pandas as pd
from aiohttp import web

from trader_runtime.testing.fake_exchange.config import FakeExchangeConfig
from trader_runtime.testing.fake_exchange.core import ExchangeCore
from trader_runtime.testing.fake_exchange.engine import Event
from trader_runtime.testing.fake_exchange.faults import FaultAction, FaultBook
from trader_runtime.testing.fake_exchange.rest import build_app
from trader_runtime.testing.fake_exchange.symbols import SymbolSpec

T = TypeVar("T")
HOST = "127.0.0.1"
CALL_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class PositionView:
    symbol: str
    amount: Decimal
    entry_price: Decimal


@dataclass(frozen=True, slots=True)
class ExchangeSnapshot:
    """What the exchange holds right now, for assertions (amounts exact)."""

    wallet_usdt: Decimal
    positions: dict[str, PositionView]
    open_order_ids: list[int]
    open_algo_ids: list[int]
    algo_status: dict[int, str]
    income: list[tuple[str, str, Decimal]]
    replay_time: pd.Timestamp


class FakeExchange:
    """A local Binance USD-M futures venue replaying `candles` (one frame, or one per primary symbol).

    >>> with FakeExchange(frame, symbol="XRPUSDT") as fx:      # doctest: +SKIP
    ...     client = client_for(fx)                             # python-binance Client pointed at fx
    ...     fx.advance()                                         # close one candle: triggers, user + kline events
    """

    def __init__(self, candles: pd.DataFrame | Mapping[str, pd.DataFrame], *, symbol: str | None = None,
                 config: FakeExchangeConfig | None = None, symbol_specs: Mapping[str, SymbolSpec] | None = None,
                 ls_ratios: Mapping[str, pd.DataFrame] | None = None) -> None:
        if isinstance(candles, pd.DataFrame):
            if not symbol:
                raise ValueError("FakeExchange: pass symbol= with a single candle frame (e.g. symbol='XRPUSDT')")
            frames: Mapping[str, pd.DataFrame] = {symbol: candles}
        else:
            frames = candles
        self.config = config or FakeExchangeConfig()
        self.core = ExchangeCore(frames, self.config, symbol_specs=symbol_specs, ls_ratios=ls_ratios)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._clock_task: asyncio.Task[None] | None = None
        self._clock_stop = asyncio.Event()
        self.port = 0

    # ------------------------------------------------------------------------------------------ lifecycle
    def start(self) -> "FakeExchange":
        if self._thread is not None:
            raise RuntimeError("FakeExchange already started")
        if self._loop is not None:
            raise RuntimeError("FakeExchange cannot be restarted after stop(); create a new one")
        ready: Future[int] = Future()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, args=(ready,), name="fake-binance", daemon=True)
        self._thread.start()
        self.port = ready.result(timeout=CALL_TIMEOUT_S)
        return self

    def _serve(self, ready: Future[int]) -> None:
        loop = self._loop
        assert loop is not None
        asyncio.set_event_loop(loop)
        try:
            self._runner = web.AppRunner(build_app(self.core), access_log=None, handle_signals=False, shutdown_timeout=1.0)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, HOST, 0)
            loop.run_until_complete(site.start())
            ready.set_result(int(self._runner.addresses[0][1]))
        except BaseException as exc:  # report start-up failures to the starting thread
            ready.set_exception(exc)
            return
        loop.run_forever()
        loop.run_until_complete(self._runner.cleanup())
        loop.close()

    def stop(self) -> None:
        """Close every connection and the server; idempotent."""
        if self._thread is None or self._loop is None:
            return
        if self._clock_task is not None:
            self._loop.call_soon_threadsafe(self._clock_task.cancel)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=CALL_TIMEOUT_S)
        self._thread = None

    def __enter__(self) -> "FakeExchange":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> "FakeExchange":
        return await asyncio.to_thread(self.start)

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.stop)

    # ------------------------------------------------------------------------------------------ endpoints
    @property
    def rest_url(self) -> str:
        """Base URL of every REST API (`/fapi`, `/futures/data`, `/api`)."""
        self._require_started()
        return f"http://{HOST}:{self.port}"

    @property
    def ws_url(self) -> str:
        """Base URL of the websocket streams (python-binance's `FSTREAM_URL`), with trailing slash."""
        self._require_started()
        return f"ws://{HOST}:{self.port}/"

    @property
    def api_key(self) -> str:
        return self.config.api_key

    @property
    def api_secret(self) -> str:
        return self.config.api_secret

    @property
    def faults(self) -> FaultBook:
        return self.core.faults

    # ------------------------------------------------------------------------------------------ replay
    def advance(self, candles: int = 1) -> list[pd.Timestamp]:
        """Close `candles` candles; returns their open times. Raises ReplayExhausted past the end."""
        return self._call(self._advance(candles))

    async def aadvance(self, candles: int = 1) -> list[pd.Timestamp]:
        return await self._acall(self._advance(candles))

    async def _advance(self, candles: int) -> list[pd.Timestamp]:
        return [await self.core.advance_one() for _ in range(candles)]

    def start_clock(self, seconds_per_candle: float) -> None:
        """Advance one candle every `seconds_per_candle` of wall time until stop_clock() or the data ends."""
        if seconds_per_candle <= 0:
            raise ValueError(f"seconds_per_candle={seconds_per_candle} must be > 0")
        self._call(self._start_clock(seconds_per_candle))

    async def _start_clock(self, period: float) -> None:
        if self._clock_task is not None and not self._clock_task.done():
            raise RuntimeError("clock already running")
        stop = asyncio.Event()

        async def tick() -> None:
            while self.core.market.remaining > 0:
                try:
                    await asyncio.wait_for(stop.wait(), period)
                    return
                except asyncio.TimeoutError:
                    await self.core.advance_one()  # never interrupted mid-candle: stop waits for it

        self._clock_stop = stop
        self._clock_task = asyncio.get_running_loop().create_task(tick())

    def stop_clock(self) -> None:
        self._call(self._stop_clock())

    async def _stop_clock(self) -> None:
        if self._clock_task is not None:
            self._clock_stop.set()
            await self._clock_task
            self._clock_task = None

    # ------------------------------------------------------------------------------------------ faults now
    def inject(self, action: FaultAction) -> int:
        """Apply a stream action (DropConnection, Silence, ExpireListenKey) now; returns connections affected."""
        return self._call(self.core.apply_stream_action(action))

    async def ainject(self, action: FaultAction) -> int:
        return await self._acall(self.core.apply_stream_action(action))

    def unsilence(self, stream: str = "all") -> int:
        return self._call(self._run_sync(lambda: self.core.hub.silence(stream, silent=False)))

    # ------------------------------------------------------------------------------------------ scenario setup
    def seed_position(self, symbol: str, amount: float | str, entry_price: float | str) -> None:
        """Put a position on the account without events (a position that existed before the bot started)."""
        def seed() -> None:
            pos = self.core.account.position(self.core.engine.spec(symbol).symbol)
            pos.amount, pos.entry_price = Decimal(str(amount)), Decimal(str(entry_price))
            pos.update_time = self.core.now_ms()
        self._call(self._run_sync(seed))

    def close_position_externally(self, symbol: str, *, liquidation: bool = False) -> None:
        """Close the position from outside the bot: a manual close from the app, or a liquidation (DEF-14)."""
        async def close() -> None:
            await self.core.deliver(self.core.engine.close_externally(symbol, self.core.now_ms(), liquidation=liquidation))
        self._call(close())

    # ------------------------------------------------------------------------------------------ inspection
    def snapshot(self) -> ExchangeSnapshot:
        return self._call(self._run_sync(self._snapshot))

    def _snapshot(self) -> ExchangeSnapshot:
        acc = self.core.account
        return ExchangeSnapshot(
            wallet_usdt=acc.wallet,
            positions={s: PositionView(s, p.amount, p.entry_price) for s, p in acc.positions.items() if p.is_open},
            open_order_ids=[o.order_id for o in acc.open_orders()],
            open_algo_ids=[a.algo_id for a in acc.open_algo_orders()],
            algo_status={a.algo_id: a.status for a in acc.algo_orders.values()},
            income=[(r.symbol, r.income_type, r.income) for r in acc.income],
            replay_time=pd.Timestamp(self.core.market.now_ms, unit="ms", tz="UTC"),
        )

    def requests(self) -> list[tuple[str, str, dict[str, str]]]:
        """Every REST request seen: (method, path, params without signature) — for routing contract tests."""
        return self._call(self._run_sync(lambda: list(self.core.request_log)))

    def user_events(self) -> list[Event]:
        """Every user-stream event published (after faults), in order."""
        return self._call(self._run_sync(lambda: list(self.core.user_log)))

    def connections(self) -> dict[str, int]:
        """Open websocket connections by kind, plus how many were ever accepted (`market_total`, `user_total`)."""
        def count() -> dict[str, int]:
            hub = self.core.hub
            return {**hub.open_connections(), "market_total": hub.connects["market"], "user_total": hub.connects["user"]}
        return self._call(self._run_sync(count))

    # ------------------------------------------------------------------------------------------ plumbing
    def _require_started(self) -> None:
        if self._loop is None or self._thread is None:
            raise RuntimeError("FakeExchange is not running; call start() or use it as a context manager")

    @staticmethod
    async def _run_sync(fn: Any) -> Any:
        return fn()

    def _submit(self, coro: Coroutine[Any, Any, T]) -> "Future[T]":
        if self._loop is None or self._thread is None:
            coro.close()
            raise RuntimeError("FakeExchange is not running; call start() or use it as a context manager")
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("FakeExchange control methods cannot be called from the server's own loop")
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        return self._submit(coro).result(timeout=CALL_TIMEOUT_S)

    async def _acall(self, coro: Coroutine[Any, Any, T]) -> T:
        return await asyncio.wrap_future(self._submit(coro))
