"""The service as a whole, in replay mode: restarts, persistence of risk state, shutdown policy, configuration."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import numpy as np
import pytest

from fixtures.mlflow_store import fresh_store, mlflow_template  # noqa: F401  (fixture)
from fixtures.trader import (
    RELAXED,
    WARMUP,
    decided,
    decisions,
    journal_trades,
    replay_slice,
    run_replay,
    run_replay_until,
    settings,
)
from trader_runtime.cli.main import main as cli
from trader_runtime.errors import ConfigError
from trader_runtime.exchange.replay import VENUE_KEY
from trader_runtime.service.app import TraderApp, TraderOptions
from trader_runtime.storage.journal import MS_PER_DAY, Journal, JournalReader, TradeRow


def _fake_history(path: Path, pnls: list[float], last_exit_ms: int, day_base: tuple[int, float] | None = None) -> None:
    """Closed trades a previous run would have left in the journal (oldest first, last one at `last_exit_ms`)."""
    j = Journal(path, durable=False)
    j.claim_mode("replay")
    with j.transaction() as tx:
        for k, pnl in enumerate(pnls):
            t = last_exit_ms - (len(pnls) - k) * 3_600_000
            pid = f"old-{k}"
            tx.open_trade(TradeRow(pid, "XRPUSDT", "LONG", "OPEN", "replay", t - 1_800_000, 2.0, 100.0, entry_fee=0.08))
            tx.update_trade(pid, status="CLOSED", exit_time_ms=t, exit_price=2.0, gross_pnl=pnl + 0.16, exit_fee=0.08,
                            net_pnl=pnl, close_reason="SL")
        if day_base is not None:
            tx.set_daily_base(day_base[0], day_base[1], day_base[0])
    j.close()


def _first_signal(market, start: int, stop: int) -> int:
    sig = market.signals(RELAXED).signal
    hits = np.flatnonzero(sig[start:stop]) + start
    assert hits.size, "no entry signal in the chosen range"
    return int(hits[0])


def test_kill_switch_survives_restarts_until_reset(tmp_path: Path, synth, market, webhook):
    start = WARMUP + 100
    length = 120
    path = tmp_path / "j.sqlite"
    _fake_history(path, [-1.0] * 8, market.index[start - 1].value // 1_000_000)
    frame = replay_slice(synth, start, length)
    env = {"DISCORD_WEBHOOK_URL": webhook.url}
    first = _first_signal(market, start, start + length) - start
    run_replay_until(path, frame, decided(first + 2), env=env)  # first run: killed at boot, silently
    run_replay_until(path, frame, decided(20), env=env)  # restart: still killed
    with JournalReader(path) as r:
        kills = r.kill_rows("XRPUSDT")
    d = decisions(path)
    assert [k.action for k in kills] == ["KILL"] and "start-up" in kills[0].reason
    assert (d[d["signal"] != 0]["action"] == "BLOCKED_KILL").all() and (d["signal"] != 0).any()
    assert len(journal_trades(path, status=None)) == 8  # only the old ones
    assert not any("KILL SWITCH" in m for m in webhook.messages)  # boot activation is silent (30 §8.2)
    assert all(m.startswith("[REPLAY] ") for m in webhook.messages)  # mode in every message (D4)

    assert cli(["trader", "reset-kill", "XRPUSDT", "--journal", str(path)]) == 0
    run_replay(path, frame, env=env)  # third start: the reset row is honoured, entries resume
    with JournalReader(path) as r:
        assert [k.action for k in r.kill_rows("XRPUSDT")] == ["KILL", "RESET"]
    assert len(journal_trades(path, status=None)) > 8


def test_daily_limit_holds_across_a_restart_and_lifts_at_utc_midnight(tmp_path: Path, synth, market):
    idx = market.index
    midnights = [i for i in range(WARMUP + 60, len(idx) - 60) if idx[i].hour == 0 and idx[i].minute == 0]
    sig = market.signals(RELAXED).signal
    m = next(i for i in midnights if sig[i - 40 : i].any() and sig[i : i + 40].any())
    start, length = m - 40, 80
    day = idx[start].value // 1_000_000 // MS_PER_DAY * MS_PER_DAY
    path = tmp_path / "j.sqlite"
    _fake_history(path, [-60.0], idx[start].value // 1_000_000 - 60_000, day_base=(day, 1000.0))
    frame = replay_slice(synth, start, length)
    first = _first_signal(market, start, m) - start
    run_replay_until(path, frame, decided(first + 1))  # stops on day D after a blocked signal
    run_replay(path, frame)  # restart on the same UTC day, runs past midnight
    d = decisions(path)
    d["day"] = d["candle_ms"] // MS_PER_DAY * MS_PER_DAY
    before, after = d[d["day"] == day], d[d["day"] > day]
    assert (before[before["signal"] != 0]["action"] == "BLOCKED_DAILY").all() and (before["signal"] != 0).any()
    assert after["action"].isin(["ENTRY", "REVERSE"]).any()
    with JournalReader(path) as r:
        assert r.daily_base(day) == 1000.0 and r.daily_base(day + MS_PER_DAY) is not None
    new = journal_trades(path, status=None)
    assert (new["entry_candle_ms"].dropna() >= day + MS_PER_DAY).sum() >= 1
    assert not ((new["entry_candle_ms"] >= idx[start].value // 1_000_000) & (new["entry_candle_ms"] < day + MS_PER_DAY)).any()


def _open_position(app: TraderApp) -> bool:
    return any(b.ledger.open is not None and len(b.ledger.legs("NEW")) == 2 for b in app.bots.values())


def test_shutdown_keeps_protection_and_a_restart_reattaches_without_duplicates(tmp_path: Path, synth, market):
    start, length = WARMUP + 300, 200
    path = tmp_path / "j.sqlite"
    frame = replay_slice(synth, start, length)
    run_replay_until(path, frame, _open_position)
    with JournalReader(path) as r:
        venue = r.venue_state(VENUE_KEY)
        trade = r.open_trade("XRPUSDT")
        legs = [o for o in r.orders(position_id=trade.position_id) if o.purpose in ("SL", "TP")]
    assert trade is not None and {o.status for o in legs} == {"NEW"}
    assert sorted(leg["purpose"] for leg in venue["legs"].values()) == ["SL", "TP"]  # D6: SL/TP left on the exchange

    run_replay_until(path, frame, decided(1))  # restart mid-position
    with JournalReader(path) as r:
        assert len(r.open_trades()) <= 1
        placed = [o for o in r.orders(position_id=trade.position_id) if o.purpose in ("SL", "TP")]
        assert len(placed) == 2  # re-attached, nothing placed twice (INC-24, DEF-04)
        events = r.events("ADOPT")
    assert events == []


def test_crash_between_sending_an_entry_and_recording_it_is_adopted_once(tmp_path: Path, synth, market):
    start, length = WARMUP + 300, 200
    path = tmp_path / "j.sqlite"
    frame = replay_slice(synth, start, length)
    run_replay_until(path, frame, _open_position)
    j = Journal(path, durable=False)
    trade = j.open_trade("XRPUSDT")
    # what the journal holds if the process died right after the exchange filled the entry
    j._con.execute("DELETE FROM trades WHERE position_id = ?", (trade.position_id,))
    j._con.execute("DELETE FROM fills WHERE position_id = ?", (trade.position_id,))
    j._con.execute("DELETE FROM orders WHERE position_id = ? AND purpose != 'ENTRY'", (trade.position_id,))
    j._con.execute("UPDATE orders SET status = 'INTENT', exchange_id = NULL WHERE client_id = ?", (trade.position_id,))
    j.close()
    run_replay_until(path, frame, decided(1))
    with JournalReader(path) as r:
        again = r.open_trade("XRPUSDT") or r.trade(trade.position_id)
        legs = [o for o in r.orders(position_id=trade.position_id) if o.purpose in ("SL", "TP")]
    assert again.position_id == trade.position_id and again.entry_price == trade.entry_price and again.quantity == trade.quantity
    assert again.recovered == 1 and len(legs) == 2  # the venue's SL/TP were adopted, none placed again


@pytest.mark.parametrize(
    "env,match",
    [
        ({"SYMBOLS": "XRPUSDT,XRPUSDT"}, "more than once"),
        ({"ML_MODE": "on", "MLFLOW_TRACKING_URI": "sqlite:///{tmp}/empty.db"}, "ML_MODE=on but no usable model"),
    ],
    ids=["duplicate-symbols", "ml-on-without-model"],
)
def test_bad_configuration_stops_before_any_order(tmp_path: Path, synth, env, match, mlflow_template):
    env = {k: v.format(tmp=tmp_path) for k, v in env.items()}
    if "MLFLOW_TRACKING_URI" in env:
        fresh_store(mlflow_template, tmp_path, "empty.db")  # an initialised store without any model
    path = tmp_path / "j.sqlite"
    with pytest.raises(ConfigError, match=match):
        app = TraderApp(settings(**env), TraderOptions(journal_path=path, http_port=None, model_cache=tmp_path / "cache"))
        asyncio.run(app.run())
    assert not path.exists()


def test_a_journal_of_another_mode_is_refused(tmp_path: Path, synth):
    path = tmp_path / "j.sqlite"
    Journal(path).claim_mode("live")
    with pytest.raises(ConfigError, match="belongs to mode 'live'"):
        run_replay(path, replay_slice(synth, WARMUP + 10, 5))
    with JournalReader(path) as r:
        assert r.order_count() == 0


def test_secrets_never_reach_logs_store_or_status(tmp_path: Path, synth, webhook, capfd, monkeypatch):
    from trader_runtime.logs import configure_logging

    key, secret = "AKfake0123456789apikey", "SKfake9876543210secret"
    hook = webhook.url + "?token=hooktoken0123456789"
    env = {"BINANCE_API_KEY": key, "BINANCE_API_SECRET": secret, "DISCORD_WEBHOOK_URL": hook}
    configure_logging(logging.DEBUG)
    try:
        path = tmp_path / "j.sqlite"
        app = run_replay(path, replay_slice(synth, WARMUP + 300, 60), env=env)
        logging.getLogger("test").warning("echo of a key in a log line: %s / %s / %s", key, secret, hook)
        out = capfd.readouterr()
        text = out.out + out.err + repr(app.settings) + repr(app.notifier)
    finally:
        logging.getLogger().handlers.clear()
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("j.sqlite*"))
    assert "decision symbol=XRPUSDT" in text  # the logs were captured
    for s in (key, secret, "hooktoken0123456789"):
        assert s not in text and s.encode() not in stored
    assert any(m.startswith("[REPLAY]") for m in webhook.messages)  # the webhook itself was used


def test_two_symbols_share_one_account_and_risk_manager(tmp_path: Path):
    from trader_runtime.exchange.factory import ReplaySource
    from trader_runtime.market.synthetic import generate_market

    frames = {s: generate_market(s, 12, seed=11).combined.iloc[-(WARMUP + 100) :] for s in ("XRPUSDT", "DOGEUSDT")}
    opts = TraderOptions(journal_path=tmp_path / "j.sqlite", replay=ReplaySource(frames=frames), http_port=None,
                         params={s: RELAXED for s in frames})
    app = TraderApp(settings(SYMBOLS="XRPUSDT,DOGEUSDT", MAX_SAME_DIRECTION=1), opts)
    asyncio.run(app.run())
    d = decisions(tmp_path / "j.sqlite")
    assert d.groupby("symbol").size().to_dict() == {"DOGEUSDT": 100, "XRPUSDT": 100}
    trades = journal_trades(tmp_path / "j.sqlite", status=None)
    assert set(trades["symbol"]) == {"XRPUSDT", "DOGEUSDT"} and (trades["status"] == "CLOSED").all()
    # never two positions in the same direction at once (MAX_SAME_DIRECTION=1, shared registry)
    for side in ("LONG", "SHORT"):
        t = trades[trades["side"] == side].sort_values("entry_time_ms")
        assert (t["entry_time_ms"].iloc[1:].to_numpy() >= t["exit_time_ms"].iloc[:-1].cummax().to_numpy()).all()
    assert (d["action"] == "BLOCKED_RISK").any()
