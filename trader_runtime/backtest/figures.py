"""Risk figures traders compare across tools, computed from a result's trades and its end-of-day equity.

Sortino, Calmar, SQN, the longest drawdown with its dates and duration, and the breakdowns by exit reason and by
symbol (the figures freqtrade's backtest report shows). Shared by `cointrader backtest` and the weekly report so the
two never disagree. Conventions follow the platform's: daily returns of end-of-day equity, annualised with √365,
the first return measured against the initial balance.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

DAYS_PER_YEAR = 365


def _r(value: float, digits: int = 2) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), digits)


def _daily_returns(daily: np.ndarray, initial_balance: float) -> np.ndarray:
    curve = np.concatenate(([initial_balance], daily))
    with np.errstate(divide="ignore", invalid="ignore"):
        rets = np.diff(curve) / curve[:-1]
    return rets[np.isfinite(rets)]


def sortino(daily: np.ndarray, initial_balance: float) -> float | None:
    """Mean daily return over the downside deviation (root mean square of the negative returns) × √365."""
    rets = _daily_returns(daily, initial_balance)
    if rets.size < 2:
        return None
    downside = math.sqrt(float(np.mean(np.minimum(rets, 0.0) ** 2)))
    return None if downside == 0 else float(rets.mean()) / downside * math.sqrt(DAYS_PER_YEAR)


def longest_drawdown(dates: Sequence[str], daily: np.ndarray, initial_balance: float) -> dict[str, Any]:
    """Longest stretch below a previous equity peak: from the peak day to the day equity regains it (or the end)."""
    best: dict[str, Any] = {"days": 0, "start": None, "end": None, "recovered": True}
    peak, peak_i = initial_balance, -1
    for i, value in enumerate(daily):
        if value >= peak:
            if i - peak_i - 1 > 0 and i - peak_i > best["days"]:
                best = {"days": i - peak_i, "start": dates[peak_i] if peak_i >= 0 else None, "end": dates[i], "recovered": True}
            peak, peak_i = value, i
    open_days = len(daily) - 1 - peak_i
    if open_days > 0 and open_days >= best["days"]:
        best = {"days": open_days, "start": dates[peak_i] if peak_i >= 0 else None, "end": dates[-1], "recovered": False}
    if best["days"] and best["start"] is None and len(dates):
        best["start"] = f"before {dates[0]}"
    return best


def _group(trades: pd.DataFrame, column: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    if trades.empty or column not in trades.columns:
        return out
    for key, group in trades.groupby(column, sort=True):
        net = group["net_pnl"].to_numpy(np.float64)
        wins, losses = net[net > 0].sum(), -net[net <= 0].sum()
        pf = math.inf if losses == 0 and wins > 0 else (wins / losses if losses > 0 else 0.0)
        out[str(key)] = {"trades": int(net.size), "win_rate": _r(float((net > 0).mean() * 100), 1),
                         "net_pnl": _r(float(net.sum()), 2), "profit_factor": round(pf, 2) if math.isfinite(pf) else pf}  # fmt: skip
    return out


def risk_figures(trades: pd.DataFrame, equity_daily: Sequence[Mapping[str, Any]], initial_balance: float) -> dict[str, Any]:
    """All figures of one result; None where the sample cannot give one (e.g. no losing day for Sortino)."""
    dates = [str(p["date"]) for p in equity_daily]
    daily = np.asarray([float(p["equity"]) for p in equity_daily], dtype=np.float64)
    net = trades["net_pnl"].to_numpy(np.float64) if not trades.empty else np.zeros(0)
    sqn = None
    if net.size >= 2 and float(net.std(ddof=1)) > 0:
        sqn = math.sqrt(net.size) * float(net.mean()) / float(net.std(ddof=1))
    calmar, annual = None, None
    if daily.size and initial_balance > 0 and daily[-1] > 0:
        annual = (daily[-1] / initial_balance) ** (DAYS_PER_YEAR / daily.size) - 1.0
        curve = np.concatenate(([initial_balance], daily))
        max_dd = float(np.max((np.maximum.accumulate(curve) - curve) / np.maximum.accumulate(curve)))
        calmar = annual / max_dd if max_dd > 0 else None
    return {
        "sortino": _r(sortino(daily, initial_balance)) if daily.size else None,
        "calmar": _r(calmar),
        "annual_return_pct": _r(None if annual is None else annual * 100, 2),
        "sqn": _r(sqn),
        "longest_drawdown": longest_drawdown(dates, daily, initial_balance),
        "by_exit_reason": _group(trades, "close_reason"),
        "by_symbol": _group(trades, "symbol"),
    }


def figure_lines(figures: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, text) pairs for plain-text output (`cointrader backtest`, chat summaries)."""
    def f(v: Any) -> str:
        return "n/a" if v is None else (f"{v:.2f}" if isinstance(v, float) else str(v))

    dd = figures["longest_drawdown"]
    if dd["days"]:
        until = dd["end"] if dd["recovered"] else f"{dd['end']} (not recovered yet)"
        dd_text = f"{dd['days']} days, {dd['start']} → {until}"
    else:
        dd_text = "none"
    return [("sortino (daily, √365)", f(figures["sortino"])), ("calmar (annual return / max DD)", f(figures["calmar"])),
            ("SQN (√N × mean / std of trade PnL)", f(figures["sqn"])), ("longest drawdown", dd_text)]  # fmt: skip
