"""Discord notifications that can never block or fail a trading action (spec 30 §9, INC-15, D4).

`Notifier.send(text)` only appends to a bounded queue and returns; a daemon thread with its own event loop posts
the messages in order through aiohttp with a timeout. It works the same from the trader's event loop and from
synchronous pipeline code. Without a webhook URL it is a no-op (a debug line per message). Every message starts
with the mode (`[REPLAY]`, `[PAPER]`, `[DEMO]`, `[LIVE]`, or the caller's tag) so a demo alert is never
mistaken for a live one. The URL is a secret: registered for redaction, never logged, never in `repr`.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading

import aiohttp

from trader_runtime.logs import register_secret

logger = logging.getLogger(__name__)

MAX_QUEUE = 1000
DISCORD_LIMIT = 2000
_STOP = object()


class Notifier:
    """Queue-based webhook sender; `send` is safe from any thread or loop and returns at once."""

    def __init__(self, webhook_url: str | None, tag: str, *, timeout_s: float = 10.0) -> None:
        self._url = (webhook_url or "").strip()
        register_secret(self._url)
        self.tag = tag.upper()
        self.timeout_s = timeout_s
        self.sent = 0
        self.failed = 0
        self.dropped = 0
        self._queue: queue.Queue[object] = queue.Queue(maxsize=MAX_QUEUE)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Notifier(tag={self.tag!r}, enabled={self.enabled})"

    @property
    def enabled(self) -> bool:
        return bool(self._url)

    def format(self, text: str) -> str:
        msg = f"[{self.tag}] {text}"
        return msg if len(msg) <= DISCORD_LIMIT else msg[: DISCORD_LIMIT - 1] + "…"

    def send(self, text: str) -> None:
        """Queue one message (mode-prefixed). Never raises, never waits."""
        msg = self.format(text)
        if not self.enabled:
            logger.debug("notification (disabled): %s", msg)
            return
        self._ensure_worker()
        try:
            self._queue.put_nowait(msg)
        except queue.Full:
            self.dropped += 1
            logger.warning("notification queue full (%d); message dropped", MAX_QUEUE)

    def close(self, timeout_s: float = 5.0) -> None:
        """Flush what is queued (bounded by `timeout_s`) and stop the worker."""
        with self._lock:
            thread = self._thread
            self._thread = None
        if thread is None:
            return
        try:
            self._queue.put(_STOP, timeout=timeout_s)
        except queue.Full:
            return
        thread.join(timeout_s)

    # ------------------------------------------------------------------------------------------ worker
    def _ensure_worker(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="notifier", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        asyncio.run(self._drain())

    async def _drain(self) -> None:
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                item = await asyncio.to_thread(self._queue.get)
                if item is _STOP:
                    return
                await self._post(session, str(item))

    async def _post(self, session: aiohttp.ClientSession, msg: str) -> None:
        try:
            async with session.post(self._url, json={"content": msg}) as resp:
                if resp.status >= 300:
                    self.failed += 1
                    logger.warning("notification failed: HTTP %s", resp.status)
                    return
            self.sent += 1
        except Exception as exc:  # noqa: BLE001 - a notification must never take the worker down
            self.failed += 1
            logger.warning("notification failed: %s", type(exc).__name__)


def mode_tag(mode: str) -> str:
    return mode.upper()


def fmt_price(value: float | None) -> str:
    """4 decimals; missing or NaN shows as 0.0000 (INC-02)."""
    if value is None or value != value:
        return "0.0000"
    return f"{value:.4f}"


def fmt_num(value: float | None, places: int) -> str:
    if value is None or value != value:
        return f"{0.0:.{places}f}"
    return f"{value:.{places}f}"
