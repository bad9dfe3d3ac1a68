"""Unit-size trade statistics of the MTF research backtest (spec 40 §B.5), in basis points.

Each trade returns `r − 2 × fee` on one unit of notional; returns add up (no compounding). Break-even trades count
as losses; the profit factor is infinite without losses and 0 without trades; the drawdown's running peak starts
at the first trade's cumulative PnL.
"""

from __future__ import annotations

import math

import numpy as np


def trade_returns(side: np.ndarray, entry: np.ndarray, exit_: np.ndarray, fee_rate: float) -> np.ndarray:
    """Net return per trade: (exit − entry)/entry for LONG, (entry − exit)/entry for SHORT, minus both fees."""
    r = np.where(side == 1, (exit_ - entry) / entry, (entry - exit_) / entry)
    return r - 2.0 * fee_rate


def bps_stats(pnl: np.ndarray) -> dict[str, float | int]:
    """Trades, win rate %, PF, total/avg-win/avg-loss/max-drawdown in bps (rounded as the research script prints)."""
    pnl = np.asarray(pnl, dtype=np.float64)
    n = int(pnl.size)
    if n == 0:
        return {"trades": 0, "win_rate": 0.0, "profit_factor": 0.0, "pnl_bps": 0.0, "max_dd_bps": 0.0, "avg_win_bps": 0.0, "avg_loss_bps": 0.0}
    wins, losses = pnl[pnl > 0], pnl[pnl <= 0]
    gp, gl = float(wins.sum()), float(abs(losses.sum()))
    pf = round(gp / gl, 2) if gl > 0 else math.inf
    cum = np.cumsum(pnl)
    dd = float(np.max(np.maximum.accumulate(cum) - cum))
    return {
        "trades": n,
        "win_rate": round(wins.size / n * 100.0, 1),
        "profit_factor": pf,
        "pnl_bps": round(float(pnl.sum()) * 1e4, 1),
        "max_dd_bps": round(dd * 1e4, 1),
        "avg_win_bps": round(float(wins.mean()) * 1e4, 1) if wins.size else 0.0,
        "avg_loss_bps": round(float(losses.mean()) * 1e4, 1) if losses.size else 0.0,
    }


def summary_by_side(side: np.ndarray, pnl: np.ndarray) -> dict[str, dict[str, float | int]]:
    return {
        "all": bps_stats(pnl),
        "long": bps_stats(pnl[side == 1]),
        "short": bps_stats(pnl[side == -1]),
    }
