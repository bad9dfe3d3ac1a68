"""A local stand-in for the Discord webhook: records every message and can answer slowly (INC-15, DEF-12).

Runs `http.server` on 127.0.0.1 in a thread; the service posts to it like to Discord. `delay_s` holds every answer
(a webhook that takes 10 s must not delay a trading decision)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class WebhookSink:
    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.messages: list[str] = []
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    content = str(json.loads(body).get("content", ""))
                except ValueError:
                    content = body.decode(errors="replace")
                with sink._lock:
                    sink.messages.append(content)
                if sink.delay_s:
                    time.sleep(sink.delay_s)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook-sink", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/webhooks/1/test"

    def start(self) -> "WebhookSink":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def containing(self, text: str) -> list[str]:
        with self._lock:
            return [m for m in self.messages if text in m]

    def __enter__(self) -> "WebhookSink":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
