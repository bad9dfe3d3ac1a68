"""Live statistics and kill-switch monitoring from the journal's closed trades (spec 20 §7.2 steps 4, 6, 8).

BT-16 fix: "this week" counts only trades closed in the report window [start, end), per symbol and in total;
the cumulative figures count every closed trade once (never a sum over earlier reports). The kill-switch view
re-applies the live rules (30 §8.1, `strategy.decision.kill_switch_state`) to each symbol's full history; it is
a recomputation for monitoring, not the bot's stored state.
"""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np
import pandas as pd

from trader_runtime.backtest.metrics import trade_stats
from trader_runtime.config import RiskLimits
from trader_runtime.strategy.decision import KILL_FAST, KILL_NONE, KILL_SLOW, kill_switch_state

LIVE_STAT_KEYS = (
    "total_trades",
    "total_pnl",
    "win_rate",
    "avg_win",
    "avg_loss",
    "profit_factor",
    "max_consecutive_losses",
    "total_fees",
    "close_reasons",
)
_KILL_REASONS = {KILL_NONE: None, KILL_FAST: "fast", KILL_SLOW: "slow"}


def trade_figures(trades: pd.DataFrame) -> dict[str, object]:
    """Counting figures of a trade set (spec 20 §2 definitions, break-even = loss), no balance-based ones."""
    net = trades["net_pnl"].to_numpy(np.float64)
    fees = (trades["entry_fee"] + trades["exit_fee"]).to_numpy(np.float64)
    stats = trade_stats(net, fees, trades["close_reason"].astype(str).tolist(), initial_balance=1.0)
    return {k: stats[k] for k in LIVE_STAT_KEYS}


def in_window(trades: pd.DataFrame, start: pd.Timestamp | None, end: pd.Timestamp | None) -> pd.DataFrame:
    """Trades whose exit time lies in [start, end)."""
    mask = pd.Series(True, index=trades.index)
    if start is not None:
        mask &= trades["exit_time"] >= start
    if end is not None:
        mask &= trades["exit_time"] < end
    return trades[mask]


def _with_symbols(trades: pd.DataFrame) -> dict[str, object]:
    out = trade_figures(trades)
    out["per_symbol"] = {str(sym): trade_figures(group) for sym, group in trades.groupby("symbol", sort=True)}
    return out


def live_statistics(trades: pd.DataFrame, week_start: pd.Timestamp, week_end: pd.Timestamp) -> dict[str, object]:
    """`week`: trades closed in [week_start, week_end); `cumulative`: every trade closed before week_end, once."""
    upto = in_window(trades, None, week_end)
    return {
        "week": _with_symbols(in_window(upto, week_start, week_end)),
        "cumulative": _with_symbols(upto),
    }


def _trailing_losses(net: np.ndarray) -> int:
    count = 0
    for value in net[::-1]:
        if value < 0:
            count += 1
        else:
            break
    return count


def _recent_pf(net: np.ndarray, window: int) -> float | None:
    if net.size < window:
        return None
    last = net[-window:]
    gp = float(last[last > 0].sum())
    gl = float(-last[last < 0].sum())
    if gl > 0:
        return round(gp / gl, 2)
    return math.inf if gp > 0 else None


def kill_switch_view(trades: pd.DataFrame, symbols: Iterable[str], risk: RiskLimits) -> dict[str, dict[str, object]]:
    """Per symbol: trades so far, trailing net losses, PF of the last `kill_slow_window`, and the live verdict."""
    names = sorted(set(symbols) | set(trades["symbol"].astype(str)))
    out: dict[str, dict[str, object]] = {}
    for sym in names:
        net = trades.loc[trades["symbol"] == sym, "net_pnl"].to_numpy(np.float64)
        state = kill_switch_state(
            np.ascontiguousarray(net), int(net.size), risk.kill_fast_streak, risk.kill_slow_window, risk.kill_slow_min_pf
        )
        out[sym] = {
            "total_trades": int(net.size),
            "consec_loss": _trailing_losses(net),
            "fast_streak": risk.kill_fast_streak,
            "recent_pf": _recent_pf(net, risk.kill_slow_window),
            "slow_window": risk.kill_slow_window,
            "slow_min_pf": risk.kill_slow_min_pf,
            "killed": state != KILL_NONE,
            "reason": _KILL_REASONS[int(state)],
        }
    return out
