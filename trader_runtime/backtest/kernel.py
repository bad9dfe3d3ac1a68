"""Compiled per-bar position simulation for one symbol (spec 20 §1.3–§1.11 under `EngineRules`).

Arrays in, arrays out: no pandas, no logging, no I/O. The rules themselves live in `strategy/decision.py` and
`backtest/fills.py`; this loop only sequences them. Per bar i in [start, end):
  1. a new UTC day resets the daily PnL (and, under D2, the daily-loss base to the current balance);
  2. when halted (kill switch or daily limit) and `block_exits` is set, the bar is skipped entirely (BT-01);
  3. an open position is checked against SL/TP on bar i; a close there ends the bar (no entry on that bar);
  4. an opposite signal closes at the close (REVERSE) and re-enters if admitted (re-checking halts if `recheck`);
  5. flat with a signal → entry at the close of bar i, if admitted, not halted and allowed by the ML mask.
The equity point of bar i is taken after the bar's actions (balance + unrealised PnL at the close). A position
still open after bar end-1 is closed there at the close (END_OF_DATA).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from trader_runtime.backtest.fills import fill_fee, gross_pnl, market_entry_price, market_exit_price, unrealised_pnl
from trader_runtime.strategy.decision import (
    HIT_NONE,
    HIT_SL,
    KILL_NONE,
    can_open,
    check_sl_tp,
    daily_limit_hit,
    dynamic_margin_ratio,
    kill_switch_state,
    position_quantity,
    sl_tp_levels,
)

# close reason codes: index into trader_runtime.domain.enums.CLOSE_REASON_CODES
REASON_SL = 0
REASON_TP = 1
REASON_REVERSE = 2
REASON_END_OF_DATA = 3

# float parameter vector
FP_INITIAL_BALANCE = 0
FP_LEVERAGE = 1
FP_FEE_RATE = 2
FP_SLIPPAGE_RATE = 3
FP_MIN_NOTIONAL = 4
FP_QTY_STEP = 5
FP_SL_MULT = 6
FP_TP_MULT = 7
FP_MARGIN_MAX = 8
FP_MARGIN_MIN = 9
FP_MARGIN_DECAY = 10
FP_MAX_DAILY_LOSS = 11
FP_KILL_SLOW_MIN_PF = 12
N_FP = 13

# integer parameter vector
IP_KILL_FAST_STREAK = 0
IP_KILL_SLOW_WINDOW = 1
IP_MAX_POSITIONS = 2
IP_MAX_SAME_DIRECTION = 3
IP_BLOCK_EXITS = 4
IP_RECHECK = 5
IP_ROUNDING = 6
IP_GAP_FILLS = 7
IP_DAILY_BASE = 8
IP_N_SYMBOLS = 9
N_IP = 10

# trade columns
TI_ENTRY_IDX, TI_EXIT_IDX, TI_SIDE, TI_REASON = 0, 1, 2, 3
N_TI = 4
TF_ENTRY_PRICE, TF_EXIT_PRICE, TF_QTY, TF_SL, TF_TP, TF_GROSS, TF_ENTRY_FEE, TF_EXIT_FEE, TF_NET = range(9)
N_TF = 9

# run state
ST_N_TRADES = 0
ST_KILL_CODE = 1
ST_KILL_BAR = 2
ST_DAILY_LIMIT_DAYS = 3
ST_HALT_BLOCKED = 4
ST_ML_BLOCKED = 5
N_ST = 6


@njit(cache=True)
def _book_close(ti, tf, state, k, i, exit_price, reason, fee_rate) -> float:
    """Complete trade k with its exit on bar i; returns its net PnL (D3)."""
    side = ti[k, TI_SIDE]
    qty = tf[k, TF_QTY]
    exit_fee = fill_fee(exit_price, qty, fee_rate)
    gross = gross_pnl(side, tf[k, TF_ENTRY_PRICE], exit_price, qty)
    net = gross - tf[k, TF_ENTRY_FEE] - exit_fee
    ti[k, TI_EXIT_IDX] = i
    ti[k, TI_REASON] = reason
    tf[k, TF_EXIT_PRICE] = exit_price
    tf[k, TF_GROSS] = gross
    tf[k, TF_EXIT_FEE] = exit_fee
    tf[k, TF_NET] = net
    state[ST_N_TRADES] = k + 1
    return net


@njit(cache=True)
def _try_enter(ti, tf, k, i, side, close_i, atr_i, balance, fp, ip) -> bool:
    """Size and open trade k on bar i (spec 20 §1.5); False when sizing or ATR rules out an entry."""
    per_symbol = balance / ip[IP_N_SYMBOLS]
    ratio = dynamic_margin_ratio(
        balance, fp[FP_INITIAL_BALANCE], fp[FP_MARGIN_MAX], fp[FP_MARGIN_MIN], fp[FP_MARGIN_DECAY]
    )
    ok, qty = position_quantity(
        per_symbol, close_i, ratio, fp[FP_LEVERAGE], fp[FP_MIN_NOTIONAL], fp[FP_QTY_STEP], ip[IP_ROUNDING]
    )
    if not ok or not (atr_i > 0.0):
        return False
    entry = market_entry_price(side, close_i, fp[FP_SLIPPAGE_RATE])
    sl, tp = sl_tp_levels(side, entry, atr_i, fp[FP_SL_MULT], fp[FP_TP_MULT])
    ti[k, TI_ENTRY_IDX] = i
    ti[k, TI_EXIT_IDX] = -1
    ti[k, TI_SIDE] = side
    ti[k, TI_REASON] = -1
    tf[k, TF_ENTRY_PRICE] = entry
    tf[k, TF_QTY] = qty
    tf[k, TF_SL] = sl
    tf[k, TF_TP] = tp
    tf[k, TF_ENTRY_FEE] = fill_fee(entry, qty, fp[FP_FEE_RATE])
    return True


@njit(cache=True)
def simulate(
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    atr: np.ndarray,
    signal: np.ndarray,
    allowed: np.ndarray,
    day: np.ndarray,
    start: int,
    end: int,
    fp: np.ndarray,
    ip: np.ndarray,
):
    """Run bars [start, end); returns (trade ints, trade floats, equity per bar, state). Trades are in close order."""
    n_bars = max(end - start, 0)
    cap = n_bars + 1
    ti = np.zeros((cap, N_TI), dtype=np.int64)
    tf = np.zeros((cap, N_TF), dtype=np.float64)
    equity = np.empty(n_bars, dtype=np.float64)
    state = np.zeros(N_ST, dtype=np.int64)
    state[ST_KILL_BAR] = -1
    if n_bars == 0:
        return ti[:0], tf[:0], equity, state

    fee_rate = fp[FP_FEE_RATE]
    slip = fp[FP_SLIPPAGE_RATE]
    max_loss = fp[FP_MAX_DAILY_LOSS]
    block_exits = ip[IP_BLOCK_EXITS] != 0
    recheck = ip[IP_RECHECK] != 0
    gap_fills = ip[IP_GAP_FILLS] != 0
    day_start_base = ip[IP_DAILY_BASE] != 0

    balance = fp[FP_INITIAL_BALANCE]
    daily_pnl = 0.0
    day_base = balance
    cur_day = np.int64(-(2**62))
    killed = KILL_NONE
    limit_counted_day = np.int64(-(2**62))
    k = 0  # index of the next trade slot
    pos_side = 0  # side of the open trade k (0 = flat)
    net_hist = tf[:, TF_NET]

    for i in range(start, end):
        if day[i] != cur_day:
            cur_day = day[i]
            daily_pnl = 0.0
            day_base = balance
        base = day_base if day_start_base else fp[FP_INITIAL_BALANCE]
        limited = daily_limit_hit(daily_pnl, base, max_loss)
        if limited and limit_counted_day != cur_day:
            limit_counted_day = cur_day
            state[ST_DAILY_LIMIT_DAYS] += 1
        halted_at_start = killed != KILL_NONE or limited
        sig = signal[i]

        if not (halted_at_start and block_exits):
            closed_by_level = False
            if pos_side != 0:
                hit, px = check_sl_tp(pos_side, tf[k, TF_SL], tf[k, TF_TP], open_[i], high[i], low[i], gap_fills)
                if hit != HIT_NONE:
                    reason = REASON_SL if hit == HIT_SL else REASON_TP
                    net = _book_close(ti, tf, state, k, i, px, reason, fee_rate)
                    balance += net
                    daily_pnl += net
                    k += 1
                    pos_side = 0
                    if killed == KILL_NONE:
                        killed = kill_switch_state(net_hist, k, ip[IP_KILL_FAST_STREAK], ip[IP_KILL_SLOW_WINDOW], fp[FP_KILL_SLOW_MIN_PF])
                        if killed != KILL_NONE:
                            state[ST_KILL_CODE] = killed
                            state[ST_KILL_BAR] = i
                    closed_by_level = True
            if not closed_by_level and sig != 0:
                if pos_side != 0:
                    if sig == -pos_side:
                        px = market_exit_price(pos_side, close[i], slip)
                        net = _book_close(ti, tf, state, k, i, px, REASON_REVERSE, fee_rate)
                        balance += net
                        daily_pnl += net
                        k += 1
                        pos_side = 0
                        if killed == KILL_NONE:
                            killed = kill_switch_state(net_hist, k, ip[IP_KILL_FAST_STREAK], ip[IP_KILL_SLOW_WINDOW], fp[FP_KILL_SLOW_MIN_PF])
                            if killed != KILL_NONE:
                                state[ST_KILL_CODE] = killed
                                state[ST_KILL_BAR] = i
                        ok = can_open(False, 0, 0, ip[IP_MAX_POSITIONS], ip[IP_MAX_SAME_DIRECTION]) and not halted_at_start
                        if ok and recheck:
                            base = day_base if day_start_base else fp[FP_INITIAL_BALANCE]
                            ok = killed == KILL_NONE and not daily_limit_hit(daily_pnl, base, max_loss)
                        if not ok:
                            state[ST_HALT_BLOCKED] += 1
                        elif not allowed[i]:
                            state[ST_ML_BLOCKED] += 1
                        elif _try_enter(ti, tf, k, i, sig, close[i], atr[i], balance, fp, ip):
                            pos_side = sig
                elif can_open(False, 0, 0, ip[IP_MAX_POSITIONS], ip[IP_MAX_SAME_DIRECTION]):
                    if halted_at_start:
                        state[ST_HALT_BLOCKED] += 1
                    elif not allowed[i]:
                        state[ST_ML_BLOCKED] += 1
                    elif _try_enter(ti, tf, k, i, sig, close[i], atr[i], balance, fp, ip):
                        pos_side = sig
        elif sig != 0 and sig != pos_side:
            state[ST_HALT_BLOCKED] += 1

        if pos_side != 0:
            equity[i - start] = balance + unrealised_pnl(pos_side, tf[k, TF_ENTRY_PRICE], close[i], tf[k, TF_QTY])
        else:
            equity[i - start] = balance

    if pos_side != 0:
        last = end - 1
        px = market_exit_price(pos_side, close[last], slip)
        net = _book_close(ti, tf, state, k, last, px, REASON_END_OF_DATA, fee_rate)
        balance += net
        k += 1
        equity[n_bars - 1] = balance
    return ti[:k], tf[:k], equity, state
