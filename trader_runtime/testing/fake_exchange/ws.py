"""Websocket side of the fake: market streams (raw and combined) and user-data streams keyed by listen key.

URL shapes accepted (what python-binance builds from `FSTREAM_URL`, plus Binance's documented ones):
    market  /ws/<stream>, /stream?streams=a/b, /market/…, /public/…   combined streams wrap {"stream", "data"}
    user    /private/ws?listenKey=<key>, /private/ws/<key>, /ws/<key>
Faults act here: drop (abort or close), silence (open, pings answered, nothing sent), listen-key expiry.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import WSMsgType, web

from trader_runtime.testing.fake_exchange.payloads import listen_key_expired
from trader_runtime.testing.fake_exchange.state import ListenKeys

logger = logging.getLogger(__name__)
Kind = Literal["market", "user"]


@dataclass(eq=False)
class Connection:
    kind: Kind
    ws: web.WebSocketResponse
    transport: asyncio.Transport | None
    streams: set[str] = field(default_factory=set)
    combined: bool = False
    listen_key: str | None = None
    silent: bool = False
    key_expired: bool = False


class StreamHub:
    """All open websocket connections and the ways events reach them (or don't)."""

    def __init__(self, listen_keys: ListenKeys) -> None:
        self.listen_keys = listen_keys
        self._conns: list[Connection] = []
        self.connects: dict[str, int] = {"market": 0, "user": 0}

    # ------------------------------------------------------------------------------------------ serving
    async def serve_market(self, request: web.Request, streams: list[str], *, combined: bool) -> web.WebSocketResponse:
        conn = await self._open(request, "market")
        conn.streams, conn.combined = {s.lower() for s in streams if s}, combined
        return await self._run(conn)

    async def serve_user(self, request: web.Request, key: str) -> web.StreamResponse:
        if not self.listen_keys.is_valid(key):
            return web.json_response({"code": -1125, "msg": "This listenKey does not exist."}, status=400)
        conn = await self._open(request, "user")
        conn.listen_key = key
        return await self._run(conn)

    async def _open(self, request: web.Request, kind: Kind) -> Connection:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        conn = Connection(kind, ws, request.transport)
        self._conns.append(conn)
        self.connects[kind] += 1
        return conn

    async def _run(self, conn: Connection) -> web.WebSocketResponse:
        try:
            async for msg in conn.ws:
                if msg.type == WSMsgType.TEXT and conn.kind == "market":
                    await self._on_request(conn, msg.data)
        finally:
            if conn in self._conns:
                self._conns.remove(conn)
        return conn.ws

    async def _on_request(self, conn: Connection, text: str) -> None:
        """SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS on a market connection, answered as Binance does."""
        try:
            req = json.loads(text)
            method, params, req_id = req.get("method"), req.get("params") or [], req.get("id")
        except (ValueError, AttributeError):
            await conn.ws.send_str(json.dumps({"code": 3, "msg": "Invalid JSON"}))
            return
        if method == "SUBSCRIBE":
            conn.streams.update(str(s).lower() for s in params)
            result: Any = None
        elif method == "UNSUBSCRIBE":
            conn.streams.difference_update(str(s).lower() for s in params)
            result = None
        elif method == "LIST_SUBSCRIPTIONS":
            result = sorted(conn.streams)
        else:
            await conn.ws.send_str(json.dumps({"code": 2, "msg": f"Invalid request: unknown method {method!r}", "id": req_id}))
            return
        await conn.ws.send_str(json.dumps({"result": result, "id": req_id}))

    # ------------------------------------------------------------------------------------------ publishing
    async def publish_market(self, stream: str, payload: dict[str, Any]) -> int:
        sent = 0
        for conn in list(self._conns):
            if conn.kind == "market" and not conn.silent and stream in conn.streams:
                message = {"stream": stream, "data": payload} if conn.combined else payload
                sent += await self._send(conn, message)
        return sent

    async def publish_user(self, payload: dict[str, Any], event_time: int) -> int:
        sent = 0
        for conn in list(self._conns):
            if conn.kind != "user" or conn.key_expired:
                continue
            assert conn.listen_key is not None
            if not self.listen_keys.is_valid(conn.listen_key):
                conn.key_expired = True  # expired by time: Binance says so once, then stays quiet
                await self._send(conn, listen_key_expired(conn.listen_key, event_time))
                continue
            if not conn.silent:
                sent += await self._send(conn, payload)
        return sent

    async def _send(self, conn: Connection, message: dict[str, Any]) -> int:
        try:
            await conn.ws.send_str(json.dumps(message))
            return 1
        except (ConnectionError, RuntimeError) as exc:
            logger.debug("fake exchange: dropping dead %s connection: %s", conn.kind, exc)
            if conn in self._conns:
                self._conns.remove(conn)
            return 0

    # ------------------------------------------------------------------------------------------ faults
    def _select(self, kind: str) -> list[Connection]:
        return [c for c in self._conns if kind == "all" or c.kind == kind]

    async def drop(self, kind: str, *, abort: bool) -> int:
        """Cut connections: abort = TCP reset without a close frame (a network drop); else close code 1001."""
        victims = self._select(kind)
        for conn in victims:
            if conn in self._conns:
                self._conns.remove(conn)
            if abort and conn.transport is not None:
                conn.transport.abort()
            else:
                await conn.ws.close(code=1001, message=b"going away")
        return len(victims)

    def silence(self, kind: str, silent: bool = True) -> int:
        victims = self._select(kind)
        for conn in victims:
            conn.silent = silent
        return len(victims)

    async def expire_keys(self, keys: list[str], event_time: int, *, close: bool) -> int:
        """Push `listenKeyExpired` to the connections of these keys; then they get nothing (or are closed)."""
        hit = [c for c in self._conns if c.kind == "user" and c.listen_key in keys and not c.key_expired]
        for conn in hit:
            assert conn.listen_key is not None
            await self._send(conn, listen_key_expired(conn.listen_key, event_time))
            conn.key_expired = True
            if close:
                await conn.ws.close(code=1000, message=b"listenKey expired")
        return len(hit)

    async def close_key(self, key: str) -> None:
        for conn in [c for c in self._conns if c.listen_key == key]:
            self._conns.remove(conn)
            await conn.ws.close(code=1000, message=b"listenKey closed")

    async def close_all(self) -> None:
        for conn in list(self._conns):
            self._conns.remove(conn)
            await conn.ws.close(code=1001, message=b"server shutdown")

    def open_connections(self) -> dict[str, int]:
        return {"market": sum(c.kind == "market" for c in self._conns), "user": sum(c.kind == "user" for c in self._conns)}
