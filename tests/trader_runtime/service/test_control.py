"""Control actions end to end in replay: the real service, its HTTP endpoint, the token, the journal, the webhook.

pause then signals → no entry while exits keep firing; force-exit → closed with reason MANUAL; reset-kill; reload
(validated, from the next candle); ML mode; a wrong, missing or unconfigured token is refused with nothing changed;
`cointrader trader ctl` drives the same endpoint.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from fixtures.trader import RELAXED, WARMUP, decisions, journal_trades, options, replay_slice, settings
from trader_runtime.cli.main import main as cli_main
from trader_runtime.config import resolve_strategy_params, _read_dotenv
from trader_runtime.credentials import write_private_file
from trader_runtime.service.app import TraderApp
from trader_runtime.storage.journal import Journal, JournalReader, KillRow

SYM = "XRPUSDT"
FAST = 0.0  # as fast as the machine decides (a few candles a second); control requests interleave between candles
SLOW = 900.0  # one candle per wall second: a window in which nothing happens on its own


@pytest.fixture()
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "control.token"
    write_private_file(path)
    return path


def _app(tmp_path: Path, frame, token_file: Path | None, webhook=None, speed: float = FAST, **kw: Any) -> TraderApp:
    env: dict[str, Any] = {}
    if token_file is not None:
        env["COINTRADER_CONTROL_TOKEN_FILE"] = str(token_file)
    if webhook is not None:
        env["DISCORD_WEBHOOK_URL"] = webhook.url
    env.update(kw.pop("env", {}))
    return TraderApp(settings(**env), options(tmp_path / "j.sqlite", frame, http_port=0, speed=speed, **kw))


Scenario = Callable[[TraderApp, str, aiohttp.ClientSession], Awaitable[Any]]


def drive(app: TraderApp, scenario: Scenario, *, to_end: bool = False, timeout: float = 120.0) -> Any:
    """Start the service, run `scenario(app, base_url, session)` against it, then stop it (or let the replay end)."""

    async def main() -> Any:
        runner = asyncio.create_task(app.run())
        while not (app.ready and app.http_port):
            if runner.done():
                await runner
            await asyncio.sleep(0.005)
        async with aiohttp.ClientSession() as session:
            result = await scenario(app, f"http://127.0.0.1:{app.http_port}", session)
        if not to_end:
            app.request_stop()
        await runner
        return result

    return asyncio.run(asyncio.wait_for(main(), timeout))


async def until(predicate: Callable[[], bool], what: str, timeout: float = 60.0, state: Callable[[], Any] = lambda: "") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s {state()}")
        await asyncio.sleep(0.002)


async def post(session: aiohttp.ClientSession, base: str, action: str, body: dict[str, Any], token: str | None) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    async with session.post(f"{base}/control/{action}", json=body, headers=headers) as r:
        return r.status, await r.json()


def _token(path: Path) -> str:
    return path.read_text().strip()


def control_events(path: Path) -> list[dict[str, Any]]:
    with JournalReader(path) as r:
        return [e["detail"] for e in r.events("CONTROL")]


# ------------------------------------------------------------------------------------------------ pause
def test_pause_blocks_entries_while_exits_keep_firing_then_resume(tmp_path: Path, synth, token_file: Path, webhook):
    # the backtest of this window: LONG at bar 1 exits by TP at bar 8, SHORTs at 24 and 42, more entries from bar 65
    app = _app(tmp_path, replay_slice(synth, WARMUP + 300, 150), token_file, webhook)
    token = _token(token_file)
    seen: dict[str, Any] = {}

    async def scenario(app: TraderApp, base: str, s: aiohttp.ClientSession) -> None:
        bot = app.bots[SYM]
        await until(lambda: bot.ledger.open is not None, "a position")
        seen["open_at_pause"] = bot.ledger.open.position_id
        seen["pause"] = await post(s, base, "pause", {"reason": "test: news event"}, token)
        seen["entries_at_pause"] = bot.stats.entries
        seen["candle_at_pause"] = bot.stats.last_candle_ms
        async with s.get(f"{base}/status") as r:
            seen["status"] = await r.json()
        seen["again"] = await post(s, base, "pause", {"reason": "twice"}, token)
        await until(lambda: bot.ledger.open is None and bot.stats.last_candle_ms >= seen["candle_at_pause"] + 50 * 900_000,
                    "50 paused candles", state=lambda: (bot.ledger.open, bot.stats.last_candle_ms, seen, bot.finished.is_set()))
        seen["entries_while_paused"] = bot.stats.entries - seen["entries_at_pause"]
        # the last candle surely decided while paused: the bot shares this event loop and may decide more candles
        # while the resume request is in flight, so the candle read after it could already be an allowed entry
        seen["candle_at_resume"] = bot.stats.last_candle_ms
        seen["resume"] = await post(s, base, "resume", {"reason": "test: over"}, token)

    drive(app, scenario, to_end=True)
    status, body = seen["pause"]
    assert status == 200 and body["changed"] is True and "paused" in body["detail"]
    assert seen["status"]["entries_paused"] == {"paused": True, "reason": "test: news event", "since": seen["status"]["entries_paused"]["since"]}
    assert seen["again"][0] == 200 and seen["again"][1]["changed"] is False
    assert seen["entries_while_paused"] == 0
    path = tmp_path / "j.sqlite"
    d = decisions(path)
    paused = d[(d["candle_ms"] > seen["candle_at_pause"]) & (d["candle_ms"] <= seen["candle_at_resume"])]
    assert not paused["action"].isin(["ENTRY", "REVERSE"]).any()
    blocked = paused[(paused["action"] == "BLOCKED_PAUSED") | (paused["reason"] == "BLOCKED_PAUSED")]
    assert len(blocked) >= 1  # signals came and were held back
    trades = journal_trades(path, status=None).set_index("position_id")
    assert trades.loc[seen["open_at_pause"], "close_reason"] in ("SL", "TP", "REVERSE")  # the exit still fired
    after = d[d["candle_ms"] > seen["candle_at_resume"]]
    assert after["action"].isin(["ENTRY", "REVERSE"]).any()  # entries again after resume
    events = control_events(path)
    assert [(e["action"], e["changed"], e["reason"]) for e in events] == [
        ("pause", True, "test: news event"), ("pause", False, "twice"), ("resume", True, "test: over")]
    assert all(e["time"].endswith("+00:00") for e in events)
    assert any("operator **pause**" in m and "news event" in m for m in webhook.messages)


def test_pause_survives_a_restart(tmp_path: Path, synth, token_file: Path):
    frame = replay_slice(synth, WARMUP + 300, 150)
    token = _token(token_file)

    async def pause(app: TraderApp, base: str, s: aiohttp.ClientSession) -> int:
        return (await post(s, base, "pause", {"reason": "maintenance"}, token))[0]

    assert drive(_app(tmp_path, frame, token_file), pause) == 200
    restarted = _app(tmp_path, frame, token_file, speed=0.0)

    async def look(app: TraderApp, base: str, s: aiohttp.ClientSession) -> dict:
        async with s.get(f"{base}/status") as r:
            return await r.json()

    st = drive(restarted, look, to_end=True)
    assert st["entries_paused"]["paused"] is True and st["entries_paused"]["reason"] == "maintenance"
    d = decisions(tmp_path / "j.sqlite")
    assert (d["action"] == "BLOCKED_PAUSED").any() and not d.iloc[-100:]["action"].isin(["ENTRY", "REVERSE"]).any()


# ------------------------------------------------------------------------------------------------ force exit
def test_force_exit_closes_the_position_with_reason_manual(tmp_path: Path, synth, token_file: Path, webhook):
    app = _app(tmp_path, replay_slice(synth, WARMUP + 300, 60), token_file, webhook, speed=SLOW)
    token = _token(token_file)
    seen: dict[str, Any] = {}

    async def scenario(app: TraderApp, base: str, s: aiohttp.ClientSession) -> None:
        bot = app.bots[SYM]
        await until(lambda: bot.ledger.open is not None, "a position")
        seen["position"] = bot.ledger.open.position_id
        seen["bad_symbol"] = await post(s, base, "exit", {"symbol": "DOGEUSDT", "reason": "x"}, token)
        seen["no_reason"] = await post(s, base, "exit", {"symbol": SYM}, token)
        seen["pause"] = await post(s, base, "pause", {"reason": "hold entries"}, token)  # keep it flat afterwards
        seen["exit"] = await post(s, base, "exit", {"symbol": SYM.lower(), "reason": "test: manual close"}, token)
        seen["flat_after"] = bot.ledger.open is None
        seen["again"] = await post(s, base, "exit", {"symbol": SYM, "reason": "again"}, token)

    drive(app, scenario)
    assert seen["bad_symbol"][0] == 400 and seen["no_reason"][0] == 400
    status, body = seen["exit"]
    assert status == 200 and body["changed"] is True and "MANUAL" in body["detail"] and seen["flat_after"]
    assert seen["again"][0] == 200 and seen["again"][1]["changed"] is False
    path = tmp_path / "j.sqlite"
    trades = journal_trades(path, status=None).set_index("position_id")
    assert trades.loc[seen["position"], "status"] == "CLOSED" and trades.loc[seen["position"], "close_reason"] == "MANUAL"
    with JournalReader(path) as r:
        legs = [o for o in r.orders(position_id=seen["position"]) if o.purpose in ("SL", "TP")]
    assert legs and all(o.status != "NEW" for o in legs)  # its SL/TP were cancelled with it
    assert any("MANUAL close" in m for m in webhook.messages)


# ------------------------------------------------------------------------------------------------ authentication
def test_wrong_missing_or_unconfigured_token_is_refused_and_nothing_changes(tmp_path: Path, synth, token_file: Path):
    frame = replay_slice(synth, WARMUP + 300, 30)
    good = _token(token_file)
    seen: dict[str, Any] = {}

    async def attempts(app: TraderApp, base: str, s: aiohttp.ClientSession) -> None:
        bot = app.bots[SYM]
        await until(lambda: bot.ledger.open is not None, "a position")
        pid = bot.ledger.open.position_id
        for name, token in (("wrong", good[:-1] + ("x" if good[-1] != "x" else "y")), ("missing", None), ("empty", "")):
            seen[name] = [await post(s, base, a, b, token) for a, b in (
                ("pause", {"reason": "r"}), ("exit", {"symbol": SYM, "reason": "r"}), ("ml-mode", {"mode": "on", "reason": "r"}))]
        async with s.post(f"{base}/control/pause", data=b'{"reason": "r"}', headers={"Authorization": f"Basic {good}"}) as r:
            seen["basic"] = r.status
        seen["still_open"] = bot.ledger.open is not None and bot.ledger.open.position_id == pid
        seen["paused"] = (app.controller.paused, bot.entries_paused, app.ml_mode)

    drive(_app(tmp_path, frame, token_file, speed=SLOW), attempts)
    for name in ("wrong", "missing", "empty"):
        assert [code for code, _ in seen[name]] == [401, 401, 401], name
    assert seen["basic"] == 401 and seen["still_open"] and seen["paused"] == (None, None, "off")
    with JournalReader(tmp_path / "j.sqlite") as r:
        assert r.events("CONTROL") == [] and r.meta("entries_paused") is None
        assert not any(t.close_reason == "MANUAL" for t in r.closed_trades())

    unconfigured = tmp_path / "no-token"
    unconfigured.mkdir()

    async def without(app: TraderApp, base: str, s: aiohttp.ClientSession) -> tuple[int, dict]:
        return await post(s, base, "pause", {"reason": "r"}, good)

    code, body = drive(_app(unconfigured, frame, None), without)
    assert code == 403 and "no control token" in body["error"]


def test_a_token_file_readable_by_others_is_refused(tmp_path: Path, synth):
    loose = tmp_path / "loose.token"
    loose.write_text("x" * 40)
    loose.chmod(0o644)
    from trader_runtime.errors import ConfigError

    with pytest.raises(ConfigError, match="chmod 600"):
        _app(tmp_path, replay_slice(synth, WARMUP + 300, 10), loose)


# ------------------------------------------------------------------------------------------------ kill switch, reload, ML
def test_reset_kill_reload_and_ml_mode(tmp_path: Path, synth, token_file: Path):
    path = tmp_path / "j.sqlite"
    journal = Journal(path, durable=False)
    with journal.transaction() as tx:  # a kill switch left active by an earlier run
        tx.add_kill_row(KillRow(SYM, 1, "KILL", "8 consecutive losses", 0))
    journal.close()
    env_file = tmp_path / "trader.env"
    env_file.write_text("SIGNAL_THRESHOLD=4\nATR_SL_MULT=1.5\n")
    loader = lambda sym: resolve_strategy_params(sym, {}, dotenv=_read_dotenv(env_file))  # noqa: E731
    # one candle a second: the replay must outlast the ML switch's look-up of an unreachable registry (seconds on a
    # loaded machine), or it ends with its data before the last control request arrives
    app = _app(tmp_path, replay_slice(synth, WARMUP + 300, 150), token_file, speed=SLOW, params_loader=loader,
               model_cache=tmp_path / "cache", env={"MLFLOW_TRACKING_URI": "http://127.0.0.1:9"})  # no registry here
    token = _token(token_file)
    seen: dict[str, Any] = {}

    async def scenario(app: TraderApp, base: str, s: aiohttp.ClientSession) -> None:
        bot = app.bots[SYM]
        await until(lambda: bot.stats.decisions >= 5, "a few decisions")
        seen["killed_before"] = bot.kill.killed
        seen["reset"] = await post(s, base, "reset-kill", {"symbol": SYM, "reason": "reviewed the losses"}, token)
        seen["killed_after"] = bot.kill.killed
        seen["reload"] = await post(s, base, "reload", {"reason": "tighter"}, token)
        seen["params"] = (bot.params.signal_threshold, bot.executor.params.atr_sl_mult, bot.engine.params.signal_threshold)
        seen["reload_candle"] = bot.stats.last_candle_ms
        env_file.write_text("ATR_SL_MULT=-1\n")
        seen["bad_reload"] = await post(s, base, "reload", {"reason": "typo"}, token)
        seen["params_after_bad"] = bot.params.atr_sl_mult
        seen["ml_bad"] = await post(s, base, "ml-mode", {"mode": "maybe", "reason": "r"}, token)
        seen["ml_on"] = await post(s, base, "ml-mode", {"mode": "on", "reason": "no model here"}, token)
        seen["ml_after_refusal"] = (app.ml_mode, bot.ml_mode)
        seen["ml_shadow"] = await post(s, base, "ml-mode", {"mode": "shadow", "reason": "watch it"}, token)
        seen["ml_after"] = (app.ml_mode, bot.ml_mode)
        seen["shadow_candle"] = bot.stats.last_candle_ms  # the registry look-ups above can take several candles
        await until(lambda: bot.stats.last_candle_ms > seen["shadow_candle"] + 2 * 900_000, "later candles")

    drive(app, scenario)
    assert seen["killed_before"] is True and seen["reset"][0] == 200 and seen["reset"][1]["changed"] is True
    assert seen["killed_after"] is False
    assert seen["reload"][0] == 200 and seen["reload"][1]["changed"] and seen["params"] == (4, 1.5, 4)
    assert "signal_threshold" in seen["reload"][1]["detail"]
    assert seen["bad_reload"][0] == 400 and "ATR_SL_MULT" in seen["bad_reload"][1]["error"] and seen["params_after_bad"] == 1.5
    assert seen["ml_bad"][0] == 400
    assert seen["ml_on"][0] == 409 and seen["ml_after_refusal"] == ("off", "off")
    assert seen["ml_shadow"][0] == 200 and seen["ml_after"] == ("shadow", "shadow")
    with JournalReader(path) as r:
        assert r.kill_rows(SYM)[-1].action == "RESET" and "reviewed" in r.kill_rows(SYM)[-1].reason
        actions = [(e["detail"]["action"], e["detail"]["changed"]) for e in r.events("CONTROL")]
    assert actions == [("reset-kill", True), ("reload", True), ("ml-mode", True)]  # refusals change and record nothing
    d = decisions(path)
    after = d[d["candle_ms"] > seen["shadow_candle"]]
    assert len(after) >= 2 and (after["ml_mode"] == "shadow").all()


# ------------------------------------------------------------------------------------------------ the CLI
def test_cli_ctl_pauses_a_running_replay_and_without_token_is_refused(tmp_path: Path, synth, token_file: Path, capsys):
    app = _app(tmp_path, replay_slice(synth, WARMUP + 300, 150), token_file, speed=SLOW)
    seen: dict[str, Any] = {}

    async def scenario(app: TraderApp, base: str, s: aiohttp.ClientSession) -> None:
        port = str(app.http_port)
        seen["no_token"] = await asyncio.to_thread(cli_main, ["trader", "ctl", "pause", "--reason", "test", "--port", port])
        async with s.get(f"{base}/status") as r:
            seen["before"] = (await r.json())["entries_paused"]["paused"]
        seen["bad_args"] = await asyncio.to_thread(cli_main, ["trader", "ctl", "exit", "--reason", "x", "--port", port])
        seen["ok"] = await asyncio.to_thread(cli_main, ["trader", "ctl", "pause", "--reason", "test", "--port", port,
                                                        "--token-file", str(token_file)])
        async with s.get(f"{base}/status") as r:
            seen["after"] = (await r.json())["entries_paused"]

    drive(app, scenario)
    err = capsys.readouterr()
    assert seen["no_token"] == 1 and seen["before"] is False and "refused (401)" in err.err
    assert seen["bad_args"] == 2
    assert seen["ok"] == 0 and seen["after"]["paused"] is True and seen["after"]["reason"] == "test"
    assert "pause: done" in err.out
    events = control_events(tmp_path / "j.sqlite")
    assert len(events) == 1 and events[0]["action"] == "pause"
    assert cli_main(["trader", "status", "--journal", str(tmp_path / "j.sqlite")]) == 0
    assert "new entries PAUSED since" in capsys.readouterr().out
    assert json.loads(json.dumps(events[0]))["reason"] == "test"
