"""Backtest statistics: trade figures of spec 20 §2, D13 equity figures, and the reference per-trade figures.

`max_drawdown_pct` and `sharpe` in a summary are the D13 ones (mark-to-market equity, peak starting at the
initial balance; daily equity returns × √365). The reference's closed-trade MDD (peak from the first trade) and
per-trade Sharpe × √35040 are kept under `legacy_metrics` for comparisons with spec 20 §11 (BT-03, BT-04).
Inputs are numpy arrays so sweeps can call these without building DataFrames.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

LEGACY_SHARPE_ANNUALISATION = math.sqrt(35040.0)  # 96 bars/day × 365, applied per trade by the reference
DAILY_SHARPE_ANNUALISATION = math.sqrt(365.0)


def _r(x: float, nd: int) -> float:
    return float(round(float(x), nd))


def trade_stats(
    net: np.ndarray, fees: np.ndarray, reasons: Sequence[str], initial_balance: float
) -> dict[str, object]:
    """Spec 20 §2 trade statistics (same rounding); break-even trades count as losses; inf when nothing was lost."""
    net = np.asarray(net, dtype=np.float64)
    n = int(net.size)
    if n == 0:
        return {
            "total_trades": 0,
            "total_pnl": 0.0,
            "return_pct": 0.0,
            "win_rate": 0.0,
            "avg_win": 0.0,
            "avg_loss": 0.0,
            "payoff_ratio": 0.0,
            "profit_factor": 0.0,
            "max_consecutive_losses": 0,
            "total_fees": 0.0,
            "close_reasons": {},
        }
    wins = net[net > 0]
    losses = net[net <= 0]
    gp = float(wins.sum())
    gl = float(abs(losses.sum()))
    avg_win = float(wins.mean()) if wins.size else 0.0
    avg_loss = float(losses.mean()) if losses.size else 0.0
    if gl > 0:
        pf = _r(gp / gl, 2)
    else:
        pf = math.inf if gp > 0 else 0.0
    payoff = _r(avg_win / abs(avg_loss), 2) if avg_loss != 0 else (math.inf if avg_win > 0 else 0.0)
    streak = longest = 0
    for p in net:
        streak = streak + 1 if p <= 0 else 0
        longest = max(longest, streak)
    counts: dict[str, int] = {}
    for reason in reasons:
        counts[str(reason)] = counts.get(str(reason), 0) + 1
    total = float(net.sum())
    return {
        "total_trades": n,
        "total_pnl": _r(total, 4),
        "return_pct": _r(total / initial_balance * 100.0, 2),
        "win_rate": _r(wins.size / n * 100.0, 2),
        "avg_win": _r(avg_win, 4),
        "avg_loss": _r(avg_loss, 4),
        "payoff_ratio": payoff,
        "profit_factor": pf,
        "max_consecutive_losses": int(longest),
        "total_fees": _r(float(np.sum(fees)), 4),
        "close_reasons": counts,
    }


def legacy_trade_metrics(net: np.ndarray, initial_balance: float) -> dict[str, float]:
    """Reference figures (spec 20 §2): closed-trade MDD with the peak starting at E_1; per-trade Sharpe × √35040."""
    net = np.asarray(net, dtype=np.float64)
    if net.size == 0:
        return {"max_drawdown_pct": 0.0, "sharpe_ratio": 0.0}
    eq = initial_balance + np.cumsum(net)
    peak = np.maximum.accumulate(eq)
    mdd = float(np.max((peak - eq) / peak)) * 100.0
    sd = float(net.std())
    sharpe = float(net.mean()) / sd * LEGACY_SHARPE_ANNUALISATION if net.size > 1 and sd > 0 else 0.0
    return {"max_drawdown_pct": _r(mdd, 2), "sharpe_ratio": _r(sharpe, 2)}


def day_end_positions(day: np.ndarray) -> np.ndarray:
    """Indices of the last bar of every run of equal UTC-day numbers."""
    day = np.asarray(day)
    if day.size == 0:
        return np.zeros(0, dtype=np.int64)
    change = np.flatnonzero(day[1:] != day[:-1])
    return np.concatenate((change, [day.size - 1])).astype(np.int64)


def equity_metrics(equity: np.ndarray, day: np.ndarray, initial_balance: float) -> dict[str, float]:
    """D13: MDD on the mark-to-market curve with the peak starting at the initial balance; Sharpe on daily
    returns of that curve (end-of-day equity, first return against the initial balance, sample std) × √365."""
    equity = np.asarray(equity, dtype=np.float64)
    if equity.size == 0:
        return {"max_drawdown_pct": 0.0, "sharpe": 0.0}
    curve = np.concatenate(([initial_balance], equity))
    peak = np.maximum.accumulate(curve)
    with np.errstate(divide="ignore", invalid="ignore"):
        dd = np.where(peak > 0, (peak - curve) / peak, 0.0)
    daily = np.concatenate(([initial_balance], equity[day_end_positions(day)]))
    with np.errstate(divide="ignore", invalid="ignore"):
        rets = np.diff(daily) / daily[:-1]
    rets = rets[np.isfinite(rets)]
    sharpe = 0.0
    if rets.size > 1:
        sd = float(rets.std(ddof=1))
        if sd > 0:
            sharpe = float(rets.mean()) / sd * DAILY_SHARPE_ANNUALISATION
    return {"max_drawdown_pct": _r(float(dd.max()) * 100.0, 2), "sharpe": _r(sharpe, 2)}


def summarize(
    net: np.ndarray,
    fees: np.ndarray,
    reasons: Sequence[str],
    equity: np.ndarray,
    day: np.ndarray,
    initial_balance: float,
) -> dict[str, object]:
    """Full summary: §2 trade statistics, D13 `max_drawdown_pct`/`sharpe`, reference figures in `legacy_metrics`."""
    out = trade_stats(net, fees, reasons, initial_balance)
    out.update(equity_metrics(equity, day, initial_balance))
    out["legacy_metrics"] = legacy_trade_metrics(net, initial_balance)
    return out
