"""The read-only status endpoint of a running service: health with last-candle age, status, trades, metrics."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from fixtures.trader import WARMUP, options, replay_slice, settings
from trader_runtime.service.app import TraderApp
from trader_runtime.service.status_http import StatusServer, render_metrics


def test_endpoints_of_a_running_replay(tmp_path: Path, synth):
    frame = replay_slice(synth, WARMUP + 300, 400)
    app = TraderApp(settings(), options(tmp_path / "j.sqlite", frame, http_port=0, speed=900.0 * 40))
    got: dict[str, object] = {}

    async def main() -> None:
        runner = asyncio.create_task(app.run())
        while not (app.ready and app.http_port and app.bots["XRPUSDT"].stats.closes >= 1):
            await asyncio.sleep(0.01)
        base = f"http://127.0.0.1:{app.http_port}"
        async with aiohttp.ClientSession() as s:
            for path in ("/health", "/status", "/trades?limit=5", "/trades?limit=0", "/trades?status=maybe", "/metrics"):
                async with s.get(base + path) as r:
                    got[path] = (r.status, await (r.text() if path == "/metrics" else r.json()))
            async with s.post(base + "/health") as r:
                got["POST"] = r.status
        app.request_stop()
        await runner

    asyncio.run(main())
    status, health = got["/health"]
    assert status == 200 and health["status"] == "ok" and health["last_candle_age_s"]["XRPUSDT"] is not None
    _, st = got["/status"]
    assert st["mode"] == "replay" and "XRPUSDT" in st["symbols"] and "risk" in st
    code, trades = got["/trades?limit=5"]
    assert code == 200 and 1 <= trades["count"] <= 5 and {"net_pnl", "gross_pnl", "entry_fee", "close_reason"} <= set(trades["trades"][0])
    assert got["/trades?limit=0"][0] == 400 and got["/trades?status=maybe"][0] == 400
    code, metrics = got["/metrics"]
    assert 'cointrader_candles_total{symbol="XRPUSDT"}' in metrics and 'quantile="0.99"' in metrics
    assert got["POST"] == 405  # read-only


class _Unhealthy:
    def health(self):
        return False, {"status": "stale", "last_candle_age_s": {"XRPUSDT": float("nan")}}

    def status(self):
        return {}

    def trades(self, symbol, status, limit):
        return []

    def metrics(self):
        return [("x_total", "help", {"symbol": 'a"b'}, 1.0), ("x_total", "help", {"symbol": "c"}, float("inf"))]


def test_unhealthy_is_503_and_nan_becomes_null():
    async def main():
        server = StatusServer(_Unhealthy(), 0)
        port = await server.start()
        async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{port}/health") as r:
            body = (r.status, await r.json())
        await server.stop()
        return body

    status, body = asyncio.run(main())
    assert status == 503 and body["last_candle_age_s"]["XRPUSDT"] is None


def test_metrics_text_format_and_local_only_binding():
    text = render_metrics(_Unhealthy().metrics())
    assert text.count("# TYPE x_total gauge") == 1 and 'x_total{symbol="ab"} 1' in text and "nan" in text
    with pytest.raises(ValueError):
        StatusServer(_Unhealthy(), 0, host="0.0.0.0")
