"""The research result R-M1 (and R-M2) of spec 40 §B.9, reproduced trade by trade under the legacy rules."""

from __future__ import annotations

import pandas as pd
import pytest

from trader_runtime.strategy.mtf_pullback import MTFRules, run_mtf_backtest

# (entry time 2026, side, entry, exit, bps) — spec 40 §B.9
R_M1 = """
02-01 05:45 S 1.6580 1.5876 +416.4
02-01 19:15 S 1.6084 1.5456 +382.4
02-02 18:30 S 1.6358 1.5711 +387.7
02-03 23:00 S 1.5874 1.5194 +420.4
02-04 20:15 S 1.5391 1.4784 +386.1
02-06 08:30 S 1.2886 1.3598 -560.8
02-06 21:45 S 1.4530 1.3480 +714.9
02-13 20:15 S 1.4061 1.4311 -186.0
02-14 13:30 S 1.4528 1.4742 -155.2
02-15 22:45 L 1.4848 1.4443 -280.8
02-19 02:00 L 1.4258 1.4038 -162.1
02-19 18:00 S 1.3950 1.4181 -173.9
02-20 03:45 S 1.4132 1.3804 +224.3
02-23 22:45 S 1.3606 1.3236 +264.3
02-24 12:45 S 1.3304 1.3517 -168.1
02-24 19:30 S 1.3509 1.3738 -177.6
02-25 05:00 S 1.3679 1.3927 -189.4
02-25 22:45 S 1.4563 1.4140 +282.4
02-26 20:00 L 1.4061 1.3766 -217.6
02-27 19:00 S 1.3562 1.3204 +256.3
02-28 17:45 S 1.3160 1.3460 -235.8
03-01 01:15 S 1.3680 1.3978 -225.7
03-01 06:15 S 1.3986 1.3498 +341.1
03-05 04:30 L 1.4270 1.3992 -202.8
03-05 19:15 L 1.4186 1.3907 -204.9
03-06 19:15 L 1.3638 1.3428 -162.0
03-08 11:15 S 1.3588 1.3391 +137.0
03-09 05:00 S 1.3435 1.3623 -147.6
03-09 22:15 S 1.3688 1.3888 -154.5
03-10 06:45 S 1.3795 1.3992 -150.7
03-11 01:00 L 1.3877 1.3639 -179.3
03-14 02:00 L 1.3994 1.4298 +209.1
03-16 03:00 L 1.4423 1.4706 +188.2
03-16 10:00 L 1.4734 1.5072 +221.3
03-17 07:30 L 1.5374 1.5024 -235.3
"""
TP_TRADES = {1, 2, 3, 4, 5, 7, 13, 14, 18, 20, 23, 27, 32, 33, 34}


def _expected() -> list[tuple[pd.Timestamp, str, float, float, float]]:
    rows = []
    for line in R_M1.strip().splitlines():
        day, clock, side, entry, exit_, bps = line.split()
        rows.append((pd.Timestamp(f"2026-{day} {clock}", tz="UTC"), "LONG" if side == "L" else "SHORT", float(entry), float(exit_), float(bps)))
    return rows


@pytest.fixture(scope="module")
def r_m1(xrp_frame):
    return run_mtf_backtest(xrp_frame, "XRPUSDT", "2026-02-01", "2026-03-30", rules=MTFRules.legacy())


def test_r_m1_trade_by_trade(r_m1):
    trades = r_m1.trades
    expected = _expected()
    assert len(trades) == len(expected) == 35
    for n, (row, (t, side, entry, exit_, bps)) in enumerate(zip(trades.itertuples(), expected), start=1):
        assert (row.entry_time, row.side) == (t, side), n
        assert round(row.entry_price, 4) == entry, n
        assert round(row.exit_price, 4) == exit_, n
        assert round(row.pnl_bps, 1) == bps, n
        assert row.close_reason == ("TP" if n in TP_TRADES else "SL"), n


def test_r_m1_summary_and_counters(r_m1):
    s = r_m1.summary
    assert s["all"] == {
        "trades": 35, "win_rate": 42.9, "profit_factor": 1.16, "pnl_bps": 661.8, "max_dd_bps": 1868.5,
        "avg_win_bps": 322.1, "avg_loss_bps": -208.5,
    }  # fmt: skip
    assert (s["long"]["trades"], s["long"]["win_rate"], s["long"]["profit_factor"], s["long"]["pnl_bps"]) == (11, 27.3, 0.38, -1026.3)
    assert (s["short"]["trades"], s["short"]["win_rate"], s["short"]["profit_factor"], s["short"]["pnl_bps"]) == (24, 50.0, 1.67, 1688.2)
    assert r_m1.counters == {
        "meta_long_candles": 478, "meta_short_candles": 907, "pullbacks": 154, "triggers": 36,
        "trades_long": 11, "trades_short": 24,
    }  # fmt: skip
    # window 2026-02-01 00:00 … 2026-03-17 16:45 (4,292 candles, candle 0 never decided), 1,323 hourly candles
    assert (r_m1.window_start, r_m1.window_end) == (pd.Timestamp("2026-02-01", tz="UTC"), pd.Timestamp("2026-03-17 16:45", tz="UTC"))
    assert r_m1.decided_candles == 4291
    assert r_m1.hourly_candles == 1323


def test_r_m2_whole_file(xrp_frame, r_m1):
    r = run_mtf_backtest(xrp_frame, "XRPUSDT", "2025-03-05", "2026-03-31", rules=MTFRules.legacy())
    s = r.summary
    assert (s["all"]["trades"], s["all"]["win_rate"], s["all"]["profit_factor"], s["all"]["pnl_bps"], s["all"]["max_dd_bps"]) == (
        326, 40.8, 0.89, -4034.5, 5153.7,
    )
    assert (r.counters["trades_long"], r.counters["trades_short"], r.counters["triggers"]) == (128, 198, 327)
    assert (s["long"]["profit_factor"], s["short"]["profit_factor"]) == (0.76, 0.98)
    late = r.trades[r.trades["entry_time"] >= pd.Timestamp("2026-02-01", tz="UTC")].reset_index(drop=True)
    cols = ["side", "entry_time", "exit_time", "entry_price", "exit_price", "close_reason"]
    pd.testing.assert_frame_equal(late[cols], r_m1.trades[cols].reset_index(drop=True))


def test_platform_default_closes_the_last_trade_and_waits_for_warmup(xrp_frame, r_m1):
    r = run_mtf_backtest(xrp_frame, "XRPUSDT", "2026-02-01", "2026-03-30")
    # same decisions as the research run; the 36th trigger, dropped there, closes at the last candle (MTF-F)
    assert len(r.trades) == 36
    pd.testing.assert_series_equal(r.trades["entry_time"].iloc[:35], r_m1.trades["entry_time"])
    last = r.trades.iloc[-1]
    assert last["close_reason"] == "END_OF_DATA"
    assert last["exit_time"] == pd.Timestamp("2026-03-17 16:45", tz="UTC")
    assert last["entry_time"] > r_m1.trades["entry_time"].iloc[-1]
    whole = run_mtf_backtest(xrp_frame, "XRPUSDT")
    first = whole.first_decision
    assert first is not None and first >= pd.Timestamp("2025-03-05", tz="UTC") + pd.Timedelta(hours=1000)
    assert whole.trades["signal_time"].min() >= first
