"""Normal lifecycles against both venue flavours, every invariant checked: entry → SL/TP → exchange-side exit,
reverse signals, closes the bot did not send, and the symbol filters (spec 30 §5, §6; INC-01/07/09/21/22/23,
DEF-06/13/14/16/19)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from trader_runtime.config import StrategyParams
from trader_runtime.testing.fake_exchange import DEMO, LIVE, SymbolSpec
from trader_runtime.testing.fake_exchange.symbols import DEFAULT_SYMBOL_SPECS

from tests.integration.faults.conftest import MakeRun
from tests.integration.faults.harness import close_position, closed_trades, decisions, open_position
from tests.integration.faults.invariants import read_books
from tests.integration.faults.market import history_for, reverse_window, signal_indices

LEVEL_TYPES = {"STOP_MARKET": "SL", "TAKE_PROFIT_MARKET": "TP"}


@pytest.mark.parametrize("venue", [LIVE, DEMO], ids=["live", "demo"])
def test_exchange_side_exit_is_recorded_from_the_leg_that_fired(make_run: MakeRun, venue) -> None:
    """INC-21/22: the reason comes from the stored leg (live triggers arrive as `ot=MARKET` with a new order id);
    the sibling is cancelled (live does not expire it); net = gross − both fees (DEF-13); entry = fill (DEF-16)."""
    run = make_run(venue=venue, mode="live" if venue is LIVE else "demo", history=history_for(signal_indices()[0], 2))
    open_position(run)
    run.check(context="position open")
    trade = close_position(run)
    books = read_books(run.fx)
    fired = [a for a in books.algos if a.status in ("TRIGGERED", "FINISHED")]
    assert len(fired) == 1 and trade.close_reason == LEVEL_TYPES[fired[0].order_type]
    exit_order = [o for o in books.orders if o.executed_qty > 0][-1]  # the order the trigger created
    assert trade.exit_price == pytest.approx(float(exit_order.cum_quote / exit_order.executed_qty), rel=1e-12)
    assert abs(float(exit_order.cum_quote / exit_order.executed_qty) / float(fired[0].trigger) - 1) < 5e-4
    posts = {p for m, p, _ in run.fx.requests() if m == "POST" and "rder" in p}
    assert posts <= {"/fapi/v1/order", "/fapi/v1/algoOrder"}  # INC-23: SL/TP only on the algo endpoint
    run.check(context="after the exchange-side exit")


def test_every_closed_candle_is_decided_exactly_once(make_run: MakeRun) -> None:
    """INC-01: one decision per primary close; forming klines and BTC/ETH closes trigger nothing."""
    run = make_run()
    first = run.advance()
    last = run.advance(11)
    d = decisions(run)
    assert list(d["candle_ms"]) == list(range(first, last + 1, 900_000))
    run.check()


def test_reverse_signal_closes_once_with_reason_reverse_and_reenters(make_run: MakeRun) -> None:
    """INC-07/DEF-06: the reverse close is recorded once, as REVERSE, by the fill; the new position is intact."""
    params = StrategyParams(3.0, 3.0, 2, 15.0, 1.5)
    entry, reverse = reverse_window(params)
    run = make_run(params=params, history=history_for(entry, 1))
    run.advance(reverse - entry + 1)
    trades = closed_trades(run)
    assert [t.close_reason for t in trades] == ["REVERSE"]
    assert run.position() != 0 and (run.position() > 0) != (trades[0].side == "LONG")  # re-entered the other way
    run.check(context="after the reverse")


@pytest.mark.parametrize("liquidation, reason", [(False, "MANUAL"), (True, "LIQUIDATION")])
def test_close_from_outside_is_recorded_at_once(make_run: MakeRun, liquidation: bool, reason: str) -> None:
    """DEF-14/DEF-06: a manual close in the app or a liquidation is a close (not left to the 5-minute SYNC), with
    its own reason, and the orphaned SL/TP legs are cancelled."""
    run = make_run(history=history_for(signal_indices()[0], 2), options={"reconcile_interval_s": 3600.0})
    open_position(run)
    run.fx.close_position_externally("XRPUSDT", liquidation=liquidation)
    run.quiesce()
    trades = closed_trades(run)
    assert [t.close_reason for t in trades] == [reason]
    run.check(context=f"after an external {reason}")


def test_symbol_filters_step_and_odd_tick(make_run: MakeRun) -> None:
    """INC-09/DEF-19: integer step (DOGE) and a tick that is not a power of ten — every order is accepted and every
    trigger price sits on the tick grid."""
    xrp = DEFAULT_SYMBOL_SPECS["XRPUSDT"]
    odd = SymbolSpec("XRPUSDT", "XRP", 4, 1, Decimal("0.0005"), xrp.step_size, xrp.min_qty)
    run = make_run(symbols=("XRPUSDT", "DOGEUSDT"), specs={"XRPUSDT": odd})
    open_position(run, "XRPUSDT", limit=200)
    open_position(run, "DOGEUSDT", limit=200) if run.position("DOGEUSDT") == 0 else None
    books = read_books(run.fx)
    assert all(a.trigger % Decimal("0.0005") == 0 for a in books.algos if a.symbol == "XRPUSDT")
    assert all(o.executed_qty == o.executed_qty.to_integral_value() for o in books.orders if o.symbol == "DOGEUSDT")
    with_errors = [o for o in run.journal_view().trades.get("XRPUSDT", [])]
    assert with_errors, "no XRPUSDT trade"
    run.check()
