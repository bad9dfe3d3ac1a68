"""`demo` and `live` modes (D4): the exchange port over python-binance's AsyncClient and its futures streams.

Demo and live differ only in settings (keys, the `demo` flag, venue quirks handled uniformly: SL/TP always go to
the algo-order endpoint, INC-22/23). Every base URL can be overridden (`rest_url`, `ws_url`) so the same adapter
runs against a local test exchange or a scenario/soak harness. Keys are registered as secrets, kept out of
`repr`, and never logged. Exchange time: the server clock (offset measured at start and on every new client).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from binance import AsyncClient
from binance.ws.streams import BinanceSocketManager

from trader_runtime.errors import ConfigError, DataError
from trader_runtime.exchange.binance import market_parsing, parsing
from trader_runtime.exchange.binance.errors import call
from trader_runtime.exchange.binance.orders import BinanceOrders
from trader_runtime.exchange.binance.streams import MarketFeed, UserStream
from trader_runtime.exchange.port import EventSink, ExchangePosition, Fill, IncomeRow, OpenOrder, OrderResult, OrderSide, ProtectiveOrder, Purpose, SymbolRules
from trader_runtime.logs import register_secret

logger = logging.getLogger(__name__)

INFO_TTL_S = 86_400.0  # exchange-info cache with stale fallback (INC-09)
_REST_ATTRS = {
    "API_URL": "/api", "API_TESTNET_URL": "/api", "API_DEMO_URL": "/api",
    "FUTURES_URL": "/fapi", "FUTURES_TESTNET_URL": "/fapi", "FUTURES_DEMO_URL": "/fapi",
    "FUTURES_DATA_URL": "/futures/data", "FUTURES_DATA_TESTNET_URL": "/futures/data",
}  # fmt: skip
_STREAM_ATTRS = ("FSTREAM_URL", "FSTREAM_TESTNET_URL", "FSTREAM_DEMO_URL")


@dataclass(frozen=True)
class BinanceEndpoints:
    """Where and as whom to connect. Keys are empty for public market data (paper mode)."""

    demo: bool = False
    rest_url: str | None = None
    ws_url: str | None = None
    api_key: str = field(default="", repr=False)
    api_secret: str = field(default="", repr=False)
    timeout_s: float = 10.0

    def __post_init__(self) -> None:
        register_secret(self.api_key)
        register_secret(self.api_secret)


async def new_client(ep: BinanceEndpoints) -> AsyncClient:
    """A fresh AsyncClient aimed at `ep`, with the server-time offset measured (no network in the constructor)."""
    client = AsyncClient(ep.api_key or None, ep.api_secret or None, demo=ep.demo, requests_params={"timeout": ep.timeout_s})
    if ep.rest_url:
        base = ep.rest_url.rstrip("/")
        for attr, suffix in _REST_ATTRS.items():
            setattr(client, attr, base + suffix)
    try:
        server = await call(lambda: client.futures_time(), "server time", attempts=3)
        client.timestamp_offset = int(server["serverTime"]) - int(time.time() * 1000)
    except BaseException:
        await client.close_connection()
        raise
    return client


def socket_manager(client: AsyncClient, ep: BinanceEndpoints) -> BinanceSocketManager:
    bsm = BinanceSocketManager(client)
    if ep.ws_url:
        url = ep.ws_url if ep.ws_url.endswith("/") else ep.ws_url + "/"
        for attr in _STREAM_ATTRS:
            setattr(bsm, attr, url)
    return bsm


class BinanceExchange:
    """The port on Binance USD-M futures (demo or live)."""

    def __init__(self, mode: str, ep: BinanceEndpoints, symbols: list[str], corr_symbols: list[str], *,
                 order_wait_s: float = 10.0, corr_wait_s: float = 3.0, reconnect_delay_s: float = 5.0,
                 keepalive_s: float = 1800.0, market_stale_s: float = 60.0, filled_wait_s: float = 1.0) -> None:  # fmt: skip
        self.mode = mode
        self.ep = ep
        self.symbols = symbols
        self.corr_symbols = corr_symbols
        self.client: AsyncClient | None = None
        self._offset_ms = 0
        self._info: dict[str, Any] | None = None
        self._info_at = 0.0
        self.orders = BinanceOrders(self._client, order_wait_s=order_wait_s, filled_wait_s=filled_wait_s)
        self.feed = MarketFeed(self._fresh_client, lambda c: socket_manager(c, ep), symbols, corr_symbols,
                               corr_wait_s=corr_wait_s, reconnect_delay_s=reconnect_delay_s, stale_s=market_stale_s,
                               now_ms=self.now_ms)  # fmt: skip
        self.user = UserStream(self._fresh_client, lambda c: socket_manager(c, ep), reconnect_delay_s=reconnect_delay_s,
                               keepalive_s=keepalive_s, now_ms=self.now_ms)  # fmt: skip

    def __repr__(self) -> str:
        return f"BinanceExchange(mode={self.mode!r}, symbols={self.symbols})"

    async def _fresh_client(self) -> AsyncClient:
        """A new client for a (re)connecting stream; its clock measurement refreshes the exchange time."""
        client = await new_client(self.ep)
        self._offset_ms = int(client.timestamp_offset)
        return client

    def _client(self) -> AsyncClient:
        if self.client is None:
            raise ConfigError("the Binance adapter is not started")
        return self.client

    # ------------------------------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        if self.mode == "live" and not (self.ep.api_key and self.ep.api_secret):
            raise ConfigError("live mode needs BINANCE_API_KEY and BINANCE_API_SECRET")
        if self.mode == "demo" and not (self.ep.api_key and self.ep.api_secret):
            raise ConfigError("demo mode needs BINANCE_DEMO_API_KEY and BINANCE_DEMO_API_SECRET")
        self.client = await new_client(self.ep)
        self._offset_ms = int(self.client.timestamp_offset)
        self.feed.mark_seeded(self.now_ms())  # history is read after this instant; later closes come from the feed
        await self._exchange_info()
        logger.info("%s exchange connected (%s)", self.mode.upper(), self.ep.rest_url or ("demo" if self.ep.demo else "production"))

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close_connection()
            self.client = None

    def now_ms(self) -> int:
        return int(time.time() * 1000) + self._offset_ms

    async def run(self, sink: EventSink) -> None:
        import asyncio

        streams = [asyncio.create_task(self.feed.run(sink), name="market-stream"),
                   asyncio.create_task(self.user.run(sink, self.orders.on_event), name="user-stream")]  # fmt: skip
        try:
            await asyncio.gather(*streams)
        finally:
            # a cancelled gather returns as soon as one stream has ended; wait for the other one to close its socket
            # too, without cancelling it a second time mid-close (which would leave the socket open, INC-05)
            for task in streams:
                if not task.done() and not task.cancelling():
                    task.cancel()
            await asyncio.gather(*streams, return_exceptions=True)

    # ------------------------------------------------------------------------------------------ market data
    async def _exchange_info(self) -> dict[str, Any]:
        if self._info is None or time.monotonic() - self._info_at > INFO_TTL_S:
            try:
                self._info = await call(lambda: self._client().futures_exchange_info(), "exchange info")
                self._info_at = time.monotonic()
            except Exception:
                if self._info is None:
                    raise
                logger.warning("exchange info refresh failed; using the cached copy")
        return self._info

    async def history(self, symbol: str, n: int) -> pd.DataFrame:
        return await fetch_history(self._client(), symbol, self.corr_symbols, n, self.now_ms())

    async def symbol_rules(self, symbol: str) -> SymbolRules:
        rules = parsing.symbol_rules(await self._exchange_info(), symbol)
        self.orders.rules[symbol] = rules
        return rules

    async def one_way_mode(self) -> bool:
        res = await call(lambda: self._client().futures_get_position_mode(), "position mode")
        return not bool(res.get("dualSidePosition"))

    async def balance(self) -> float:
        rows = await call(lambda: self._client().futures_account_balance(), "balance")
        return parsing.usdt_balance(rows)

    # ------------------------------------------------------------------------------------------ orders
    async def prepare_symbol(self, symbol: str, leverage: int) -> None:
        await self.orders.prepare(symbol, leverage)

    async def market_order(self, symbol: str, side: OrderSide, quantity: float, *, reduce_only: bool, client_id: str) -> OrderResult:
        return await self.orders.market(symbol, side, quantity, reduce_only=reduce_only, client_id=client_id)

    async def place_protective(self, symbol: str, purpose: Purpose, side: OrderSide, quantity: float, trigger_price: float,
                               client_id: str) -> ProtectiveOrder:
        return await self.orders.protective(symbol, purpose, side, quantity, trigger_price, client_id)

    async def cancel_order(self, symbol: str, order_id: str, *, is_algo: bool) -> bool:
        return await self.orders.cancel(symbol, order_id, is_algo=is_algo)

    async def open_orders(self, symbol: str) -> list[OpenOrder]:
        return await self.orders.open_orders(symbol)

    async def position(self, symbol: str) -> ExchangePosition | None:
        rows = await call(lambda: self._client().futures_position_information(symbol=symbol), f"{symbol} position")
        return parsing.position(rows, symbol)

    async def fills_since(self, symbol: str, start_ms: int) -> list[Fill]:
        return await self.orders.fills_since(symbol, start_ms)

    async def lookup_order(self, symbol: str, client_id: str) -> OrderResult | None:
        return await self.orders.lookup(symbol, client_id)

    async def income_since(self, symbol: str, start_ms: int) -> list[IncomeRow]:
        return await self.orders.income_since(symbol, start_ms)


async def fetch_history(client: AsyncClient, symbol: str, corr_symbols: list[str], n: int, now_ms: int) -> pd.DataFrame:
    """The newest `n` closed candles in the combined schema: klines of the symbol and BTC/ETH joined by open time,
    OI change from `openInterestHist` and the last settled funding rate (market_parsing does the alignment)."""
    now = pd.Timestamp(now_ms, unit="ms", tz="UTC")
    async def klines(sym: str) -> pd.DataFrame:
        # newest first, 1,500 per request (the endpoint's maximum), walking back until `n` (+ the forming candle)
        rows: list = []
        end: int | None = None
        while len(rows) < n + 2:
            limit = min(1500, n + 2 - len(rows))
            kw = {"symbol": sym, "interval": "15m", "limit": limit, **({"endTime": end} if end is not None else {})}
            page = await call(lambda: client.futures_klines(**kw), f"{sym} klines")
            if not page:
                break
            rows = list(page) + rows
            if len(page) < limit:
                break
            end = int(page[0][0]) - 1
        return market_parsing.parse_klines(rows, now, sym)

    frame = await klines(symbol)
    if frame.empty:
        raise DataError(f"{symbol}: the exchange returned no closed 15m candles")
    for corr, suffix in (("BTCUSDT", "_btc"), ("ETHUSDT", "_eth")):
        if corr in corr_symbols and corr != symbol:
            other = await klines(corr)
            frame = frame.join(other.add_suffix(suffix), how="left")
    try:
        oi = market_parsing.parse_open_interest(
            await call(lambda: client.futures_open_interest_hist(symbol=symbol, period="15m", limit=500), f"{symbol} OI"), symbol
        )
        frame["oi_change"] = market_parsing.oi_change_for_candles(frame.index, oi).to_numpy()
    except Exception as exc:  # noqa: BLE001 - OI is an optional feature input (NaN = unknown)
        logger.warning("%s: open-interest history unavailable (%s); OI features start empty", symbol, exc)
    try:
        funding = market_parsing.parse_funding(
            await call(lambda: client.futures_funding_rate(symbol=symbol, limit=200), f"{symbol} funding"), symbol
        )
        frame["funding_rate"] = market_parsing.funding_for_candles(frame.index, funding).to_numpy()
    except Exception as exc:  # noqa: BLE001 - optional feature input
        logger.warning("%s: funding history unavailable (%s)", symbol, exc)
    return frame.iloc[-n:]


def endpoints_for(ctx: Any, *, public: bool = False) -> BinanceEndpoints:
    s = ctx.settings
    demo = s.mode == "demo"
    if public:
        return BinanceEndpoints(False, ctx.rest_url, ctx.ws_url)
    key = (s.binance_demo_api_key if demo else s.binance_api_key).get_secret_value()
    secret = (s.binance_demo_api_secret if demo else s.binance_api_secret).get_secret_value()
    return BinanceEndpoints(demo, ctx.rest_url, ctx.ws_url, key, secret)


def build_binance(ctx: Any) -> BinanceExchange:
    corr = [c.strip() for c in ctx.settings.correlation_symbols.split(",") if c.strip()]
    return BinanceExchange(ctx.settings.mode, endpoints_for(ctx), ctx.symbols, corr)
