"""Faults on the websocket side: duplicated, reordered, dropped and truncated user events, dropped and silent
streams, an expired listen key, a failing listen-key endpoint. The service must recover on its own and the books
must agree afterwards (spec 30 §3.5, §6.2, §6.8; INC-08/10/16/17/19, DEF-09/10)."""

from __future__ import annotations

import time

import pytest

from trader_runtime.testing.fake_exchange import (Delay, DropConnection, DropEvent, Duplicate, EditEvent, ExpireListenKey,
                                                  FaultRule, Reorder, Silence, server_error)

from tests.integration.faults.conftest import MakeRun
from tests.integration.faults.harness import close_position, closed_trades, decisions, open_position
from tests.integration.faults.market import FAST_PARAMS, batch_signals, history_for, signal_indices

FILL = {"e": "ORDER_TRADE_UPDATE", "x": "TRADE"}
EXIT_FILL = {**FILL, "R": "true"}
RECONCILE_S = 1.0


def start(make_run: MakeRun, **kw: object):  # noqa: ANN201 - TradingRun
    return make_run(history=history_for(signal_indices()[0], 2), **kw)


def test_duplicated_and_reordered_fill_events_count_once(make_run: MakeRun) -> None:
    """INC-17 C3/DEF-07: every fill event arrives twice and some arrive late — each trade is recorded once."""
    run = start(make_run)
    run.fault(FaultRule(params=FILL, action=Duplicate(2), times=None))
    run.fault(FaultRule(params={"e": "ORDER_TRADE_UPDATE"}, action=Reorder(2), times=None, skip=1))
    open_position(run)
    close_position(run)
    open_position(run, limit=300)
    run.check(context="duplicated + reordered events")


def test_exit_never_seen_on_the_stream_is_closed_by_reconciliation(make_run: MakeRun) -> None:
    """INC-10/INC-16c: the exit fill is lost; reconciliation closes the trade with the income-history PnL (SYNC or
    the stored leg), cancels the orphan leg, and the symbol trades again afterwards."""
    run = start(make_run, options={"reconcile_interval_s": RECONCILE_S})
    rule = run.fault(FaultRule(params=EXIT_FILL, action=DropEvent(), times=None))
    open_position(run)
    run.advance_until(lambda r: r.position() == 0, 200, "the exchange-side exit")
    assert rule.injected >= 1
    run.wait_until(lambda r: closed_trades(r) != [], 4 * RECONCILE_S + 5, "reconciliation of the missed exit")
    run.check(context="after reconciling a missed exit")
    open_position(run, limit=300)
    run.check(context="trading again after the missed exit")


def test_exit_event_without_price_is_never_recorded_at_zero(make_run: MakeRun) -> None:
    """INC-08: a FILLED reduce-only event without `ap`/`L` is not a close at price 0; reconciliation settles it."""
    run = start(make_run, options={"reconcile_interval_s": RECONCILE_S})
    run.fault(FaultRule(params=EXIT_FILL, action=EditEvent(remove=("ap", "L")), times=None))
    open_position(run)
    run.advance_until(lambda r: r.position() == 0, 200, "the exchange-side exit")
    run.wait_until(lambda r: closed_trades(r) != [], 4 * RECONCILE_S + 5, "reconciliation of the priceless exit")
    (trade,) = closed_trades(run)
    assert trade.exit_price and trade.exit_price > 0
    run.check(context="after an exit event without price")


def test_market_stream_drop_backfills_the_missed_candles(make_run: MakeRun) -> None:
    """INC-16a/DEF-09: the kline socket drops and two candles close while it is down; after the reconnect both are
    in the buffer before the next decision — every decision equals the batch computation over the same candles."""
    run = make_run()
    run.advance(3)
    run.fx.inject(DropConnection("market"))
    run.advance(2, settle=False)  # closed while nobody listens
    run.settle(timeout=20)
    last = run.advance(3)
    d = decisions(run).set_index("candle_ms")
    batch = batch_signals(FAST_PARAMS).loc[d.index]
    assert d.index[-1] == last and len(d) == 8 and d.index.is_monotonic_increasing
    assert (d["long_score"].to_numpy() == batch["long_score"].to_numpy()).all()
    assert (d["short_score"].to_numpy() == batch["short_score"].to_numpy()).all()
    assert (d["signal"].to_numpy() == batch["signal"].to_numpy()).all()
    run.check()


def test_silent_market_stream_is_replaced_on_its_own(make_run: MakeRun) -> None:
    """Watchdog on the last message age: a socket that stays open but delivers nothing is replaced, and the
    candles closed meanwhile are backfilled."""
    run = make_run()
    run.advance(2)
    run.fx.inject(Silence("market"))
    run.advance(2, settle=False)
    run.settle(timeout=20)
    run.advance(1)
    assert len(decisions(run)) == 5
    run.check()


@pytest.mark.parametrize("fault", [DropConnection("user"), ExpireListenKey(), ExpireListenKey(close_connection=True)],
                         ids=["drop", "key-expired", "key-expired-closed"])
def test_user_stream_fault_reconnects_with_a_fresh_key_and_fills_flow_again(make_run: MakeRun, fault) -> None:
    """INC-19: after a drop or an expired listen key the stream is rebuilt (fresh client and key) and the next
    exit arrives through it (reason from the fired leg, not a SYNC guess)."""
    run = start(make_run, options={"reconcile_interval_s": 3600.0})
    open_position(run)
    users = run.fx.connections()["user_total"]
    run.fx.inject(fault)
    run.wait_until(lambda r: r.fx.connections()["user_total"] > users and r.fx.connections()["user"] >= 1, 10, "a new user stream")
    trade = close_position(run)
    assert trade.close_reason in ("SL", "TP")
    if isinstance(fault, ExpireListenKey):
        assert len(set(run.app.exchange.user.listen_keys)) >= 2  # type: ignore[union-attr]
    run.check(context="after a user stream fault")


def test_fill_during_the_user_stream_gap_is_found_after_the_reconnect(make_run: MakeRun) -> None:
    """INC-19: the exit happens while the user stream is down; the reconciliation that every reconnect triggers
    records it at once (the periodic one is an hour away here)."""
    run = start(make_run, options={"reconcile_interval_s": 3600.0})
    open_position(run)
    for _ in range(200):
        users = run.fx.connections()["user_total"]
        run.fx.inject(DropConnection("user"))
        run.advance(settle=False)  # the exit, if this candle brings one, is published to nobody
        run.wait_until(lambda r: r.fx.connections()["user_total"] > users, 10, "the user stream reconnect")
        run.settle()
        if run.position() == 0:
            break
    run.wait_until(lambda r: closed_trades(r) != [], 10, "the post-reconnect reconciliation")
    run.check(context="after an exit during the gap")


def test_silent_user_stream_is_covered_by_periodic_reconciliation(make_run: MakeRun) -> None:
    """INC-19's symptom (connected, nothing delivered): exits are still booked by the periodic reconciliation
    within its interval, with the exchange's PnL."""
    run = start(make_run, options={"reconcile_interval_s": RECONCILE_S})
    open_position(run)
    run.fx.inject(Silence("user"))
    run.advance_until(lambda r: r.position() == 0, 200, "the exchange-side exit")
    t0 = time.monotonic()
    run.wait_until(lambda r: closed_trades(r) != [], 4 * RECONCILE_S + 5, "the periodic reconciliation")
    assert time.monotonic() - t0 < 4 * RECONCILE_S + 5
    run.check(context="exit seen only by reconciliation")


def test_listen_key_endpoint_failing_at_start_is_retried(make_run: MakeRun) -> None:
    """DEF-10: creating the user stream fails twice; the stream comes up by itself and exits flow through it."""
    run = make_run(history=history_for(signal_indices()[0], 2), start=False, options={"reconcile_interval_s": 3600.0})
    rule = run.fault(FaultRule(method="POST", path="/fapi/v1/listenKey", times=2, error=server_error(503)))
    run.start()
    assert rule.injected == 2
    open_position(run)
    assert close_position(run).close_reason in ("SL", "TP")
    run.check()


def test_candle_closed_before_the_first_stream_connection_is_decided(make_run: MakeRun) -> None:
    """DEF-09 at start-up: a candle that closes after the history was read but before the kline socket is up is
    backfilled on the first connection (the streams' clients are held up 0.5 s here; the adapter's own start
    passes)."""
    run = make_run(start=False)
    run.fault(FaultRule(method="GET", path="/fapi/v1/time", skip=1, times=2, action=Delay(0.5)))
    service = run.service_only()
    closed_at = run.advance(settle=False)
    run.wait_streams_of(service)
    run.settle(closed_at)
    assert list(decisions(run)["candle_ms"]) == [closed_at]
    run.check()


def test_entry_fill_lost_on_the_stream_does_not_delay_protection(make_run: MakeRun) -> None:
    """30 §5.4: the entry's fill events never arrive; the order answer said FILLED, so the fills are read over REST
    after a short grace and SL/TP go on within the retry budget (not after the 10 s stream wait)."""
    run = start(make_run)
    rule = run.fault(FaultRule(params={**FILL, "R": "false"}, action=DropEvent(), times=None))
    open_position(run)
    assert rule.injected >= 1
    assert run.monitor is not None and run.monitor.longest() < 1.5
    run.check(context="entry fills read over REST")
    close_position(run)
    run.check()


def test_market_data_endpoints_failing_never_stop_decisions(make_run: MakeRun) -> None:
    """INC-03/INC-16d: open interest and funding fail for several candles (then recover); every candle is still
    decided — the inputs are NaN, the previous OI is kept — and trading goes on."""
    run = make_run(history=history_for(signal_indices()[0], 3))
    oi = run.fault(FaultRule(path="/fapi/v1/openInterest", times=4, error=server_error(500)))
    funding = run.fault(FaultRule(path="/fapi/v1/premiumIndex", times=4, error=server_error(503)))
    first = run.advance()
    last = run.advance(5)
    assert oi.injected == 4 and funding.injected == 4
    assert list(decisions(run)["candle_ms"]) == list(range(first, last + 1, 900_000))
    open_position(run, limit=200)
    run.check()
