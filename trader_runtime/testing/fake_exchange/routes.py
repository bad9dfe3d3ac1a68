"""Route table of the fake: each Binance endpoint mapped to a one-line call into the core, with its security type.

Paths are the ones python-binance 1.0.37 calls (versions included: balance v3, account v2, positionRisk v3, ticker
price v2) plus the neighbouring versions the runtime might pick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Awaitable, Callable, Literal

from aiohttp import web

from trader_runtime.testing.fake_exchange.api_errors import ApiError
from trader_runtime.testing.fake_exchange.params import required

if TYPE_CHECKING:
    from trader_runtime.testing.fake_exchange.core import ExchangeCore

P = dict[str, str]


# ------------------------------------------------------------------------------------------ general
async def ping(core: ExchangeCore, p: P) -> Any:
    return {}


async def server_time(core: ExchangeCore, p: P) -> Any:
    return {"serverTime": core.now_ms()}


async def exchange_info(core: ExchangeCore, p: P) -> Any:
    return core.market_data.exchange_info(core.now_ms())


# ------------------------------------------------------------------------------------------ market data
async def klines(core: ExchangeCore, p: P) -> Any:
    return core.market_data.klines(p)


async def ticker_price(core: ExchangeCore, p: P) -> Any:
    return core.market_data.ticker_price(p.get("symbol"), core.now_ms())


async def premium_index(core: ExchangeCore, p: P) -> Any:
    return core.market_data.premium_index(p.get("symbol"), core.now_ms())


async def funding_rate(core: ExchangeCore, p: P) -> Any:
    return core.market_data.funding_history(p)


async def open_interest(core: ExchangeCore, p: P) -> Any:
    return core.market_data.open_interest_now(required(p, "symbol"), core.now_ms())


async def open_interest_hist(core: ExchangeCore, p: P) -> Any:
    return core.market_data.open_interest_hist(p)


async def top_ls_account_ratio(core: ExchangeCore, p: P) -> Any:
    return core.market_data.ls_ratio(p, which="top")


async def global_ls_account_ratio(core: ExchangeCore, p: P) -> Any:
    return core.market_data.ls_ratio(p, which="global")


# ------------------------------------------------------------------------------------------ orders
async def new_order(core: ExchangeCore, p: P) -> Any:
    body, events = core.engine.place_order(p, core.now_ms())
    await core.deliver(events)
    return body


async def get_order(core: ExchangeCore, p: P) -> Any:
    return core.accounts.get_order(p)


async def cancel_order(core: ExchangeCore, p: P) -> Any:
    body, events = core.engine.cancel_order(p, core.now_ms())
    await core.deliver(events)
    return body


async def open_orders(core: ExchangeCore, p: P) -> Any:
    return core.accounts.open_orders(p.get("symbol"))


async def all_orders(core: ExchangeCore, p: P) -> Any:
    return core.accounts.all_orders(p)


async def cancel_all_orders(core: ExchangeCore, p: P) -> Any:
    await core.deliver(core.engine.cancel_all(required(p, "symbol"), core.now_ms()))
    return {"code": 200, "msg": "The operation of cancel all open order is done."}


async def new_algo_order(core: ExchangeCore, p: P) -> Any:
    body, events = core.engine.place_algo(p, core.now_ms())
    await core.deliver(events)
    return body


async def get_algo_order(core: ExchangeCore, p: P) -> Any:
    return core.accounts.get_algo(p)


async def cancel_algo_order(core: ExchangeCore, p: P) -> Any:
    body, events = core.engine.cancel_algo(p, core.now_ms())
    await core.deliver(events)
    return body


async def open_algo_orders(core: ExchangeCore, p: P) -> Any:
    return core.accounts.algo_orders(p.get("symbol"), open_only=True)


async def all_algo_orders(core: ExchangeCore, p: P) -> Any:
    return core.accounts.algo_orders(p.get("symbol"), open_only=False)


async def cancel_all_algo_orders(core: ExchangeCore, p: P) -> Any:
    await core.deliver(core.engine.cancel_all_algo(required(p, "symbol"), core.now_ms()))
    return {"code": 200, "msg": "The operation of cancel all open order is done."}


# ------------------------------------------------------------------------------------------ account
async def balance(core: ExchangeCore, p: P) -> Any:
    return core.accounts.balances(core.now_ms())


async def account_v2(core: ExchangeCore, p: P) -> Any:
    return core.accounts.account_info(core.now_ms(), version=2)


async def account_v3(core: ExchangeCore, p: P) -> Any:
    return core.accounts.account_info(core.now_ms(), version=3)


async def position_risk_v2(core: ExchangeCore, p: P) -> Any:
    return core.accounts.position_risk(p.get("symbol"), version=2)


async def position_risk_v3(core: ExchangeCore, p: P) -> Any:
    return core.accounts.position_risk(p.get("symbol"), version=3)


async def leverage(core: ExchangeCore, p: P) -> Any:
    return core.accounts.change_leverage(p)


async def margin_type(core: ExchangeCore, p: P) -> Any:
    return core.accounts.change_margin_type(p)


async def income(core: ExchangeCore, p: P) -> Any:
    return core.accounts.income(p)


async def position_mode(core: ExchangeCore, p: P) -> Any:
    return {"dualSidePosition": core.config.hedge_mode}


# ------------------------------------------------------------------------------------------ listen keys
async def listen_key_create(core: ExchangeCore, p: P) -> Any:
    return {"listenKey": core.listen_keys.create_or_extend()}


async def listen_key_keepalive(core: ExchangeCore, p: P) -> Any:
    key = required(p, "listenKey")
    if not core.listen_keys.keepalive(key):
        raise ApiError.of(-1125)
    return {"listenKey": key}


async def listen_key_close(core: ExchangeCore, p: P) -> Any:
    key = required(p, "listenKey")
    if not core.listen_keys.delete(key):
        raise ApiError.of(-1125)
    await core.hub.close_key(key)
    return {}


Security = Literal["NONE", "API_KEY", "SIGNED"]
Route = tuple[str, str, Callable[["ExchangeCore", P], Awaitable[Any]], Security]
ROUTES: list[Route] = [
    ("GET", "/fapi/v1/ping", ping, "NONE"),
    ("GET", "/fapi/v1/time", server_time, "NONE"),
    ("GET", "/api/v3/ping", ping, "NONE"),
    ("GET", "/api/v3/time", server_time, "NONE"),
    ("GET", "/fapi/v1/exchangeInfo", exchange_info, "NONE"),
    ("GET", "/fapi/v1/klines", klines, "NONE"),
    ("GET", "/fapi/v1/ticker/price", ticker_price, "NONE"),
    ("GET", "/fapi/v2/ticker/price", ticker_price, "NONE"),
    ("GET", "/fapi/v1/premiumIndex", premium_index, "NONE"),
    ("GET", "/fapi/v1/fundingRate", funding_rate, "NONE"),
    ("GET", "/fapi/v1/openInterest", open_interest, "NONE"),
    ("GET", "/futures/data/openInterestHist", open_interest_hist, "NONE"),
    ("GET", "/futures/data/topLongShortAccountRatio", top_ls_account_ratio, "NONE"),
    ("GET", "/futures/data/globalLongShortAccountRatio", global_ls_account_ratio, "NONE"),
    ("POST", "/fapi/v1/order", new_order, "SIGNED"),
    ("GET", "/fapi/v1/order", get_order, "SIGNED"),
    ("DELETE", "/fapi/v1/order", cancel_order, "SIGNED"),
    ("GET", "/fapi/v1/openOrders", open_orders, "SIGNED"),
    ("GET", "/fapi/v1/allOrders", all_orders, "SIGNED"),
    ("DELETE", "/fapi/v1/allOpenOrders", cancel_all_orders, "SIGNED"),
    ("POST", "/fapi/v1/algoOrder", new_algo_order, "SIGNED"),
    ("GET", "/fapi/v1/algoOrder", get_algo_order, "SIGNED"),
    ("DELETE", "/fapi/v1/algoOrder", cancel_algo_order, "SIGNED"),
    ("GET", "/fapi/v1/openAlgoOrders", open_algo_orders, "SIGNED"),
    ("GET", "/fapi/v1/allAlgoOrders", all_algo_orders, "SIGNED"),
    ("DELETE", "/fapi/v1/algoOpenOrders", cancel_all_algo_orders, "SIGNED"),
    ("GET", "/fapi/v2/balance", balance, "SIGNED"),
    ("GET", "/fapi/v3/balance", balance, "SIGNED"),
    ("GET", "/fapi/v2/account", account_v2, "SIGNED"),
    ("GET", "/fapi/v3/account", account_v3, "SIGNED"),
    ("GET", "/fapi/v2/positionRisk", position_risk_v2, "SIGNED"),
    ("GET", "/fapi/v3/positionRisk", position_risk_v3, "SIGNED"),
    ("POST", "/fapi/v1/leverage", leverage, "SIGNED"),
    ("POST", "/fapi/v1/marginType", margin_type, "SIGNED"),
    ("GET", "/fapi/v1/income", income, "SIGNED"),
    ("GET", "/fapi/v1/positionSide/dual", position_mode, "SIGNED"),
    ("POST", "/fapi/v1/listenKey", listen_key_create, "API_KEY"),
    ("PUT", "/fapi/v1/listenKey", listen_key_keepalive, "API_KEY"),
    ("DELETE", "/fapi/v1/listenKey", listen_key_close, "API_KEY"),
]


# ------------------------------------------------------------------------------------------ websockets
def _core(request: web.Request) -> ExchangeCore:
    from trader_runtime.testing.fake_exchange.core import CORE_KEY

    return request.app[CORE_KEY]


async def ws_single(request: web.Request) -> web.StreamResponse:
    """`/ws/<name>` and `/<category>/ws/<name>`: a listen key (user stream) or one raw market stream."""
    core = _core(request)
    name = request.match_info["name"]
    if "@" not in name and request.match_info.get("category", "private") == "private":
        return await core.hub.serve_user(request, name)
    return await core.hub.serve_market(request, [name], combined=False)


async def ws_root(request: web.Request) -> web.StreamResponse:
    """`/ws?listenKey=…` and `/private/ws?listenKey=…` (python-binance's futures user socket)."""
    key = request.query.get("listenKey")
    if not key:
        return web.json_response({"code": -1102, "msg": "Mandatory parameter 'listenKey' was not sent."}, status=400)
    return await _core(request).hub.serve_user(request, key)


async def ws_combined(request: web.Request) -> web.StreamResponse:
    """`/stream?streams=a/b` and `/<category>/stream?streams=…` (combined market streams)."""
    streams = request.query.get("streams", "").split("/")
    return await _core(request).hub.serve_market(request, streams, combined=True)


WS_ROUTES: list[tuple[str, Callable[[web.Request], Awaitable[web.StreamResponse]]]] = [
    ("/ws", ws_root),
    ("/ws/{name}", ws_single),
    ("/stream", ws_combined),
    ("/{category}/ws", ws_root),
    ("/{category}/ws/{name}", ws_single),
    ("/{category}/stream", ws_combined),
]
