"""Binance websocket streams: closed-candle feed (spec 30 §3, DEF-09/15) and the user-data stream (§6.2, INC-19).

MarketFeed — one combined kline stream for the traded symbols plus BTC/ETH. Only closed klines count (D14); a
repeated open time is dropped; a primary close waits briefly (`corr_wait_s`) for the BTC/ETH closes of the same
open time and fetches missing ones over REST, so features always align by time (DEF-15). OI change and the funding
rate are attached from REST (a failed call is NaN, and the previous OI is kept, INC-03). After every reconnect the
missed closed candles are fetched over REST before new ones are emitted (DEF-09); each reconnect uses a fresh client
after a fixed delay. A socket that stays open but silent for `stale_s` is replaced the same way (last-message age).

UserStream — a fresh AsyncClient, listen key and socket on every (re)connect (INC-19). The listen key is kept alive
every `keepalive_s`; a failed keep-alive, an error marker or `listenKeyExpired` forces a reconnect, and every
reconnect is announced (`StreamReconnected`) so the bots reconcile at once. Cancellation propagates (INC-05) and the
client is always closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from binance import AsyncClient

from trader_runtime.domain.schema import BAR_MS
from trader_runtime.exchange.binance import parsing
from trader_runtime.exchange.binance.errors import call
from trader_runtime.exchange.port import CandleClosed, EventSink, ExchangeEvent, StreamReconnected

logger = logging.getLogger(__name__)

ClientFactory = Callable[[], Awaitable[AsyncClient]]
SocketFactory = Callable[[AsyncClient], Any]
CORR_SUFFIX = {"BTCUSDT": "_btc", "ETHUSDT": "_eth"}
KEEP_CLOSED = 32


#: python-binance's read loop notices a stop only between receives; its default 10 s receive timeout would make a
#: cancelled stream linger that long (INC-05 wants it gone at once). A quiet receive just loops, it never reconnects.
READ_TIMEOUT_S = 0.5


def quick_exit(socket: Any) -> Any:
    """No reconnects inside python-binance (a reused connection is what went silent in INC-19): a dropped socket
    ends with an error marker and our loop reconnects with a fresh client; and stops are noticed within 0.5 s."""
    socket.TIMEOUT = READ_TIMEOUT_S
    socket.MAX_RECONNECTS = 0
    return socket


class MarketFeed:
    def __init__(self, new_client: ClientFactory, sockets: SocketFactory, symbols: list[str], corr_symbols: list[str], *,
                 corr_wait_s: float = 3.0, reconnect_delay_s: float = 5.0, stale_s: float = 60.0,
                 now_ms: Callable[[], int]) -> None:  # fmt: skip
        self.new_client = new_client
        self.stale_s = stale_s  # kline updates arrive several times a second; this long without one = a dead socket
        self.sockets = sockets
        self.symbols = list(symbols)
        self.corr = [c for c in corr_symbols if c in CORR_SUFFIX]
        self.corr_wait_s = corr_wait_s
        self.reconnect_delay_s = reconnect_delay_s
        self.now_ms = now_ms
        self.closed: dict[str, dict[int, dict[str, float]]] = {}
        self.last_emitted: dict[str, int] = {}
        self.prev_oi: dict[str, float] = {}
        self.connects = 0
        self.on_candle: Callable[[CandleClosed], Awaitable[list[ExchangeEvent]]] | None = None  # paper venue hook
        self._arrived = asyncio.Condition()
        self._client: AsyncClient | None = None
        self._locks: dict[str, asyncio.Lock] = {}
        self._pending: set[asyncio.Task[None]] = set()

    def mark_seeded(self, now_ms: int) -> None:
        """The bots' history ends with the candle closed before `now_ms`; any later close comes from this feed —
        through the socket, or the backfill when it closed before the first connection was up."""
        for symbol in self.symbols:
            self.last_emitted.setdefault(symbol, (now_ms // BAR_MS) * BAR_MS - BAR_MS)

    @property
    def streams(self) -> list[str]:
        return [f"{s.lower()}@kline_15m" for s in dict.fromkeys(self.symbols + self.corr)]

    async def run(self, sink: EventSink) -> None:
        while True:
            client: AsyncClient | None = None
            try:
                client = await self.new_client()
                self._client = client
                socket = quick_exit(self.sockets(client).futures_multiplex_socket(self.streams))
                async with socket as stream:
                    self.connects += 1
                    if self.connects > 1:
                        logger.info("market stream reconnected; backfilling missed candles")
                    if self.last_emitted:  # closed while no socket listened: an outage, or start-up (DEF-09)
                        await self._backfill(sink)
                    if self.connects > 1:
                        await sink.deliver(StreamReconnected("market", self.now_ms()))
                    while True:
                        try:
                            msg = await asyncio.wait_for(stream.recv(), self.stale_s)
                        except asyncio.TimeoutError:  # open but silent: replace it (the missed candles are backfilled)
                            logger.warning("market stream silent for %.0f s; reconnecting", self.stale_s)
                            break
                        if isinstance(msg, dict) and msg.get("e") == "error":
                            logger.warning("market stream error marker: %s; reconnecting", msg.get("m"))
                            break
                        await self._on_message(msg, sink)
            except asyncio.CancelledError:
                for task in list(self._pending):
                    task.cancel()
                raise
            except Exception as exc:  # noqa: BLE001 - reconnect after any stream failure (INC-16, DEF-10)
                logger.warning("market stream failed: %s; reconnecting in %.0f s", exc, self.reconnect_delay_s)
            finally:
                if self._pending:  # candles in flight finish with this client before it closes
                    await asyncio.gather(*list(self._pending), return_exceptions=True)
                self._client = None
                if client is not None:
                    await client.close_connection()
            await asyncio.sleep(self.reconnect_delay_s)

    async def _on_message(self, msg: Any, sink: EventSink) -> None:
        parsed = parsing.kline(msg) if isinstance(msg, dict) else None
        if parsed is None:
            return
        symbol, open_ms, values, closed = parsed
        if not closed:
            return
        book = self.closed.setdefault(symbol, {})
        book[open_ms] = values
        for old in sorted(book)[:-KEEP_CLOSED]:
            del book[old]
        async with self._arrived:
            self._arrived.notify_all()
        if symbol in self.symbols:
            # never block the reader: the BTC/ETH closes this candle waits for are behind it in the same stream
            task = asyncio.create_task(self._emit(symbol, open_ms, sink))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _emit(self, symbol: str, open_ms: int, sink: EventSink) -> None:
        async with self._locks.setdefault(symbol, asyncio.Lock()):  # one symbol's candles stay in order
            await self._emit_locked(symbol, open_ms, sink)

    async def _emit_locked(self, symbol: str, open_ms: int, sink: EventSink) -> None:
        if open_ms <= self.last_emitted.get(symbol, -1):
            return  # duplicate or stale close (DEF-09)
        self.last_emitted[symbol] = open_ms
        values = dict(self.closed[symbol][open_ms])
        for corr in self.corr:
            if corr == symbol:
                continue
            row = await self._corr_row(corr, open_ms)
            suffix = CORR_SUFFIX[corr]
            for k in ("open", "high", "low", "close", "volume"):
                values[f"{k}{suffix}"] = float("nan") if row is None else row[k]
        values.update(await self._oi_funding(symbol))
        event = CandleClosed(symbol, open_ms, values)
        if self.on_candle is not None:
            for ev in await self.on_candle(event):
                await sink.deliver(ev)
        await sink.deliver(event)

    async def _corr_row(self, corr: str, open_ms: int) -> dict[str, float] | None:
        """The correlation candle with the same open time: wait for its close, else fetch it (DEF-15)."""
        try:
            async with self._arrived:
                await asyncio.wait_for(self._arrived.wait_for(lambda: open_ms in self.closed.get(corr, {})), self.corr_wait_s)
        except asyncio.TimeoutError:
            pass
        if open_ms in self.closed.get(corr, {}):
            return self.closed[corr][open_ms]
        fetched = await self._rest_klines(corr, open_ms, 1)
        return fetched.get(open_ms)

    async def _rest_klines(self, symbol: str, start_ms: int, limit: int) -> dict[int, dict[str, float]]:
        if self._client is None:
            return {}
        client = self._client
        try:
            rows = await call(lambda: client.futures_klines(symbol=symbol, interval="15m", startTime=int(start_ms), limit=limit),
                              f"{symbol} klines")  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - a missing correlation candle is NaN, not a stopped bot
            logger.warning("%s: REST klines failed: %s", symbol, exc)
            return {}
        now = self.now_ms()
        out = {}
        for r in rows:
            if int(r[6]) < now and int(r[0]) + BAR_MS <= now:
                out[int(r[0])] = {"open": float(r[1]), "high": float(r[2]), "low": float(r[3]), "close": float(r[4]), "volume": float(r[5])}
        self.closed.setdefault(symbol, {}).update(out)
        return out

    async def _oi_funding(self, symbol: str) -> dict[str, float]:
        out = {"oi_change": float("nan"), "funding_rate": float("nan")}
        client = self._client
        if client is None:
            return out
        try:
            oi = float((await call(lambda: client.futures_open_interest(symbol=symbol), f"{symbol} OI", attempts=1))["openInterest"])
            prev = self.prev_oi.get(symbol)
            if oi > 0:  # a failed or zero reading never replaces the previous value (INC-03)
                if prev:
                    out["oi_change"] = (oi - prev) / prev
                self.prev_oi[symbol] = oi
        except Exception as exc:  # noqa: BLE001 - optional feature input
            logger.debug("%s OI unavailable: %s", symbol, exc)
        try:
            mark = await call(lambda: client.futures_mark_price(symbol=symbol), f"{symbol} funding", attempts=1)
            out["funding_rate"] = float(mark["lastFundingRate"])
        except Exception as exc:  # noqa: BLE001 - optional feature input
            logger.debug("%s funding unavailable: %s", symbol, exc)
        return out

    async def _backfill(self, sink: EventSink) -> None:
        """Closed candles missed while disconnected, in order, before any new one (DEF-09)."""
        for symbol in self.symbols:
            last = self.last_emitted.get(symbol)
            if last is None:
                continue
            for sym in [symbol] + [c for c in self.corr if c != symbol]:
                await self._rest_klines(sym, last + BAR_MS, 99)
            for open_ms in sorted(t for t in self.closed.get(symbol, {}) if t > last):
                await self._emit(symbol, open_ms, sink)  # in order, before the new stream's candles


class UserStream:
    def __init__(self, new_client: ClientFactory, sockets: SocketFactory, *, reconnect_delay_s: float = 5.0,
                 keepalive_s: float = 1800.0, now_ms: Callable[[], int]) -> None:  # fmt: skip
        self.new_client = new_client
        self.sockets = sockets
        self.reconnect_delay_s = reconnect_delay_s
        self.keepalive_s = keepalive_s
        self.now_ms = now_ms
        self.connects = 0
        self.listen_keys: list[str] = []

    async def run(self, sink: EventSink, on_event: Callable[[ExchangeEvent], None]) -> None:
        while True:
            client: AsyncClient | None = None
            keepalive: asyncio.Task[None] | None = None
            try:
                client = await self.new_client()  # a fresh client and listen key every time (INC-19)
                key = await call(lambda: client.futures_stream_get_listen_key(), "listen key")
                self.listen_keys.append(key)
                socket = quick_exit(self.sockets(client).futures_user_socket())
                async with socket as stream:
                    self.connects += 1
                    if self.connects > 1:
                        await sink.deliver(StreamReconnected("user", self.now_ms()))
                    keepalive = asyncio.create_task(self._keepalive(client, key))
                    await self._read(stream, keepalive, sink, on_event)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - reconnect after any failure (DEF-10)
                logger.warning("user stream failed: %s; reconnecting in %.0f s", exc, self.reconnect_delay_s)
            finally:
                if keepalive is not None:
                    keepalive.cancel()
                if client is not None:
                    await client.close_connection()
            await asyncio.sleep(self.reconnect_delay_s)

    async def _read(self, stream: Any, keepalive: asyncio.Task[None], sink: EventSink,
                    on_event: Callable[[ExchangeEvent], None]) -> None:  # fmt: skip
        recv: asyncio.Future[Any] | None = None
        try:
            while True:
                recv = asyncio.ensure_future(stream.recv())
                done, _ = await asyncio.wait({recv, keepalive}, return_when=asyncio.FIRST_COMPLETED)
                if keepalive in done:
                    raise RuntimeError(f"listen-key keep-alive failed: {keepalive.exception()}")
                msg = recv.result()
                if not await self._handle(msg, sink, on_event):
                    return
        finally:
            if recv is not None and not recv.done():
                recv.cancel()
                with contextlib.suppress(BaseException):
                    await recv

    async def _handle(self, msg: Any, sink: EventSink, on_event: Callable[[ExchangeEvent], None]) -> bool:
        """Deliver one message's events; False when the connection must be replaced."""
        if not isinstance(msg, dict):
            return True
        kind = msg.get("e")
        if kind == "error":
            logger.warning("user stream error marker: %s; reconnecting", msg.get("m"))
            return False
        if kind == "listenKeyExpired":
            logger.warning("listen key expired; reconnecting with a new one")
            return False
        for ev in parsing.user_events(msg):
            on_event(ev)
            await sink.deliver(ev)
        return True

    async def _keepalive(self, client: AsyncClient, key: str) -> None:
        """Extend the listen key; any failure ends this task, which forces a reconnect (INC-19)."""
        while True:
            await asyncio.sleep(self.keepalive_s)
            await call(lambda: client.futures_stream_keepalive(key), "listen-key keep-alive", attempts=2)
