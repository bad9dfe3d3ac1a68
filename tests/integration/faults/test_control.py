"""Control actions against the fake exchange (live venue, real python-binance adapter), every invariant checked:
pause then signals → no entry while the open position's SL/TP still closes it; force-exit → market close recorded
as MANUAL with its legs cancelled; a wrong or missing token changes nothing on the exchange or in the journal."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from trader_runtime.credentials import write_private_file
from trader_runtime.storage.journal import JournalReader

from tests.integration.faults.conftest import MakeRun
from tests.integration.faults.harness import TradingRun, close_position, closed_trades, decisions, open_position
from tests.integration.faults.invariants import read_books
from tests.integration.faults.market import history_for, signal_indices


@pytest.fixture()
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "control.token"
    write_private_file(path)
    return path


def controlled_run(make_run: MakeRun, token_file: Path) -> TradingRun:
    return make_run(history=history_for(signal_indices()[0], 2), env={"COINTRADER_CONTROL_TOKEN_FILE": str(token_file)},
                    options={"http_port": 0, "reconcile_interval_s": 3600.0})  # fmt: skip


def control(run: TradingRun, action: str, body: dict[str, Any], token: str | None) -> tuple[int, dict[str, Any]]:
    """POST to the running service's endpoint from the test thread, as `cointrader trader ctl` does."""
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token is not None else {})}
    req = urllib.request.Request(f"http://127.0.0.1:{run.app.http_port}/control/{action}", data=json.dumps(body).encode(),
                                 headers=headers, method="POST")  # fmt: skip
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_pause_blocks_entries_but_the_open_position_still_exits(make_run: MakeRun, token_file: Path) -> None:
    run = controlled_run(make_run, token_file)
    token = token_file.read_text().strip()
    open_position(run)
    code, body = control(run, "pause", {"reason": "exchange maintenance"}, token)
    assert code == 200 and body["changed"] is True
    paused_from = run.last_candle_ms
    trade = close_position(run)  # its SL or TP fires on the exchange while entries are paused
    assert trade.close_reason in ("SL", "TP")
    run.advance(40)
    assert run.position() == 0  # no entry on the signals that came
    d = decisions(run)
    after = d[d["candle_ms"] > paused_from]
    assert (after["action"] == "BLOCKED_PAUSED").any() and not after["action"].isin(["ENTRY", "REVERSE"]).any()
    run.check(context="paused")
    assert control(run, "resume", {"reason": "maintenance over"}, token)[0] == 200
    open_position(run, limit=200)  # entries again
    run.check(context="resumed")


def test_force_exit_closes_at_market_with_reason_manual(make_run: MakeRun, token_file: Path) -> None:
    run = controlled_run(make_run, token_file)
    token = token_file.read_text().strip()
    open_position(run)
    control(run, "pause", {"reason": "stay flat after the exit"}, token)
    code, body = control(run, "exit", {"symbol": "XRPUSDT", "reason": "operator close"}, token)
    assert code == 200 and body["changed"] is True and "MANUAL" in body["detail"]
    run.quiesce()
    assert run.position() == 0
    trades = closed_trades(run)
    assert [t.close_reason for t in trades] == ["MANUAL"]
    books = read_books(run.fx)
    assert not [a for a in books.algos if a.status == "NEW"]  # its SL/TP were cancelled: no orphan left
    run.check(context="after the manual exit")


def test_wrong_or_missing_token_changes_nothing(make_run: MakeRun, token_file: Path) -> None:
    run = controlled_run(make_run, token_file)
    open_position(run)
    before = run.position()
    for token in ("wrong-token-0123456789abcdef", None):
        for action, body in (("exit", {"symbol": "XRPUSDT", "reason": "r"}), ("pause", {"reason": "r"})):
            assert control(run, action, body, token)[0] == 401
    run.quiesce()
    assert run.position() == before and closed_trades(run) == []
    assert run.app.controller.paused is None and run.app.bots["XRPUSDT"].entries_paused is None
    with_events = run.journal_view()
    assert with_events.trades["XRPUSDT"][-1].status == "OPEN"
    run.check(context="after refused control calls")


def test_reset_kill_reload_and_ml_mode_on_a_live_venue(make_run: MakeRun, token_file: Path, tmp_path: Path) -> None:
    """The other actions against the live adapter: each is in force from the next candle and trading stays sound."""
    from trader_runtime.config import StrategyParams

    tighter = StrategyParams(atr_sl_mult=1.2, atr_tp_mult=1.4, signal_threshold=2, adx_threshold=15.0, volume_multiplier=1.5)
    run = make_run(history=history_for(signal_indices()[0], 2),
                   env={"COINTRADER_CONTROL_TOKEN_FILE": str(token_file), "MLFLOW_TRACKING_URI": "http://127.0.0.1:9"},
                   options={"http_port": 0, "model_cache": tmp_path / "cache", "params_loader": lambda symbol: tighter})  # fmt: skip
    token = token_file.read_text().strip()
    run.advance(1)  # the next candle carries the first signal
    code, body = control(run, "reset-kill", {"symbol": "XRPUSDT", "reason": "start clean"}, token)
    assert code == 200 and body["changed"] is False  # it was not tripped; the history marker moves anyway
    code, body = control(run, "reload", {"reason": "wider exits"}, token)
    assert code == 200 and body["changed"] is True and run.app.bots["XRPUSDT"].executor.params == tighter
    assert control(run, "ml-mode", {"mode": "on", "reason": "no registry here"}, token)[0] == 409
    code, body = control(run, "ml-mode", {"mode": "shadow", "reason": "watch"}, token)
    assert code == 200 and run.app.ml_mode == "shadow"
    reload_candle = run.last_candle_ms
    open_position(run, limit=200)
    d = decisions(run)
    assert (d[d["candle_ms"] > reload_candle]["ml_mode"] == "shadow").all()
    trade = run.journal_view().trades["XRPUSDT"][-1]
    assert trade.sl is not None and trade.tp is not None
    assert abs(trade.tp - trade.entry_price) / abs(trade.entry_price - trade.sl) == pytest.approx(1.4 / 1.2, rel=0.02)
    with JournalReader(run.journal) as r:
        assert [e["detail"]["action"] for e in r.events("CONTROL")] == ["reset-kill", "reload", "ml-mode"]
    run.check(context="after reset-kill, reload and ML shadow")
