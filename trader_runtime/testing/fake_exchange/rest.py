"""The fake's HTTP front: request parsing, HTTP faults, API-key and HMAC checks, error bodies, route table.

Authentication follows Binance: `X-MBX-APIKEY` must name the configured key (-2015), signed endpoints need
`timestamp` (-1102) and a `signature` equal to HMAC-SHA256(secret, totalParams) where totalParams is the raw query
string followed by the raw body without the signature pair (-1022).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qsl

from aiohttp import web

from trader_runtime.testing.fake_exchange.api_errors import ApiError
from trader_runtime.testing.fake_exchange.core import CORE_KEY, ExchangeCore
from trader_runtime.testing.fake_exchange.faults import Delay, HttpError
from trader_runtime.testing.fake_exchange.routes import ROUTES, WS_ROUTES, Security

Handler = Callable[[ExchangeCore, dict[str, str]], Awaitable[Any]]


class _WeightCounter:
    """Requests in the current wall-clock minute, reported like Binance's `X-MBX-USED-WEIGHT-1M` (weight 1 each)."""

    def __init__(self) -> None:
        self.minute, self.count = -1, 0

    def bump(self) -> int:
        minute = int(time.time() // 60)
        if minute != self.minute:
            self.minute, self.count = minute, 0
        self.count += 1
        return self.count


WEIGHT_KEY: web.AppKey[_WeightCounter] = web.AppKey("weight", _WeightCounter)
PARAMS_KEY: web.RequestKey[dict[str, str]] = web.RequestKey("params", dict)
RAW_KEY: web.RequestKey[tuple[str, str]] = web.RequestKey("raw", tuple)


def build_app(core: ExchangeCore) -> web.Application:
    """The aiohttp application serving REST and websocket routes for `core`."""
    app = web.Application(middlewares=[_fault_middleware])
    app[CORE_KEY] = core
    app[WEIGHT_KEY] = _WeightCounter()
    for method, path, handler, security in ROUTES:
        app.router.add_route(method, path, _endpoint(handler, security))
    for path, ws_handler in WS_ROUTES:
        app.router.add_get(path, ws_handler)
    app.on_shutdown.append(_close_streams)
    return app


async def _close_streams(app: web.Application) -> None:
    await app[CORE_KEY].hub.close_all()


def _error_response(err: ApiError | HttpError) -> web.Response:
    headers = {"Retry-After": str(err.retry_after)} if err.retry_after is not None else None
    if err.code is None:
        return web.Response(status=err.status, text=err.msg or "", headers=headers)
    return web.json_response({"code": err.code, "msg": err.msg}, status=err.status, headers=headers)


async def _read_params(request: web.Request) -> tuple[dict[str, str], str, str]:
    raw_query = request.rel_url.raw_query_string
    raw_body = await request.text() if request.can_read_body else ""
    params = dict(parse_qsl(raw_query, keep_blank_values=True))
    params.update(parse_qsl(raw_body, keep_blank_values=True))
    return params, raw_query, raw_body


@web.middleware
async def _fault_middleware(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    """HTTP faults come first, as a rate limiter or a broken gateway would answer before the matching engine."""
    core = request.app[CORE_KEY]
    params, raw_query, raw_body = await _read_params(request)
    request[PARAMS_KEY], request[RAW_KEY] = params, (raw_query, raw_body)
    logged = {k: v for k, v in params.items() if k != "signature"}
    core.request_log.append((request.method, request.path, logged))
    action = core.faults.match("http", logged, method=request.method, path=request.path)
    if isinstance(action, HttpError):
        return _error_response(action)
    if isinstance(action, Delay) and request.headers.get("Upgrade", "").lower() != "websocket":
        if not action.execute:
            await asyncio.sleep(action.seconds)
            return _error_response(ApiError.of(-1007))
        response = await handler(request)
        await asyncio.sleep(action.seconds)
        return response
    return await handler(request)


def _endpoint(handler: Handler, security: Security) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def endpoint(request: web.Request) -> web.Response:
        core = request.app[CORE_KEY]
        params = request[PARAMS_KEY]
        try:
            if security != "NONE":
                _check_api_key(core, request)
            if security == "SIGNED":
                _check_signature(core, params, *request[RAW_KEY])
            body = await handler(core, {k: v for k, v in params.items() if k not in ("signature", "timestamp", "recvWindow")})
        except ApiError as err:
            return _error_response(err)
        return web.json_response(body, headers={"X-MBX-USED-WEIGHT-1M": str(request.app[WEIGHT_KEY].bump())})

    return endpoint




def _check_api_key(core: ExchangeCore, request: web.Request) -> None:
    key = request.headers.get("X-MBX-APIKEY")
    if not key:
        raise ApiError.of(-2014)
    if not hmac.compare_digest(key, core.config.api_key):
        raise ApiError.of(-2015)


def _check_signature(core: ExchangeCore, params: dict[str, str], raw_query: str, raw_body: str) -> None:
    timestamp = params.get("timestamp")
    if not timestamp or not timestamp.isdigit():
        raise ApiError(400, -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.")
    signature = params.get("signature")
    if not signature:
        raise ApiError(400, -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.")
    total = _without_signature(raw_query) + _without_signature(raw_body)
    expected = hmac.new(core.config.api_secret.encode(), total.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.lower()):
        raise ApiError.of(-1022)
    if core.config.recv_window_check:
        window = int(params.get("recvWindow") or 5000)
        if abs(core.now_ms() - int(timestamp)) > window:
            raise ApiError.of(-1021)


def _without_signature(raw: str) -> str:
    return "&".join(part for part in raw.split("&") if part and not part.startswith("signature="))
