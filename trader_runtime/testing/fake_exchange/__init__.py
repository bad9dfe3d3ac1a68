"""A local fake Binance USD-M futures exchange for proving the trader's live path with the real python-binance client.

Why: the demo/live adapter must be tested against the library it ships with (request signing, URL routing, the
algo-order switch of 2025-12, websocket reconnects), not against mocks of our own code. The fake speaks enough of
Binance's REST and websocket API on 127.0.0.1 for that adapter to run unmodified, and it can misbehave on cue.

What it serves (payloads field-for-field as Binance sends them; prices and quantities as strings):
    market data   exchangeInfo (precision + PRICE_FILTER/LOT_SIZE/MIN_NOTIONAL), klines, ticker price, premiumIndex,
                  fundingRate, openInterest, /futures/data/openInterestHist, top/global long-short account ratios
    account       balance (v2/v3), account (v2/v3), positionRisk (v2/v3), leverage, marginType (-4046/-4047/-4048),
                  income, positionSide/dual, listenKey create/keepalive/close (-1125 when gone)
    orders        MARKET on /fapi/v1/order (reduce-only, ACK or RESULT answers; STOP*/TAKE_PROFIT* refused with
                  -4120 as Binance now does), conditional STOP_MARKET/TAKE_PROFIT_MARKET on /fapi/v1/algoOrder
                  (the path python-binance routes them to), open/all/cancel/cancel-all for both kinds
    streams       combined and raw kline streams; user stream with ORDER_TRADE_UPDATE (spec 30 §6.3 fields),
                  ACCOUNT_UPDATE, ALGO_UPDATE, listenKeyExpired
    checks        X-MBX-APIKEY (-2014/-2015), timestamp + HMAC-SHA256 signature (-1022), precision (-1111),
                  tick (-4014), notional (-4164), margin (-2019), reduce-only (-2022), would-trigger (-2021)

Replay: prices come from a combined-15m frame (`open/high/low/close/volume`, optional `*_btc`/`*_eth` columns for
BTCUSDT/ETHUSDT, optional `oi_change`/`funding_rate`). `advance()` closes the forming candle: conditional orders
whose trigger the candle crossed fill at the trigger price (stops first), the user events go out, then the closed
kline (and the next forming kline) is published. Market orders fill at the last close ± `slippage_bps`. Venue
flavour (`LIVE` or `DEMO`, spec 30 §5.6) decides how algo orders look to the client.

Faults: `fx.faults.add(FaultRule(...))` — ordered, counted rules at the http / fill / user_event / market_event /
advance hooks (HttpError with Retry-After, Delay for timeouts, PartialFill, Duplicate, Reorder, DropEvent,
EditEvent, DropConnection, Silence, ExpireListenKey); `fx.inject(action)` applies a stream fault at once.

Usage::

    from trader_runtime.testing.fake_exchange import FakeExchange, FaultRule, HttpError, client_for

    with FakeExchange(frame, symbol="XRPUSDT") as fx:
        client = client_for(fx)
        fx.faults.add(FaultRule(method="POST", path="/fapi/v1/order", error=HttpError(429, -1003, retry_after=1)))
        ...
        fx.advance()

Async code uses `async_client_for(fx)` and `socket_manager_for(client, fx)`, and `await fx.aadvance()`.
"""

from trader_runtime.testing.fake_exchange.api_errors import BINANCE_ERRORS, ApiError
from trader_runtime.testing.fake_exchange.client_wiring import async_client_for, client_for, point_client_at, socket_manager_for
from trader_runtime.testing.fake_exchange.config import DEMO, LIVE, FakeExchangeConfig, VenueBehaviour
from trader_runtime.testing.fake_exchange.faults import (Delay, DropConnection, DropEvent, Duplicate, EditEvent,
                                                         ExpireListenKey, FaultBook, FaultCount, FaultRule, HttpError,
                                                         PartialFill, Reorder, Silence, binance_error, ip_banned,
                                                         order_rejected, rate_limited, server_error)
from trader_runtime.testing.fake_exchange.market import ReplayExhausted
from trader_runtime.testing.fake_exchange.server import ExchangeSnapshot, FakeExchange, PositionView
from trader_runtime.testing.fake_exchange.symbols import DEFAULT_SYMBOL_SPECS, SymbolSpec

__all__ = [
    "ApiError", "BINANCE_ERRORS", "DEFAULT_SYMBOL_SPECS", "DEMO", "Delay", "DropConnection", "DropEvent", "Duplicate",
    "EditEvent", "ExchangeSnapshot", "ExpireListenKey", "FakeExchange", "FakeExchangeConfig", "FaultBook", "FaultCount",
    "FaultRule", "HttpError", "LIVE", "PartialFill", "PositionView", "Reorder", "ReplayExhausted", "Silence",
    "SymbolSpec", "VenueBehaviour", "async_client_for", "binance_error", "client_for", "ip_banned", "order_rejected",
    "point_client_at", "rate_limited", "server_error", "socket_manager_for",
]
