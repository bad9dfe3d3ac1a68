"""Point the real python-binance clients at a fake exchange by overriding their endpoint attributes.

python-binance 1.0.37 builds every URL from instance attributes, choosing by its `testnet`/`demo` flags:
    REST futures   FUTURES_URL / FUTURES_TESTNET_URL / FUTURES_DEMO_URL          + "/v1|v2|v3/<path>"
    futures data   FUTURES_DATA_URL / FUTURES_DATA_TESTNET_URL                   + "/<path>"   (openInterestHist, L/S)
    spot REST      API_URL / API_TESTNET_URL / API_DEMO_URL                      (ping/time of AsyncClient.create)
    streams        BinanceSocketManager.FSTREAM_URL / _TESTNET_ / _DEMO_         + "market/stream?streams=…",
                                                                                   "private/ws?listenKey=…"
Conditional orders: `futures_create_order(type=STOP_MARKET|TAKE_PROFIT_MARKET…)` is routed by the library to
`POST /fapi/v1/algoOrder` (algoType=CONDITIONAL, clientAlgoId, stopPrice→triggerPrice); `futures_create_algo_order`,
`futures_cancel_algo_order`, `futures_cancel_all_algo_open_orders`, `futures_get_open_algo_orders` call the algo
endpoints directly. All of them, in every flag combination, land on the fake after `point_client_at`.

The function takes plain base URLs (`rest_base`, `ws_base`) so a production adapter can apply the same override
from its own settings; nothing here depends on the fake beyond its two URLs.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from binance import AsyncClient, Client
from binance.ws.streams import BinanceSocketManager

_REST_ATTRS = {
    "API_URL": "/api", "API_TESTNET_URL": "/api", "API_DEMO_URL": "/api",
    "FUTURES_URL": "/fapi", "FUTURES_TESTNET_URL": "/fapi", "FUTURES_DEMO_URL": "/fapi",
    "FUTURES_DATA_URL": "/futures/data", "FUTURES_DATA_TESTNET_URL": "/futures/data",
    # not served by the fake; pointed at it anyway so a stray call fails locally instead of leaving the machine
    "MARGIN_API_URL": "/sapi", "WEBSITE_URL": "/website", "FUTURES_COIN_URL": "/dapi", "FUTURES_COIN_TESTNET_URL": "/dapi",
    "FUTURES_COIN_DEMO_URL": "/dapi", "FUTURES_COIN_DATA_URL": "/futures/data", "FUTURES_COIN_DATA_TESTNET_URL": "/futures/data",
    "OPTIONS_URL": "/eapi", "OPTIONS_TESTNET_URL": "/eapi", "PAPI_URL": "/papi",
}
_STREAM_ATTRS = ("STREAM_URL", "STREAM_TESTNET_URL", "STREAM_DEMO_URL", "FSTREAM_URL", "FSTREAM_TESTNET_URL",
                 "FSTREAM_DEMO_URL", "DSTREAM_URL", "DSTREAM_TESTNET_URL", "DSTREAM_DEMO_URL")


class Endpoints(Protocol):
    """Anything with the two base URLs (a `FakeExchange`, or a settings object)."""

    @property
    def rest_url(self) -> str: ...

    @property
    def ws_url(self) -> str: ...


def point_client_at(client: Client | AsyncClient, endpoints: Endpoints) -> Client | AsyncClient:
    """Override every REST base URL of `client` (sync or async) so all its calls go to `endpoints`."""
    rest = endpoints.rest_url.rstrip("/")
    ws = endpoints.ws_url.rstrip("/")
    for attr, suffix in _REST_ATTRS.items():
        setattr(client, attr, rest + suffix)
    # websocket trading APIs (ws-api / ws-fapi) are not served: aim them at a local path that answers 404
    for api in (getattr(client, "ws_api", None), getattr(client, "ws_future", None)):
        if api is not None:
            api._url = ws + "/ws-api-not-served"
    return client


def client_for(endpoints: Endpoints, api_key: str | None = None, api_secret: str | None = None, *,
               demo: bool = False, timeout_s: float | None = None) -> Client:
    """A synchronous `Client` talking to the fake (no network access during construction: ping is skipped)."""
    client = Client(api_key or getattr(endpoints, "api_key", None), api_secret or getattr(endpoints, "api_secret", None),
                    demo=demo, ping=False, requests_params={"timeout": timeout_s} if timeout_s else None)
    point_client_at(client, endpoints)
    return client


async def async_client_for(endpoints: Endpoints, api_key: str | None = None, api_secret: str | None = None, *,
                           demo: bool = False, timeout_s: float | None = None) -> AsyncClient:
    """An `AsyncClient` talking to the fake, initialised like `AsyncClient.create` (ping + server-time offset)."""
    client = AsyncClient(api_key or getattr(endpoints, "api_key", None), api_secret or getattr(endpoints, "api_secret", None),
                         demo=demo, requests_params={"timeout": timeout_s} if timeout_s else None)
    point_client_at(client, endpoints)
    try:
        await client.futures_ping()
        server = await client.futures_time()
        client.timestamp_offset = int(server["serverTime"]) - _now_ms()
    except BaseException:
        await client.close_connection()
        raise
    return client


def socket_manager_for(client: AsyncClient, endpoints: Endpoints, **kwargs: Any) -> BinanceSocketManager:
    """A `BinanceSocketManager` whose market and user streams connect to the fake (kwargs go to its constructor)."""
    manager = BinanceSocketManager(client, **kwargs)
    for attr in _STREAM_ATTRS:
        setattr(manager, attr, endpoints.ws_url)
    return manager


def _now_ms() -> int:
    return int(time.time() * 1000)
