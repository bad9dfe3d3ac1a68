"""Moving `@champion` by hand while the trader runs: it stays on its last good model, alerts once, `/status` says
why — and a restart in that state starts on the cached last good model."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from fixtures.trader import WARMUP, decisions, options, replay_slice, settings
from fixtures.mlflow_store import fresh_store, mlflow_template  # noqa: F401  (fixture)
from fixtures.trader_models import move_alias_by_hand, register
from trader_runtime.service.app import TraderApp
from trader_runtime.service.control import ControlRequest


@pytest.fixture()
def registry(tmp_path: Path, mlflow_template: Path) -> dict[str, str]:
    uri = fresh_store(mlflow_template, tmp_path)
    art = tmp_path / "artifacts"
    v1 = register(uri, art, threshold=0.6, seed=1)  # promoted through the platform's path
    v2 = register(uri, art, threshold=0.4, seed=2, alias=None)
    return {"uri": uri, "v1": v1, "v2": v2}


def test_running_trader_stays_on_its_last_good_model_when_champion_is_moved_by_hand(registry, tmp_path: Path, synth, webhook):
    env = {"ML_MODE": "shadow", "MLFLOW_TRACKING_URI": registry["uri"], "DISCORD_WEBHOOK_URL": webhook.url}
    frame = replay_slice(synth, WARMUP + 300, 120)
    app = TraderApp(settings(**env), options(tmp_path / "j.sqlite", frame, http_port=0, speed=900.0 * 8,
                                             model_cache=tmp_path / "cache", model_poll_s=0.05))  # fmt: skip
    seen: dict[str, object] = {}

    async def main() -> None:
        runner = asyncio.create_task(app.run())
        while not (app.ready and app.http_port and app.bots["XRPUSDT"].stats.decisions >= 5):
            await asyncio.sleep(0.01)
        await asyncio.to_thread(move_alias_by_hand, registry["uri"], registry["v2"])
        poller = app.pollers["XRPUSDT"]
        while poller.refused is None:
            await asyncio.sleep(0.01)
        seen["at_refusal"] = app.bots["XRPUSDT"].stats.decisions
        while app.bots["XRPUSDT"].stats.decisions < seen["at_refusal"] + 10:  # type: ignore[operator]
            await asyncio.sleep(0.01)
        async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{app.http_port}/status") as r:
            seen["status"] = await r.json()
        # the operator may switch to ML on: the last good model is usable, so it is accepted
        seen["ml_on"] = await app.controller.execute(ControlRequest.parse("ml-mode", {"mode": "on", "reason": "t"}, ["XRPUSDT"]))
        app.request_stop()
        await runner

    asyncio.run(asyncio.wait_for(main(), 180))
    assert seen["ml_on"].changed and app.ml_mode == "on"  # type: ignore[attr-defined]
    sym = seen["status"]["symbols"]["XRPUSDT"]  # type: ignore[index]
    assert sym["model"]["version"] == registry["v1"] and "moved outside" in sym["model_refused"]
    d = decisions(tmp_path / "j.sqlite")
    assert (d["model_version"] == registry["v1"]).all()  # every decision, before and after the hand move
    webhook_alerts = [m for m in webhook.messages if "model refused" in m]
    assert len(webhook_alerts) == 1  # once, not on every poll

    # a restart while the alias still points at the hand-moved version starts on the last good (cached) model
    short = replay_slice(synth, WARMUP + 300, 3)
    restarted = TraderApp(settings(**env), options(tmp_path / "j2.sqlite", short, http_port=None, model_cache=tmp_path / "cache"))
    asyncio.run(restarted.run())
    assert restarted.holders["XRPUSDT"].version == registry["v1"] and restarted.pollers["XRPUSDT"].refused
