"""The local endpoint of a running service: health with last-candle age, status (money, ISO times), trades,
decisions, equity, Prometheus metrics from prometheus_client, the dashboard page, and loopback-only access."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from fixtures.trader import WARMUP, options, replay_slice, settings
from trader_runtime.service.app import TraderApp
from prometheus_client.parser import text_string_to_metric_families

from trader_runtime.service.status_http import StatusServer, host_name


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
            for path in ("/health", "/status", "/trades?limit=5", "/trades?limit=0", "/trades?status=maybe", "/metrics",
                         "/decisions?limit=3", "/equity", "/actions", "/", "/static/app.js", "/static/nope.js"):
                async with s.get(base + path) as r:
                    text = path in ("/metrics", "/") or path.startswith("/static")
                    got[path] = (r.status, await (r.text() if text else r.json()))
            async with s.post(base + "/health") as r:
                got["POST"] = r.status
            async with s.get(base + "/status", headers={"Host": "attacker.example:8787"}) as r:
                got["rebinding"] = r.status
        app.request_stop()
        await runner

    asyncio.run(main())
    status, health = got["/health"]
    assert status == 200 and health["status"] == "ok" and health["last_candle_age_s"]["XRPUSDT"] is not None
    _, st = got["/status"]
    assert st["mode"] == "replay" and "XRPUSDT" in st["symbols"] and "risk" in st
    acct = st["account"]
    assert acct["balance"] > 0 and acct["equity"] == pytest.approx(acct["balance"] + acct["open_pnl"])
    assert acct["closed_trades"] >= 1 and acct["total_pnl"] != 0.0 and acct["today_pnl"] is not None
    assert st["symbols"]["XRPUSDT"]["last_candle_time"].endswith("+00:00") and st["time"].endswith("+00:00")
    assert st["entries_paused"]["paused"] is False and st["control"]["enabled"] is False
    code, trades = got["/trades?limit=5"]
    assert code == 200 and 1 <= trades["count"] <= 5 and {"net_pnl", "gross_pnl", "entry_fee", "close_reason"} <= set(trades["trades"][0])
    assert got["/trades?limit=0"][0] == 400 and got["/trades?status=maybe"][0] == 400
    assert "exit_time_ms" not in trades["trades"][0] and trades["trades"][0]["exit_time"].endswith("+00:00")
    code, metrics = got["/metrics"]
    families = {f.name: f for f in text_string_to_metric_families(metrics)}
    assert families["cointrader_candles"].type == "counter" and families["cointrader_closes"].type == "counter"
    assert families["cointrader_decision_latency_seconds"].type == "histogram"
    count = [s for s in families["cointrader_decision_latency_seconds"].samples if s.name.endswith("_count")]
    assert count and count[0].value >= 1 and families["cointrader_equity_usdt"].type == "gauge"
    assert got["/decisions?limit=3"][1]["count"] == 3 and got["/decisions?limit=3"][1]["decisions"][0]["action"]
    points = got["/equity"][1]["points"]
    assert len(points) >= 3 and points[-1]["equity"] == pytest.approx(acct["equity"], rel=1e-6, abs=1.0)
    assert got["/"][0] == 200 and "/static/app.js" in got["/"][1] and "cdn" not in got["/"][1].lower()
    assert got["/static/app.js"][0] == 200 and got["/static/nope.js"][0] == 404
    assert got["POST"] == 405 and got["rebinding"] == 421


class _Unhealthy:
    def health(self):
        return False, {"status": "stale", "last_candle_age_s": {"XRPUSDT": float("nan")}}

    def status(self):
        return {}

    def trades(self, symbol, status, limit):
        return []


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


def test_local_only_binding_and_host_names():
    with pytest.raises(ValueError):
        StatusServer(_Unhealthy(), 0, host="0.0.0.0")
    assert [host_name(h) for h in ("127.0.0.1:8787", "localhost", "[::1]:8787", "evil.example:80")] == \
        ["127.0.0.1", "localhost", "::1", "evil.example"]
