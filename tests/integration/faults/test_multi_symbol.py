"""Several symbols on one account: one user stream carries every symbol's events, entries serialise on the shared
lock, and one symbol's failing orders do not stop the others (INC-04, INC-18, DEF-10)."""

from __future__ import annotations

from trader_runtime.testing.fake_exchange import FaultRule, server_error

from tests.integration.faults.conftest import MakeRun
from tests.integration.faults.harness import closed_trades, decisions, open_position
from tests.integration.faults.market import history_for, signal_indices

SYMBOLS = ("XRPUSDT", "DOGEUSDT")


def both_signal_at() -> int:
    return min(set(signal_indices("XRPUSDT")) & set(signal_indices("DOGEUSDT")))


def test_entries_on_the_same_candle_are_serialised_and_streams_do_not_cross(make_run: MakeRun) -> None:
    """INC-18: both symbols enter on one candle; the second balance read comes after the first entry order.
    INC-04: each bot books only its own symbol's fills although one stream carries both."""
    run = make_run(symbols=SYMBOLS, history=history_for(both_signal_at(), 1))
    run.advance()
    assert run.position("XRPUSDT") != 0 and run.position("DOGEUSDT") != 0
    seq = [("balance" if "balance" in p else "order") for m, p, params in run.fx.requests()
           if (m == "GET" and p.endswith("/balance")) or (m == "POST" and p == "/fapi/v1/order")]  # fmt: skip
    tail = seq[-4:]
    assert tail == ["balance", "order", "balance", "order"], seq
    run.check(context="two entries on one candle")
    run.advance_until(lambda r: all(closed_trades(r, s) for s in SYMBOLS), 300, "an exit on both symbols")
    run.check(context="both symbols traded")


def test_one_symbols_failing_orders_do_not_stop_the_other(make_run: MakeRun) -> None:
    """DEF-10: every DOGEUSDT order fails with 503; XRPUSDT keeps trading, DOGEUSDT keeps deciding candles, and
    trades again once the exchange recovers."""
    run = make_run(symbols=SYMBOLS, history=history_for(both_signal_at(), 1))
    rule = run.fault(FaultRule(method="POST", path="/fapi/v1/order", symbol="DOGEUSDT", times=None, error=server_error(503)))
    run.advance()
    assert run.position("XRPUSDT") != 0 and run.position("DOGEUSDT") == 0 and rule.injected >= 1
    run.advance_until(lambda r: closed_trades(r, "XRPUSDT") != [], 200, "an XRPUSDT exit")
    d = decisions(run)
    assert d[d["symbol"] == "DOGEUSDT"]["candle_ms"].max() == run.last_candle_ms
    run.fx.faults.clear()
    open_position(run, "DOGEUSDT", limit=300)
    run.check(context="DOGEUSDT trading again")
