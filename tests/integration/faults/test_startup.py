"""Start-up refusals and thin accounts: the service refuses to trade before any order when the account or the
configuration is unsafe, and skips entries a balance cannot carry (DEF-19/20/21)."""

from __future__ import annotations

import pytest

from trader_runtime.errors import ConfigError

from tests.integration.faults.conftest import MakeRun
from tests.integration.faults.harness import ServiceDied, decisions
from tests.integration.faults.market import history_for, signal_indices


def order_posts(run) -> list[str]:  # noqa: ANN001
    return [p for m, p, _ in run.fx.requests() if m == "POST" and p in ("/fapi/v1/order", "/fapi/v1/algoOrder")]


@pytest.mark.parametrize(
    "kw",
    [
        {"exchange": {"hedge_mode": True}},  # DEF-20: one-way mode required
        {"env": {"SYMBOLS": "XRPUSDT,XRPUSDT"}},  # DEF-21: one bot per symbol
        {"exchange": {"initial_balance_usdt": 0.0}},  # nothing to trade with
    ],
    ids=["hedge-mode", "duplicate-symbols", "empty-account"],
)
def test_unsafe_start_is_refused_before_any_order(make_run: MakeRun, kw: dict) -> None:
    run = make_run(start=False, **kw)
    with pytest.raises(ServiceDied) as err:
        run.start()
    assert isinstance(err.value.__cause__, ConfigError)
    assert order_posts(run) == []


def test_balance_too_small_for_the_minimum_notional_skips_entries(make_run: MakeRun) -> None:
    """DEF-19: 0.3 USDT cannot margin a 5 USDT order even at leverage 10: the signal is logged as skipped, no order
    is sent, and the service keeps deciding candles."""
    k = signal_indices()[0]
    run = make_run(history=history_for(k, 1), exchange={"initial_balance_usdt": 0.3})
    last = run.advance(3)
    d = decisions(run)
    assert list(d["candle_ms"])[-1] == last
    assert order_posts(run) == [] and run.position() == 0
    signalled = d[d["signal"] != 0]
    assert len(signalled) >= 1 and "ENTRY" not in set(signalled["action"])
    run.check()
