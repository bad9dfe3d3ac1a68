"""REST faults around orders: SL/TP retries and the emergency close, timeouts with and without execution, business
rejections, rate limits, server errors and partial fills (spec 30 §5.1–5.5, STYLE 2.7; INC-13/17/20, DEF-07/08)."""

from __future__ import annotations

import logging

import pytest

from trader_runtime.testing.fake_exchange import (Delay, DropEvent, FaultRule, PartialFill, binance_error, order_rejected,
                                                  rate_limited, server_error)

from tests.integration.faults.conftest import MakeRun
from tests.integration.faults.harness import REST_TIMEOUT_S, close_position, closed_trades, decisions, open_position
from tests.integration.faults.invariants import read_books
from tests.integration.faults.market import history_for, signal_indices

ENTRY = {"method": "POST", "path": "/fapi/v1/order"}
ALGO = {"method": "POST", "path": "/fapi/v1/algoOrder"}


def start_before_signal(make_run: MakeRun, lead: int = 2, **kw: object):  # noqa: ANN201 - TradingRun
    return make_run(history=history_for(signal_indices()[0], lead), **kw)


def algo_posts(run, kind: str) -> int:  # noqa: ANN001
    return sum(1 for m, p, params in run.fx.requests() if m == "POST" and p == "/fapi/v1/algoOrder" and params.get("type") == kind)


def test_take_profit_fails_twice_then_is_placed(make_run: MakeRun) -> None:
    """INC-17 C1: SL ok, TP refused twice → SL sent once, TP three times, no emergency close."""
    run = start_before_signal(make_run)
    rule = run.fault(FaultRule(**ALGO, params={"type": "TAKE_PROFIT_MARKET"}, times=2, error=order_rejected(-2021)))
    open_position(run)
    assert rule.injected == 2
    assert (algo_posts(run, "STOP_MARKET"), algo_posts(run, "TAKE_PROFIT_MARKET")) == (1, 3)
    assert closed_trades(run) == []
    run.check(context="protected after two TP retries")


@pytest.mark.parametrize("error", [order_rejected(-2021), server_error(503)], ids=["rejected", "5xx"])
def test_protection_never_placed_means_emergency_close(make_run: MakeRun, error) -> None:
    """INC-17/DEF-07: three failed attempts → emergency MARKET reduce-only close of the whole position, recorded
    once as EMERGENCY with its real PnL from the fill; the position was bare no longer than the retry budget."""
    run = start_before_signal(make_run)
    run.fault(FaultRule(**ALGO, params={"type": "TAKE_PROFIT_MARKET"}, times=3, error=error))
    run.advance_until(lambda r: closed_trades(r) != [], 40, "the emergency close")
    (trade,) = closed_trades(run)
    assert trade.close_reason == "EMERGENCY" and run.position() == 0
    assert trade.exit_fee and trade.exit_fee > 0  # the real fill, not a 0.0 placeholder (DEF-07)
    run.check(context="after the emergency close")


def test_entry_timeout_after_execution_is_looked_up_not_resent(make_run: MakeRun) -> None:
    """STYLE 2.7: the entry executed but its answer never came → the order is looked up, the trade opened once
    and protected; the order is never sent twice."""
    run = start_before_signal(make_run)
    run.fault(FaultRule(**ENTRY, params={"reduceOnly": ""}, action=Delay(REST_TIMEOUT_S * 3, execute=True)))
    open_position(run)
    entries = [p for m, path, p in run.fx.requests() if m == "POST" and path == "/fapi/v1/order"]
    assert len(entries) == 1
    run.advance(2)
    run.check(context="entry recovered after a timeout")


def test_entry_timeout_without_execution_leaves_nothing_behind(make_run: MakeRun) -> None:
    """503/-1007 after a timeout, nothing executed: no trade, no order left, the next candle is decided."""
    run = start_before_signal(make_run)
    rule = run.fault(FaultRule(**ENTRY, params={"reduceOnly": ""}, action=Delay(REST_TIMEOUT_S * 3, execute=False)))
    run.advance_until(lambda r: rule.injected == 1, 10, "the entry attempt")
    run.advance(1)
    assert run.position() == 0 or len(run.journal_view().trades["XRPUSDT"]) == 1
    run.check(context="after an entry that never executed")


@pytest.mark.parametrize("error", [order_rejected(-2019), rate_limited(1), server_error(502)], ids=["margin", "429", "502"])
def test_failed_entry_is_contained_and_the_stream_keeps_running(make_run: MakeRun, error) -> None:
    """DEF-08: an entry refused by the exchange is logged, the kline socket is not torn down, the next candle is
    processed, and a later signal trades normally."""
    run = start_before_signal(make_run)
    rule = run.fault(FaultRule(**ENTRY, params={"reduceOnly": ""}, error=error))
    markets_before = run.fx.connections()["market_total"]
    run.advance_until(lambda r: rule.injected == 1, 10, "the refused entry")
    assert run.position() == 0
    run.advance(1)
    assert run.fx.connections()["market_total"] == markets_before
    open_position(run, limit=200)
    run.check(context="trading after a refused entry")


def test_margin_type_refusal_skips_only_this_entry(make_run: MakeRun) -> None:
    """INC-20: -4047 (open orders exist) on the margin-type change skips this entry only; -4046 (already
    isolated) on later entries is success."""
    run = start_before_signal(make_run)
    run.fault(FaultRule(method="POST", path="/fapi/v1/marginType", error=binance_error(-4047)))
    first = run.advance(2)
    assert run.position() == 0 and decisions(run)["candle_ms"].iloc[-1] == first
    open_position(run, limit=200)
    close_position(run)
    open_position(run, limit=300)  # the account is isolated by now: the exchange answers -4046
    run.check(context="entries after -4047 and -4046")


@pytest.mark.parametrize("fractions", [(0.5, 0.5), (0.2, 0.3, 0.5)])
def test_partial_fills_add_up_to_one_trade(make_run: MakeRun, fractions) -> None:
    """INC-13/DEF-24: entry and exit fill in parts; one trade, PnL and fees summed over every part."""
    run = start_before_signal(make_run)
    run.fault(FaultRule(action=PartialFill(fractions), times=None))
    open_position(run)
    close_position(run)
    entry_orders = [o for o in read_books(run.fx).orders if o.executed_qty > 0]
    assert len(entry_orders) >= 2
    run.check(context="after partial fills")


def test_entry_whose_outcome_stays_unknown_is_settled_at_once(make_run: MakeRun) -> None:
    """STYLE 2.7 / 30 §5.4: the entry times out after executing and the look-up fails too (its REST calls error);
    the position exists unprotected, so reconciliation must run now — not at the next periodic tick (an hour away
    here) — and protect it within the budget."""
    run = start_before_signal(make_run, options={"reconcile_interval_s": 3600.0}, timings={"market_stale_s": 600.0})
    run.fault(FaultRule(**ENTRY, params={"reduceOnly": ""}, action=Delay(REST_TIMEOUT_S * 3, execute=True)))
    run.fault(FaultRule(method="GET", path="/fapi/v1/order", times=3, error=server_error(503)))  # the look-up
    open_position(run)
    run.wait_until(lambda r: len(r.journal_view().trades["XRPUSDT"]) == 1, 10, "the trade recorded")
    run.check(context="unknown entry settled")


def _emergency_close_now(run) -> bool:  # noqa: ANN001 - TradingRun
    bot = run.service.bots()[run.symbols[0]]
    return run.service.call(bot.executor.emergency_close(bot.stats.last_candle_ms))


def test_emergency_close_of_a_position_the_exchange_already_closed_is_no_alarm(make_run: MakeRun, caplog) -> None:
    """Soak seed 1: a leg fired while the service was not looking, so the service still held the position as open;
    re-placing the leg failed ("would trigger") and the emergency close was refused with -2022 (nothing to reduce).
    Nothing is unprotected: no CRITICAL page, and reconciliation records how the position closed."""
    run = start_before_signal(make_run)
    open_position(run)
    silent = [run.fault(FaultRule(params={"e": e}, action=DropEvent(), times=None)) for e in ("ORDER_TRADE_UPDATE", "ACCOUNT_UPDATE")]
    run.fx.close_position_externally(run.symbols[0])
    assert run.position() == 0 and closed_trades(run) == []  # the service has not noticed
    caplog.set_level(logging.WARNING, logger="trader_runtime.service.execution")
    assert _emergency_close_now(run) is False
    assert not [r for r in caplog.records if r.levelno >= logging.CRITICAL]
    assert any("emergency close not needed" in r.getMessage() for r in caplog.records)
    for rule in silent:
        rule.times = rule.injected  # deliver events again
    run.wait_until(lambda r: closed_trades(r) != [], 20, "reconciliation of the closed position")
    run.check(context="after the needless emergency close")


def test_emergency_close_that_fails_on_an_open_position_still_pages(make_run: MakeRun, caplog) -> None:
    """The counterpart: the position is really open and the close is refused → CRITICAL, a human must act."""
    run = start_before_signal(make_run)
    open_position(run)
    run.fault(FaultRule(**ENTRY, params={"reduceOnly": "true"}, error=order_rejected(-2022)))
    caplog.set_level(logging.WARNING, logger="trader_runtime.service.execution")
    assert _emergency_close_now(run) is False
    assert run.position() != 0
    assert [r for r in caplog.records if r.levelno == logging.CRITICAL and "emergency close FAILED" in r.getMessage()]
