"""Risk state that must outlive the process: the kill switch (one alert per activation, reset marker) and the
daily-loss block with its start-of-day base (spec 30 §7, §8; D1, D2; INC-14, DEF-11, DEF-12)."""

from __future__ import annotations

import argparse

from trader_runtime.cli.trader import cmd_reset_kill
from trader_runtime.config import StrategyParams
from trader_runtime.risk.risk_manager import utc_day_ms

from tests.integration.faults.conftest import MakeRun
from tests.integration.faults.harness import closed_trades, decisions
from tests.integration.faults.invariants import read_journal
from tests.integration.faults.market import FAST_PARAMS, first_trade_window, history_for
from tests.integration.faults.webhook import WebhookSink

#: a stop a third of an ATR away and a far target: a run of small losses (the slow bleed of INC-14)
BLEED = StrategyParams(atr_sl_mult=0.3, atr_tp_mult=5.0, signal_threshold=2, adx_threshold=10.0, volume_multiplier=1.2)
SYM = "XRPUSDT"


def last_action(run, wanted: set[str]) -> str | None:  # noqa: ANN001
    d = decisions(run)
    hits = d[d["action"].isin(wanted)]
    return None if hits.empty else str(hits["action"].iloc[-1])


def test_kill_switch_survives_a_crash_alerts_once_and_resets_by_marker(make_run: MakeRun) -> None:
    """INC-14: 8 straight net losses stop new entries with one alert; a crash and restart keep it active without a
    second alert (boot is silent); `reset-kill` writes a marker, entries resume and only later trades count
    (DEF-12); exits keep working throughout (D1)."""
    entry, _ = first_trade_window(BLEED, "SL")
    with WebhookSink() as hook:
        run = make_run(params=BLEED, history=history_for(entry, 1), env={"LEVERAGE": 2, "DISCORD_WEBHOOK_URL": hook.url})
        run.advance_until(lambda r: read_journal(r.journal, [SYM]).kill[SYM], 400, "the kill switch")
        losses = [t.net_pnl for t in closed_trades(run)][-8:]
        assert len(losses) == 8 and all(p < 0 for p in losses)
        run.check(context="killed")
        run.restart(kill=True)
        assert run.app.bots[SYM].kill.killed
        run.advance_until(lambda r: last_action(r, {"BLOCKED_KILL"}) is not None, 200, "a signal blocked by the kill switch")
        run.check(context="still killed after a crash")
        cmd_reset_kill(argparse.Namespace(symbol=SYM, config=None, journal=run.journal, mode="live"))
        run.advance_until(lambda r: r.position() != 0, 200, "an entry after the reset")
        assert not run.app.bots[SYM].kill.killed
        run.advance_until(lambda r: r.position() == 0, 200, "the exit of that entry")
        assert not run.app.bots[SYM].kill.killed  # one trade after the marker cannot re-kill (DEF-12)
        run.check(context="after the reset")
        run.wait_until(lambda r: len(hook.containing("KILL SWITCH")) >= 1, 5, "the kill alert")
        assert len(hook.containing("KILL SWITCH")) == 1


def test_daily_loss_block_survives_a_restart_and_ends_at_utc_midnight(make_run: MakeRun) -> None:
    """DEF-11/D2: a loss of more than 5 % of the day's base blocks entries; a crash and restart on the same UTC day
    keep the block and the stored base; the next UTC day gets a new base and entries resume. Exits are never
    blocked (D1)."""
    entry, exit_ = first_trade_window(FAST_PARAMS, "SL")
    run = make_run(history=history_for(entry, 1), env={"LEVERAGE": 40})
    run.advance(exit_ - entry + 1)
    (loss,) = closed_trades(run)
    assert loss.close_reason == "SL" and run.app.risk.daily_limited()
    day = utc_day_ms(loss.exit_time_ms)
    base = read_journal(run.journal, [SYM]).daily_bases[day]
    assert -loss.net_pnl >= 0.05 * base
    run.restart(kill=True)
    assert run.app.risk.daily_limited() and run.app.risk.day_base == base and run.app.risk.day_ms == day
    run.check(context="blocked after the restart")
    run.advance_until(lambda r: (r.last_candle_ms or 0) >= day + 86_400_000 or last_action(r, {"BLOCKED_DAILY"}) is not None,
                      200, "a blocked signal or the next day")  # fmt: skip
    next_day = day + 86_400_000
    while (run.last_candle_ms or 0) + 900_000 <= next_day:
        run.advance()
    run.advance_until(lambda r: r.position() != 0, 300, "an entry on the next UTC day")
    bases = read_journal(run.journal, [SYM]).daily_bases
    assert next_day in bases and bases[next_day] < base
    assert not run.app.risk.daily_limited()
    run.check(context="next UTC day")
