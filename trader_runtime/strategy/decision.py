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


# --------------------------------------------------------------------------------------------------------------
# The per-candle decision table (kernel step and live bot call this one function; issue "one per-bar step")
# --------------------------------------------------------------------------------------------------------------

ACT_LEVEL_EXIT = 1  # the position was closed by SL/TP/liquidation during this candle: nothing else on it
ACT_HOLD_POSITION = 2  # in a position, signal is HOLD or the same side
ACT_REVERSE = 3  # in a position, opposite signal: close at market, then decide again with reentry=True
ACT_HOLD = 4  # flat, no signal
ACT_ENTER = 5
ACT_BLOCK_OTHER = 6  # an account-level stop (ruin, failed reconciliation)
ACT_BLOCK_KILL = 7
ACT_BLOCK_DAILY = 8
ACT_BLOCK_RISK = 9  # admission: max positions, one per symbol, max same direction
ACT_BLOCK_ML = 10  # ML filter below its threshold
ACT_BLOCK_ML_UNAVAILABLE = 11  # ML gate on but no probability (live blocks, D5/BT-07)

ML_OK = 0
ML_BELOW = 1
ML_UNAVAILABLE = 2


@njit(cache=True)
def decide_candle(
    pos_side: int,
    level_exit: bool,
    signal: int,
    reentry: bool,
    other_halt: bool,
    killed: bool,
    daily_limited: bool,
    admitted: bool,
    ml_code: int,
) -> int:
    """What to do at a candle close, as an ACT_* code (spec 20 §1.4 steps 4–6, 30 §4, D1, D10).

    `reentry` is the second call after a REVERSE close was booked; the caller passes the gates as they stand
    then (BT-02: halts re-checked after the close). Gate order: account stop, kill switch, daily limit,
    admission, ML — the first failing gate names the block.
    """
    if level_exit:
        return ACT_LEVEL_EXIT
    if pos_side != 0 and not reentry:
        if signal != -pos_side or signal == 0:
            return ACT_HOLD_POSITION
        return ACT_REVERSE
    if signal == 0:
        return ACT_HOLD
    if other_halt:
        return ACT_BLOCK_OTHER
    if killed:
        return ACT_BLOCK_KILL
    if daily_limited:
        return ACT_BLOCK_DAILY
    if not admitted:
        return ACT_BLOCK_RISK
    if ml_code == ML_BELOW:
        return ACT_BLOCK_ML
    if ml_code == ML_UNAVAILABLE:
        return ACT_BLOCK_ML_UNAVAILABLE
    return ACT_ENTER


@njit(cache=True)
def maintenance_bracket(brackets: np.ndarray, notional: float) -> tuple[float, float]:
    """(maintenance margin rate, maintenance amount) of the bracket holding `notional`.

    `brackets` rows are (notional cap, rate, amount) sorted by cap (Binance leverage brackets); the last row
    also covers anything above its cap.
    """
    n = brackets.shape[0]
    for b in range(n):
        if notional <= brackets[b, 0]:
            return brackets[b, 1], brackets[b, 2]
    return brackets[n - 1, 1], brackets[n - 1, 2]


@njit(cache=True)
def liquidation_price(side: int, entry_price: float, quantity: float, margin: float, brackets: np.ndarray) -> float:
    """Isolated-margin liquidation price of a one-way position (Binance USD-M formula, no other positions):

        LP = (WB + cum − side·q·EP) / (q·MMR − side·q)

    with WB the isolated wallet (the position's margin), cum the bracket's maintenance amount and MMR its rate.
    Returns 0.0 for a LONG that cannot be liquidated above zero.
    """
    notional = entry_price * quantity
    mmr, cum = maintenance_bracket(brackets, notional)
    denom = quantity * mmr - side * quantity
    if denom == 0.0:
        return 0.0
    lp = (margin + cum - side * quantity * entry_price) / denom
    return lp if lp > 0.0 else 0.0
