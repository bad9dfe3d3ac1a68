"""Trade-level diff of two runs."""

from __future__ import annotations

import pandas as pd

from trader_runtime.backtest.compare import diff_trades


def _t(entry, side="LONG", exit_=None, reason="TP", qty=10.0, net=5.0, fold=1):
    entry = pd.Timestamp(entry, tz="UTC")
    return {
        "fold": fold,
        "entry_time": entry,
        "side": side,
        "exit_time": exit_ or entry + pd.Timedelta(hours=1),
        "close_reason": reason,
        "quantity": qty,
        "entry_price": 1.0,
        "exit_price": 1.1,
        "net_pnl": net,
    }


def test_added_removed_changed_and_resized():
    old = pd.DataFrame([_t("2025-01-01 00:00"), _t("2025-01-02 00:00"), _t("2025-01-03 00:00"), _t("2025-01-04 00:00")])
    new = pd.DataFrame(
        [
            _t("2025-01-01 00:00"),
            _t("2025-01-02 00:00", reason="SL", net=-3.0),
            _t("2025-01-03 00:00", qty=9.9, net=4.95),
            _t("2025-01-05 00:00", side="SHORT"),
        ]
    )
    d = diff_trades(old, new)
    assert list(d.removed["entry_time"]) == [pd.Timestamp("2025-01-04", tz="UTC")]
    assert list(d.added["side"]) == ["SHORT"]
    assert list(d.changed_exit["close_reason_new"]) == ["SL"]
    assert list(d.resized["quantity_new"]) == [9.9]
    assert d.n_differing == 4 and not d.empty
    assert d.pnl_delta == new["net_pnl"].sum() - old["net_pnl"].sum()


def test_identical_runs_have_no_difference():
    a = pd.DataFrame([_t("2025-01-01 00:00")])
    assert diff_trades(a, a.copy()).empty
