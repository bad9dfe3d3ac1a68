"""The process dies or stops mid-flow, and a fresh instance starts on the same journal and exchange: graceful stop,
crash between sending an order and recording it, crash before protection, exits while nobody runs, positions the
journal never saw, and a real OS process killed with SIGKILL (D6, 30 §6.9; INC-05/06/24, DEF-01/02/03/04)."""

from __future__ import annotations

import time
from trader_runtime.config import StrategyParams
from trader_runtime.testing.fake_exchange import Delay, FaultRule, client_for

from tests.integration.faults.conftest import MakeRun
from tests.integration.faults.harness import (close_position, closed_trades, decisions, open_position,
                                              seed_position)
from tests.integration.faults.invariants import read_books
from tests.integration.faults.market import FAST_PARAMS, history_for, signal_indices, synthetic_frame

ENTRY = {"method": "POST", "path": "/fapi/v1/order", "params": {"reduceOnly": ""}}


def start(make_run: MakeRun, **kw: object):  # noqa: ANN201 - TradingRun
    return make_run(history=history_for(signal_indices()[0], 2), **kw)


def algo_posts(run) -> int:  # noqa: ANN001
    return sum(1 for m, p, _ in run.fx.requests() if m == "POST" and p == "/fapi/v1/algoOrder")


def test_graceful_stop_keeps_protection_and_cancels_only_strays(make_run: MakeRun) -> None:
    """D6/DEF-02/INC-05: SIGTERM with an open position leaves its SL/TP on the exchange, cancels the stray order of
    a flat symbol, closes both streams promptly; the next start re-attaches the legs without placing new ones
    (DEF-04) and the sibling is cancelled when one fires."""
    quiet = StrategyParams(adx_threshold=100.0)  # DOGEUSDT never signals: it stays flat
    run = make_run(symbols=("XRPUSDT", "DOGEUSDT"), history=history_for(signal_indices()[0], 2),
                   options={"params": {"XRPUSDT": FAST_PARAMS, "DOGEUSDT": quiet}})
    open_position(run, "XRPUSDT")
    client = client_for(run.fx, timeout_s=5)
    doge_last = float(synthetic_frame("DOGEUSDT")["close"].iloc[signal_indices()[0]])
    client.futures_create_order(symbol="DOGEUSDT", side="SELL", type="STOP_MARKET", quantity="100",
                                stopPrice=f"{doge_last * 0.5:.5f}", reduceOnly="true")  # a stray on a flat symbol
    client.close_connection()
    t0 = time.monotonic()
    run.stop()
    assert time.monotonic() - t0 < 10.0
    run.wait_until(lambda r: r.fx.connections()["market"] == 0 and r.fx.connections()["user"] == 0, 5.0,
                   f"both streams closed (open: {run.fx.connections()})")
    books = read_books(run.fx)
    assert {a.order_type for a in books.open_algos("XRPUSDT")} == {"STOP_MARKET", "TAKE_PROFIT_MARKET"}
    assert books.open_algos("DOGEUSDT") == []
    run.check(context="stopped with a protected position")
    placed = algo_posts(run)
    run.start()
    run.check(context="restarted")
    assert algo_posts(run) == placed
    close_position(run, "XRPUSDT")
    run.check(context="exit after the restart")


def test_crash_between_sending_the_entry_and_recording_it(make_run: MakeRun) -> None:
    """The entry executed but the process died before its answer came back: the next instance finds the order by
    its client id (journal INTENT), opens exactly one trade from its fills and protects it before any candle."""
    run = make_run(history=history_for(signal_indices()[0], 1))
    rule = run.fault(FaultRule(**ENTRY, action=Delay(4.0, execute=True)))
    run.advance(settle=False)  # the signal candle
    run.wait_until(lambda r: rule.injected == 1, 10, "the entry request")
    assert run.position() != 0
    run.kill()
    run.start()
    run.check(context="restarted after a crash mid-entry")
    assert len(run.journal_view().trades["XRPUSDT"]) == 1
    close_position(run)
    run.check(context="exit of the recovered trade")


def test_crash_before_protection_is_repaired_at_start_up(make_run: MakeRun) -> None:
    """DEF-01: the process died after the entry and before SL/TP; the next start places both legs from the
    journal's stored levels before processing any candle."""
    run = make_run(history=history_for(signal_indices()[0], 1))
    rule = run.fault(FaultRule(method="POST", path="/fapi/v1/algoOrder", action=Delay(4.0, execute=False)))
    run.advance(settle=False)  # the signal candle
    run.wait_until(lambda r: rule.injected == 1, 10, "the SL request")
    assert read_books(run.fx).open_algos("XRPUSDT") == [] and run.position() != 0
    run.kill()
    run.start()
    run.check(context="legs placed at start-up")
    close_position(run)
    run.check()


def test_exit_while_nobody_runs_is_booked_at_the_next_start(make_run: MakeRun) -> None:
    """30 §6.9/INC-10: SL or TP fires while the process is dead; the next start closes the trade with the income
    PnL and cancels the leg the live venue left behind."""
    run = start(make_run)
    open_position(run)
    run.kill()
    for _ in range(200):
        run.fx.advance()
        if run.position() == 0:
            break
    assert run.position() == 0
    run.start()
    (trade,) = closed_trades(run)
    assert trade.status == "CLOSED"
    run.check(context="booked at start-up")


def test_restart_mid_position_keeps_one_open_trade(make_run: MakeRun) -> None:
    """INC-24/INC-06/DEF-04: a crash with a protected position → one OPEN trade with its entry price, the legs found
    again by id (no duplicate placed), and the sibling cancelled when the exit comes."""
    run = start(make_run)
    open_position(run)
    before = run.journal_view().trades["XRPUSDT"][-1]
    placed = algo_posts(run)
    run.kill()
    run.start()
    after = run.journal_view().trades["XRPUSDT"]
    assert len(after) == 1 and after[0].position_id == before.position_id and after[0].entry_price == before.entry_price
    assert algo_posts(run) == placed
    run.check(context="restarted mid-position")
    close_position(run)
    run.check(context="exit after the crash")


def test_position_unknown_to_the_journal_is_adopted_and_counted(make_run: MakeRun) -> None:
    """INC-24/DEF-03: a position the journal never saw is adopted (marked recovered, anomaly noted), protected,
    and counted by the risk limits: with MAX_SAME_DIRECTION=1 another symbol's LONG is refused."""
    doge_long = signal_indices("DOGEUSDT", side=1)[0]
    wide = StrategyParams(atr_sl_mult=5.0, atr_tp_mult=5.0, adx_threshold=100.0)  # XRPUSDT: far levels, no signals
    run = make_run(symbols=("XRPUSDT", "DOGEUSDT"), history=history_for(doge_long, 2), start=False,
                   env={"MAX_SAME_DIRECTION": 1}, options={"params": {"XRPUSDT": wide, "DOGEUSDT": FAST_PARAMS}})  # fmt: skip
    price = float(synthetic_frame("XRPUSDT")["close"].iloc[doge_long - 2])
    seed_position(run, "XRPUSDT", 500, round(price, 4))
    run.start()
    (adopted,) = run.journal_view().trades["XRPUSDT"]
    assert adopted.recovered == 1 and adopted.anomaly and adopted.side == "LONG"
    run.check(context="adopted at start-up")
    run.advance(2)
    d = decisions(run)
    doge = d[(d["symbol"] == "DOGEUSDT") & (d["signal"] == 1)]
    assert run.position("XRPUSDT") > 0 and run.position("DOGEUSDT") == 0
    assert list(doge["action"]) == ["BLOCKED_RISK"]
    run.check(context="after the refused LONG")
    run.fx.close_position_externally("XRPUSDT")
    run.quiesce()
    (closed,) = closed_trades(run)
    assert closed.recovered == 1 and closed.anomaly  # still marked as adopted after its close (INC-24)
    run.check(context="adopted trade closed")


def test_real_process_killed_with_sigkill_recovers(make_run: MakeRun) -> None:
    """A real `cointrader trader run` process, SIGKILLed with an open position; candles and the exit continue while
    it is dead; a new process settles everything at start-up; SIGTERM then ends it with exit code 0."""
    run = start(make_run, start=False)
    run.start(process=True)
    open_position(run)
    run.check(context="process trading")
    run.kill()
    run.fx.advance(3)
    run.start(process=True)
    run.check(context="new process after SIGKILL")
    run.advance(2)
    run.stop()
    assert run.service is not None and run.service.exit_code == 0
    run.check(context="process stopped")
