"""The trader's local HTTP endpoint on 127.0.0.1: dashboard, read-only views, Prometheus metrics, control actions.

It replaces the old log-parsing dashboard API (spec 30 §11) with views of the runtime's own state and journal:

- `/` the dashboard (static files shipped in `service/dashboard/`, no CDN, no build step);
- `/health` (200 when every symbol saw a candle recently, 503 otherwise), `/status`, `/trades`, `/decisions`,
  `/equity`, `/actions` (JSON, ISO-8601 UTC times) and `/metrics` (Prometheus text from `prometheus_client`);
- `POST /control/<action>` (pause, resume, exit, reset-kill, reload, ml-mode; JSON body with `reason`, and
  `symbol` or `mode` where needed): only with the control token in `Authorization: Bearer <token>`, compared in
  constant time. Without a configured token every control call is refused (403); a wrong or missing token is 401.

Read-only views stay open on loopback. Requests whose Host header is not a loopback name are refused, so a web page
cannot reach the endpoint through DNS rebinding.
"""

from __future__ import annotations

import hmac
import json
import logging
import math
from importlib import resources
from typing import Any, Protocol

import numpy as np
from aiohttp import web

from trader_runtime.errors import CoinTraderError
from trader_runtime.service.control import ControlRefused, ControlRequest

logger = logging.getLogger(__name__)

MAX_TRADES = 500
MAX_DECISIONS = 500
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
STATIC = {"app.js": "application/javascript", "style.css": "text/css", "index.html": "text/html"}
MAX_BODY_BYTES = 16_384


class StatusSource(Protocol):
    symbols: list[str]
    controller: Any

    def health(self) -> tuple[bool, dict[str, Any]]: ...

    def status(self) -> dict[str, Any]: ...

    def trades(self, symbol: str | None, status: str | None, limit: int) -> list[dict[str, Any]]: ...

    def decisions(self, symbol: str | None, limit: int) -> list[dict[str, Any]]: ...

    def equity(self) -> list[dict[str, Any]]: ...

    def actions(self) -> list[dict[str, Any]]: ...

    def metrics(self) -> bytes:
        """Prometheus exposition text."""
        ...


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(_finite(data), default=_default, allow_nan=False), status=status,
                        content_type="application/json", headers={"Cache-Control": "no-store"})  # fmt: skip


def _default(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        f = float(value)
        return None if not math.isfinite(f) else f
    return str(value)


def _finite(obj: Any) -> Any:
    """NaN/inf → null everywhere (JSON has no NaN)."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    if isinstance(obj, (float, np.floating)) and not math.isfinite(float(obj)):
        return None
    return obj


def _limit(request: web.Request, default: int, top: int) -> int:
    raw = request.query.get("limit", str(default))
    try:
        value = int(raw)
    except ValueError:
        raise web.HTTPBadRequest(text=json.dumps({"error": f"limit={raw!r} must be an integer in [1, {top}]"}),
                                 content_type="application/json") from None  # fmt: skip
    if not 1 <= value <= top:
        raise web.HTTPBadRequest(text=json.dumps({"error": f"limit={value} must be in [1, {top}]"}), content_type="application/json")
    return value


def bearer_token(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def token_matches(given: str, expected: str) -> bool:
    """Constant-time comparison (the time taken does not tell how much of the token was right)."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def host_name(host: str) -> str:
    """The name part of a Host header (`127.0.0.1:8787` → `127.0.0.1`, `[::1]:8787` → `::1`)."""
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


@web.middleware
async def _loopback_host_only(request: web.Request, handler: Any) -> web.StreamResponse:
    if host_name(request.host or "") not in LOCAL_HOSTS:
        return _json({"error": f"host {request.host!r} refused; this endpoint answers on 127.0.0.1 only"}, 421)
    return await handler(request)


class StatusServer:
    """aiohttp server bound to 127.0.0.1 only; `token` None means control actions are off."""

    def __init__(self, source: StatusSource, port: int, host: str = "127.0.0.1", *, token: str | None = None) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"status endpoint host={host!r}; it controls a trader, so it is local only (127.0.0.1)")
        self.source = source
        self.host = host
        self.port = port
        self.token = token
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application(middlewares=[_loopback_host_only], client_max_size=MAX_BODY_BYTES)
        app.router.add_get("/", self._index)
        app.router.add_get("/static/{name}", self._static)
        app.router.add_get("/health", self._health)
        app.router.add_get("/status", self._status)
        app.router.add_get("/trades", self._trades)
        app.router.add_get("/decisions", self._decisions)
        app.router.add_get("/equity", self._equity)
        app.router.add_get("/actions", self._actions)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_post("/control/{action}", self._control)
        return app

    async def start(self) -> int:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server  # bound port (0 = ephemeral)
        if server is not None and getattr(server, "sockets", None):
            self.port = server.sockets[0].getsockname()[1]
        logger.info("dashboard on http://%s:%d/ (control actions %s)", self.host, self.port,
                    "on, token required" if self.token else "off: no control token configured")  # fmt: skip
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------------------------------------ dashboard
    async def _index(self, request: web.Request) -> web.Response:
        return self._file("index.html")

    async def _static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in STATIC:
            raise web.HTTPNotFound()
        return self._file(name)

    def _file(self, name: str) -> web.Response:
        body = resources.files("trader_runtime.service.dashboard").joinpath(name).read_bytes()
        return web.Response(body=body, content_type=STATIC[name], headers={"Cache-Control": "no-cache"})

    # ------------------------------------------------------------------------------------------ read-only
    async def _health(self, request: web.Request) -> web.Response:
        ok, body = self.source.health()
        return _json(body, 200 if ok else 503)

    async def _status(self, request: web.Request) -> web.Response:
        return _json(self.source.status())

    async def _trades(self, request: web.Request) -> web.Response:
        limit = _limit(request, 50, MAX_TRADES)
        status = request.query.get("status")
        if status is not None and status.upper() not in ("OPEN", "CLOSED"):
            return _json({"error": f"status={status!r}; allowed OPEN or CLOSED"}, 400)
        trades = self.source.trades(request.query.get("symbol"), status.upper() if status else None, limit)
        return _json({"trades": trades, "count": len(trades)})

    async def _decisions(self, request: web.Request) -> web.Response:
        rows = self.source.decisions(request.query.get("symbol"), _limit(request, 50, MAX_DECISIONS))
        return _json({"decisions": rows, "count": len(rows)})

    async def _equity(self, request: web.Request) -> web.Response:
        return _json({"points": self.source.equity()})

    async def _actions(self, request: web.Request) -> web.Response:
        return _json({"actions": self.source.actions()})

    async def _metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=self.source.metrics(), headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})

    # ------------------------------------------------------------------------------------------ control
    async def _control(self, request: web.Request) -> web.Response:
        action = request.match_info["action"]
        raw = await request.read()  # always consume the (size-limited) body, so a refused call leaves the connection usable
        if self.token is None:
            return _json({"error": "control actions are off: no control token is configured "
                                   "(COINTRADER_CONTROL_TOKEN_FILE or the systemd credential COINTRADER_CONTROL_TOKEN)"}, 403)  # fmt: skip
        if not token_matches(bearer_token(request), self.token):
            logger.warning("control %s refused: missing or wrong token", action)
            return _json({"error": "missing or wrong control token"}, 401)
        try:
            body = json.loads(raw or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _json({"error": "body must be a JSON object such as {\"reason\": \"...\"}"}, 400)
        if not isinstance(body, dict):
            return _json({"error": "body must be a JSON object such as {\"reason\": \"...\"}"}, 400)
        try:
            req = ControlRequest.parse(action, body, list(self.source.symbols))
            outcome = await self.source.controller.execute(req)
        except ControlRefused as exc:
            return _json({"error": str(exc)}, exc.status)
        except CoinTraderError as exc:  # e.g. the exchange rejected the manual close: reported, the bot goes on
            return _json({"error": f"{action} failed: {exc}"}, 409)
        return _json(outcome.to_dict())
