"""Read-only HTTP endpoint on 127.0.0.1: health, status, trades (JSON) and Prometheus-style metrics.

It replaces the old log-parsing dashboard API (spec 30 §11) with views of the runtime's own state and journal:
`/health` (200 when every symbol saw a candle recently, 503 otherwise, with the last-candle age), `/status`,
`/trades?symbol=&status=&limit=`, `/metrics`. Nothing here can change state: only GET routes exist.
"""

from __future__ import annotations

import json
import logging
import math
from typing import Any, Protocol

import numpy as np
from aiohttp import web

logger = logging.getLogger(__name__)

MAX_TRADES = 500


class StatusSource(Protocol):
    def health(self) -> tuple[bool, dict[str, Any]]: ...

    def status(self) -> dict[str, Any]: ...

    def trades(self, symbol: str | None, status: str | None, limit: int) -> list[dict[str, Any]]: ...

    def metrics(self) -> list[tuple[str, str, dict[str, str], float]]:
        """(name, help, labels, value) samples."""
        ...


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(data, default=_default, allow_nan=False), status=status,
                        content_type="application/json")  # fmt: skip


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
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def render_metrics(samples: list[tuple[str, str, dict[str, str], float]]) -> str:
    lines: list[str] = []
    seen: set[str] = set()
    for name, help_text, labels, value in samples:
        if name not in seen:
            seen.add(name)
            lines.append(f"# HELP {name} {help_text}")
            lines.append(f"# TYPE {name} gauge")
        label = ",".join(f'{k}="{str(v).replace(chr(34), "")}"' for k, v in sorted(labels.items()))
        v = float(value) if value is not None and math.isfinite(float(value)) else float("nan")
        lines.append(f"{name}{{{label}}} {v:.6g}" if label else f"{name} {v:.6g}")
    return "\n".join(lines) + "\n"


class StatusServer:
    """aiohttp server bound to 127.0.0.1 only."""

    def __init__(self, source: StatusSource, port: int, host: str = "127.0.0.1") -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"status endpoint host={host!r}; it is read-only but still local only (127.0.0.1)")
        self.source = source
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/health", self._health)
        app.router.add_get("/status", self._status)
        app.router.add_get("/trades", self._trades)
        app.router.add_get("/metrics", self._metrics)
        return app

    async def start(self) -> int:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server  # bound port (0 = ephemeral)
        if server is not None and getattr(server, "sockets", None):
            self.port = server.sockets[0].getsockname()[1]
        logger.info("status endpoint on http://%s:%d (/health /status /trades /metrics)", self.host, self.port)
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _health(self, request: web.Request) -> web.Response:
        ok, body = self.source.health()
        return _json(_finite(body), 200 if ok else 503)

    async def _status(self, request: web.Request) -> web.Response:
        return _json(_finite(self.source.status()))

    async def _trades(self, request: web.Request) -> web.Response:
        q = request.query
        try:
            limit = int(q.get("limit", "50"))
        except ValueError:
            return _json({"error": f"limit={q.get('limit')!r} must be an integer in [1, {MAX_TRADES}]"}, 400)
        if not 1 <= limit <= MAX_TRADES:
            return _json({"error": f"limit={limit} must be in [1, {MAX_TRADES}]"}, 400)
        status = q.get("status")
        if status is not None and status.upper() not in ("OPEN", "CLOSED"):
            return _json({"error": f"status={status!r}; allowed OPEN or CLOSED"}, 400)
        trades = self.source.trades(q.get("symbol"), status.upper() if status else None, limit)
        return _json({"trades": _finite(trades), "count": len(trades)})

    async def _metrics(self, request: web.Request) -> web.Response:
        return web.Response(text=render_metrics(self.source.metrics()), content_type="text/plain")
