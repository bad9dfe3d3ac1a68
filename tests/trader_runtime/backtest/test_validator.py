"""Backtest validator with the three-state verdict (BT-12)."""

from __future__ import annotations

import pandas as pd

from trader_runtime.backtest.validator import overall_verdict, validate


def _trades(n=12, days_apart=2.0, side="LONG", fee=0.1, net=None):
    t0 = pd.Timestamp("2025-06-01", tz="UTC")
    rows = []
    for k in range(n):
        entry = t0 + pd.Timedelta(days=k * days_apart)
        rows.append(
            {
                "symbol": "XRPUSDT",
                "side": side,
                "entry_time": entry,
                "exit_time": entry + pd.Timedelta(hours=2),
                "entry_price": 100.0,
                "sl": 98.0 if side == "LONG" else 102.0,
                "tp": 104.0 if side == "LONG" else 96.0,
                "entry_fee": fee,
                "exit_fee": fee,
                "net_pnl": (10.0 if k % 2 == 0 else -5.0) if net is None else net,
            }
        )
    return pd.DataFrame(rows)


SUMMARY = {"win_rate": 50.0, "max_drawdown_pct": 3.0, "profit_factor": 2.0}


def test_clean_result_passes():
    v = validate(_trades(), SUMMARY, 1000.0, tested_days=30.0)
    assert v["overall"] == "PASS"


def test_only_warnings_give_warn_not_fail():
    v = validate(_trades(), {**SUMMARY, "win_rate": 90.0}, 1000.0, tested_days=30.0)
    assert v["overall"] == "WARN"


def test_fail_level_check_gives_fail():
    trades = _trades()
    trades.loc[3, "exit_time"] = trades.loc[3, "entry_time"] - pd.Timedelta(minutes=15)
    assert validate(trades, SUMMARY, 1000.0, 30.0)["overall"] == "FAIL"


def test_trade_frequency_counts_tested_time_only():
    trades = _trades(n=6, days_apart=40.0)  # spans 200 calendar days
    v = validate(trades, SUMMARY, 1000.0, tested_days=30.0)  # but only one month was tested
    freq = next(c for c in v["checks"] if c["name"] == "trade_frequency")
    assert freq["passed"]
    v = validate(trades, SUMMARY, 1000.0, tested_days=200.0)
    assert not next(c for c in v["checks"] if c["name"] == "trade_frequency")["passed"]


def test_sl_tp_direction_and_overlap_and_fees():
    bad = _trades(side="SHORT")
    bad.loc[0, "sl"] = 99.0
    assert not next(c for c in validate(bad, SUMMARY, 1000.0, 30.0)["checks"] if c["name"] == "sl_tp_direction")["passed"]
    overlap = _trades()
    overlap.loc[0, "exit_time"] = overlap.loc[1, "entry_time"] + pd.Timedelta(minutes=15)
    assert not next(c for c in validate(overlap, SUMMARY, 1000.0, 30.0)["checks"] if c["name"] == "no_overlap")["passed"]
    same_bar = _trades()
    same_bar.loc[0, "exit_time"] = same_bar.loc[1, "entry_time"]  # reverse re-entry on the same bar is fine
    assert next(c for c in validate(same_bar, SUMMARY, 1000.0, 30.0)["checks"] if c["name"] == "no_overlap")["passed"]
    nofee = _trades(fee=0.0)
    assert validate(nofee, SUMMARY, 1000.0, 30.0)["overall"] == "FAIL"


def test_negative_running_balance_fails():
    assert validate(_trades(net=-150.0), SUMMARY, 1000.0, 30.0)["overall"] == "FAIL"


def test_no_trades_passes_with_a_skipped_check():
    v = validate(_trades().iloc[:0], {}, 1000.0, 30.0)
    assert v["overall"] == "PASS" and [c["name"] for c in v["checks"]] == ["trade_count"]


def test_missing_fold_models_warn():
    v = validate(_trades(), SUMMARY, 1000.0, 30.0, folds_without_model=1)
    assert v["overall"] == "WARN"


def test_infinite_profit_factor_skips_the_pf_check():
    v = validate(_trades(net=5.0), {**SUMMARY, "profit_factor": float("inf"), "win_rate": 60.0}, 1000.0, 30.0)
    assert "profit_factor_high" not in [c["name"] for c in v["checks"]]


def test_overall_verdict_levels():
    assert overall_verdict([]) == "PASS"
    assert overall_verdict([{"passed": False, "level": "WARNING"}]) == "WARN"
    assert overall_verdict([{"passed": False, "level": "WARNING"}, {"passed": False, "level": "FAIL"}]) == "FAIL"
