"""Per-candle trading rules as scalar numba functions: the backtest kernel and the live bot call the same ones.

Covers ATR exit levels, the intrabar SL/TP check (SL first; optional gap fills, BT-11), position sizing with the
dynamic margin ratio (spec 20 §1.5, 30 §5.2 and §7.3) and its two rounding rules (BT-10), the kill switch
(30 §8.1), the daily-loss limit (30 §7.1, D2) and position admission (30 §7.2). Side codes follow
`trader_runtime.domain.Side` (1 LONG, -1 SHORT).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

HIT_NONE = 0
HIT_SL = 1
HIT_TP = 2

KILL_NONE = 0
KILL_FAST = 1
KILL_SLOW = 2

#: quantity rounding codes (see trader_runtime.backtest.rules)
ROUND_LEGACY = 0
ROUND_STEP_FLOOR = 1

_SPLITTER = 134217729.0  # 2**27 + 1 (Dekker split)
_STEP_TOLERANCE = 1e-9  # in units of one quantity step: absorbs float noise such as 43.99999999999 steps


@njit(cache=True)
def sl_tp_levels(side: int, entry_price: float, atr: float, sl_mult: float, tp_mult: float) -> tuple[float, float]:
    """ATR stop-loss and take-profit around the entry price (spec 10 §2)."""
    if side == 1:
        return entry_price - atr * sl_mult, entry_price + atr * tp_mult
    return entry_price + atr * sl_mult, entry_price - atr * tp_mult


@njit(cache=True)
def check_sl_tp(
    side: int, sl: float, tp: float, open_: float, high: float, low: float, gap_fills: bool
) -> tuple[int, float]:
    """(HIT_NONE|HIT_SL|HIT_TP, fill price) for one bar; SL is checked first, so a bar touching both is a loss.

    Without gap fills the exit is at the level exactly (reference). With gap fills a bar that opens beyond the
    level fills at the open: worse than the level for SL, better for TP.
    """
    if side == 1:
        if low <= sl:
            return HIT_SL, (min(open_, sl) if gap_fills else sl)
        if high >= tp:
            return HIT_TP, (max(open_, tp) if gap_fills else tp)
    else:
        if high >= sl:
            return HIT_SL, (max(open_, sl) if gap_fills else sl)
        if low <= tp:
            return HIT_TP, (min(open_, tp) if gap_fills else tp)
    return HIT_NONE, 0.0


@njit(cache=True)
def dynamic_margin_ratio(balance: float, base_balance: float, max_ratio: float, min_ratio: float, decay: float) -> float:
    """Share of the balance committed as margin, shrinking as profits grow (30 §7.3)."""
    ratio = max_ratio - (balance - base_balance) * decay
    if ratio < min_ratio:
        return min_ratio
    if ratio > max_ratio:
        return max_ratio
    return ratio


@njit(cache=True)
def _product_error(a: float, b: float, p: float) -> float:
    """Exact rounding error of p = fl(a*b) (Dekker's two-product)."""
    c = _SPLITTER * a
    ahi = c - (c - a)
    alo = a - ahi
    c = _SPLITTER * b
    bhi = c - (c - b)
    blo = b - bhi
    return ((ahi * bhi - p) + ahi * blo + alo * bhi) + alo * blo


@njit(cache=True)
def round_half_even(x: float, decimals: int) -> float:
    """Python's `round(x, decimals)` (half-even on the exact binary value), which numba's `round` is not."""
    if not math.isfinite(x):
        return x
    scale = 10.0**decimals
    y = x * scale
    if abs(y) >= 4503599627370496.0:  # 2**52: already integral at this scale
        return x
    err = _product_error(x, scale, y)
    fl = math.floor(y)
    frac = y - fl
    if frac > 0.5 or (frac == 0.5 and (err > 0.0 or (err == 0.0 and fl % 2.0 != 0.0))):
        fl += 1.0
    return fl / scale


@njit(cache=True)
def floor_to_step(x: float, step: float) -> float:
    k = math.floor(x / step + _STEP_TOLERANCE)
    return round(k * step, 12)


@njit(cache=True)
def ceil_to_step(x: float, step: float) -> float:
    k = math.ceil(x / step - _STEP_TOLERANCE)
    return round(k * step, 12)


@njit(cache=True)
def position_quantity(
    balance: float,
    price: float,
    margin_ratio: float,
    leverage: float,
    min_notional: float,
    qty_step: float,
    rounding: int,
) -> tuple[bool, float]:
    """(ok, quantity) for a new position; ok is False when no admissible size exists (entry is skipped).

    notional = balance × margin_ratio × leverage, raised to `min_notional` if below it. ROUND_LEGACY rounds to
    0.1 units for every symbol with the reference `round(min_notional/price + 0.05, 1)` fallback (BT-10);
    ROUND_STEP_FLOOR floors to the symbol's step and falls back to the smallest step multiple reaching the
    minimum notional.
    """
    if not (price > 0.0):
        return False, 0.0
    notional = balance * margin_ratio * leverage
    if notional < min_notional:
        notional = min_notional
    if rounding == ROUND_LEGACY:
        qty = round_half_even(notional / price, 1)
        if qty * price < min_notional:
            qty = round_half_even(min_notional / price + 0.05, 1)
    else:
        qty = floor_to_step(notional / price, qty_step)
        if qty * price < min_notional:
            qty = ceil_to_step(min_notional / price, qty_step)
    if qty <= 0.0 or qty * price < min_notional * (1.0 - 1e-12):
        return False, 0.0
    return True, qty


@njit(cache=True)
def kill_switch_state(pnls: np.ndarray, n: int, fast_streak: int, slow_window: int, slow_min_pf: float) -> int:
    """KILL_FAST if the last `fast_streak` net PnLs are all < 0 (0.0 breaks the streak); else KILL_SLOW if over the
    last `slow_window` trades gross profit / gross loss < `slow_min_pf` (only when there is a loss); else KILL_NONE.

    `pnls[:n]` is the trade history, oldest first.
    """
    if n >= fast_streak:
        streak = True
        for k in range(n - fast_streak, n):
            if not (pnls[k] < 0.0):
                streak = False
                break
        if streak:
            return KILL_FAST
    if n >= slow_window:
        gp = 0.0
        gl = 0.0
        for k in range(n - slow_window, n):
            if pnls[k] > 0.0:
                gp += pnls[k]
            elif pnls[k] < 0.0:
                gl -= pnls[k]
        if gl > 0.0 and gp / gl < slow_min_pf:
            return KILL_SLOW
    return KILL_NONE


@njit(cache=True)
def daily_limit_hit(daily_pnl: float, base_balance: float, max_loss_fraction: float) -> bool:
    """True when today's realised net loss reaches `max_loss_fraction` of the base (30 §7.1; D2 picks the base)."""
    if base_balance <= 0.0:
        return False
    return daily_pnl < 0.0 and (-daily_pnl) / base_balance >= max_loss_fraction


@njit(cache=True)
def can_open(symbol_open: bool, n_open: int, n_same_side: int, max_positions: int, max_same_direction: int) -> bool:
    """Position admission (30 §7.2): global cap, one position per symbol, cap per direction."""
    if n_open >= max_positions:
        return False
    if symbol_open:
        return False
    return n_same_side < max_same_direction
