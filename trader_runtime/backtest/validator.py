"""Sanity checks on a backtest result (spec 20 §4) with a three-state overall verdict (BT-12).

`overall` is FAIL when a FAIL-level check failed, WARN when only warnings failed, PASS otherwise. Trade
frequency is measured over the time actually tested (the sum of the test windows), not the calendar span from
the first to the last trade, which in a stepped walk-forward includes untested months.
"""

from __future__ import annotations

import math
from typing import Mapping

import pandas as pd

FAIL = "FAIL"
WARNING = "WARNING"
DAYS_PER_MONTH = 30.0


def _check(name: str, passed: bool, level: str, message: str) -> dict[str, object]:
    return {"name": name, "passed": bool(passed), "level": level, "message": message}


def overall_verdict(checks: list[dict[str, object]]) -> str:
    failed_levels = {c["level"] for c in checks if not c["passed"]}
    if FAIL in failed_levels:
        return "FAIL"
    if WARNING in failed_levels:
        return "WARN"
    return "PASS"


def validate(
    trades: pd.DataFrame,
    summary: Mapping[str, object],
    initial_balance: float,
    tested_days: float,
    folds_without_model: int = 0,
) -> dict[str, object]:
    """Run the §4 checks on `trades` (columns of the engine's trade frame) and `summary`."""
    checks: list[dict[str, object]] = []
    if folds_without_model:
        checks.append(
            _check("ml_model_per_fold", False, WARNING, f"{folds_without_model} fold(s) ran without a model (their trades were not ML-filtered)")
        )
    if trades.empty:
        checks.append(_check("trade_count", True, FAIL, "no trades, skipped"))
        return {"overall": overall_verdict(checks), "checks": checks}

    entry = pd.to_datetime(trades["entry_time"])
    exit_ = pd.to_datetime(trades["exit_time"])
    bad = int((exit_ < entry).sum())
    checks.append(_check("exit_after_entry", bad == 0, FAIL, f"{bad} trade(s) exit before their entry"))

    long_ = trades["side"] == "LONG"
    ok_long = (trades["sl"] < trades["entry_price"]) & (trades["entry_price"] < trades["tp"])
    ok_short = (trades["tp"] < trades["entry_price"]) & (trades["entry_price"] < trades["sl"])
    bad = int((~ok_long[long_]).sum() + (~ok_short[~long_]).sum())
    checks.append(_check("sl_tp_direction", bad == 0, FAIL, f"{bad} trade(s) with SL/TP on the wrong side"))

    overlaps = 0
    for _, grp in trades.assign(_e=entry, _x=exit_).sort_values("_e").groupby("symbol", sort=False):
        overlaps += int((grp["_x"].to_numpy()[:-1] > grp["_e"].to_numpy()[1:]).sum())
    checks.append(_check("no_overlap", overlaps == 0, FAIL, f"{overlaps} overlapping position(s)"))

    bad = int(((trades["entry_fee"] <= 0) | (trades["exit_fee"] <= 0)).sum())
    checks.append(_check("positive_fees", bad == 0, FAIL, f"{bad} trade(s) without a positive fee"))

    running = initial_balance + trades["net_pnl"].cumsum()
    low = float(running.min())
    checks.append(_check("no_negative_balance", low >= 0, FAIL, f"lowest running balance {low:.2f}"))

    wr = float(summary.get("win_rate", 0.0))  # type: ignore[arg-type]
    checks.append(_check("win_rate_high", wr <= 80.0, WARNING, f"win rate {wr:.1f}% (warns above 80%: look-ahead bias?)"))
    checks.append(_check("win_rate_low", wr >= 20.0, WARNING, f"win rate {wr:.1f}% (warns below 20%: signal logic inverted?)"))

    mdd = float(summary.get("max_drawdown_pct", 0.0))  # type: ignore[arg-type]
    checks.append(_check("mdd_nonzero", mdd > 0, WARNING, f"max drawdown {mdd:.2f}% (warns at 0: SL not working?)"))

    n = len(trades)
    if n >= 2:
        months = max(1.0, tested_days / DAYS_PER_MONTH)
        per_month = n / months
        checks.append(
            _check("trade_frequency", per_month >= 5.0, WARNING, f"{per_month:.1f} trades per tested month (warns below 5)")
        )
    pf = float(summary.get("profit_factor", 0.0))  # type: ignore[arg-type]
    if not math.isinf(pf):
        checks.append(_check("profit_factor_high", pf <= 5.0, WARNING, f"profit factor {pf:.2f} (warns above 5: unrealistic)"))
    return {"overall": overall_verdict(checks), "checks": checks}
