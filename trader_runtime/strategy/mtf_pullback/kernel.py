"""Compiled per-candle rules of the MTF pullback (spec 40 §B.4) and the backtest loop over them.

`entry_step` is the whole entry decision for one closed candle while flat; the backtest loop below and the live
bot call the same function (one trigger implementation, decision MTF-A). Exits use the shared
`strategy.decision.check_sl_tp` (SL wins a candle touching both). Arrays in, arrays out: no pandas, no I/O.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from trader_runtime.backtest.fills import market_entry_price, market_exit_price
from trader_runtime.domain.enums import CLOSE_REASON_CODES, CloseReason
from trader_runtime.strategy.decision import HIT_NONE, HIT_SL, check_sl_tp, sl_tp_levels
from trader_runtime.strategy.mtf_pullback.params import ENTRY_NEXT_OPEN, SEQ_STICKY, VOL_CURRENT

# decision state (int64 vector carried from candle to candle; the counters are for reports only)
ST_READY = 0  # a pullback is armed
ST_READY_SIDE = 1  # its side (1 LONG, −1 SHORT)
ST_META_LONG = 2  # candles decided while flat with a LONG trend
ST_META_SHORT = 3
ST_PULLBACKS = 4
ST_TRIGGERS = 5
N_ST = 6

# integer parameters
IP_SEQUENCE = 0
IP_VOLUME_RULE = 1
IP_ENTRY_PRICE = 2
IP_GAP_FILLS = 3
IP_CLOSE_AT_END = 4
N_IP = 5

# float parameters
FP_DRY_RATIO = 0
FP_SL_MULT = 1
FP_TP_MULT = 2
FP_SLIPPAGE = 3  # market entries and the end-of-data close; 0 in the research rules
N_FP = 4

# trade columns
TI_ENTRY_IDX, TI_EXIT_IDX, TI_SIDE, TI_REASON, TI_SIGNAL_IDX = 0, 1, 2, 3, 4
N_TI = 5
TF_ENTRY, TF_EXIT, TF_SL, TF_TP, TF_ATR = 0, 1, 2, 3, 4
N_TF = 5

REASON_SL = CLOSE_REASON_CODES.index(CloseReason.SL)
REASON_TP = CLOSE_REASON_CODES.index(CloseReason.TP)
REASON_END_OF_DATA = CLOSE_REASON_CODES.index(CloseReason.END_OF_DATA)


@njit(cache=True)
def _dry(j: int, volume: np.ndarray, vol_sma: np.ndarray, ratio: float, rule: int) -> bool:
    """Volume dried up on candle j: volume(j) < ratio × SMA(j) ("current"), or volume(j) / SMA(j−1) < ratio."""
    if rule == VOL_CURRENT:
        return volume[j] < ratio * vol_sma[j]
    if j < 1 or math.isnan(vol_sma[j - 1]):
        return False
    if vol_sma[j - 1] <= 0.0:
        return False  # ratio is infinite
    return volume[j] / vol_sma[j - 1] < ratio


@njit(cache=True)
def _beyond(side: int, close: float, ema: float, pullback: bool) -> bool:
    """Close on the pullback side of the EMA (below for LONG) or on the resumption side; equality is neither."""
    if pullback:
        return close < ema if side == 1 else close > ema
    return close > ema if side == 1 else close < ema


@njit(cache=True)
def entry_step(
    i: int,
    close: np.ndarray,
    volume: np.ndarray,
    trig_ema: np.ndarray,
    vol_sma: np.ndarray,
    atr: np.ndarray,
    meta: np.ndarray,
    has_next: bool,
    st: np.ndarray,
    sequence: int,
    volume_rule: int,
    dry_ratio: float,
) -> int:
    """Entry decision at the close of candle i while flat: 1 LONG, −1 SHORT, 0 none. Updates `st` in place.

    Missing inputs or a HOLD trend disarm the pullback. "sticky": an armed pullback of the trend's side resumes on
    any later candle closing back across the EMA; "strict3": the pullback must be candle i−1. A resumption on the
    last candle of a backtest (`has_next` False) cannot be entered at the next open and falls through.
    """
    if math.isnan(trig_ema[i]) or math.isnan(vol_sma[i]) or math.isnan(atr[i]):
        st[ST_READY] = 0
        return 0
    side = int(meta[i])
    if side == 0:
        st[ST_READY] = 0
        return 0
    if side == 1:
        st[ST_META_LONG] += 1
    else:
        st[ST_META_SHORT] += 1
    if sequence == SEQ_STICKY:
        if st[ST_READY] != 0 and st[ST_READY_SIDE] == side and _beyond(side, close[i], trig_ema[i], False) and has_next:
            st[ST_READY] = 0
            st[ST_TRIGGERS] += 1
            return side
        if _beyond(side, close[i], trig_ema[i], True) and _dry(i, volume, vol_sma, dry_ratio, volume_rule):
            st[ST_READY] = 1
            st[ST_READY_SIDE] = side
            st[ST_PULLBACKS] += 1
        elif st[ST_READY_SIDE] != side:
            st[ST_READY] = 0
        return 0
    # strict three-candle sequence: pullback on i−1, resumption on i
    if i < 1 or math.isnan(trig_ema[i - 1]):
        return 0
    if _beyond(side, close[i - 1], trig_ema[i - 1], True) and _dry(i - 1, volume, vol_sma, dry_ratio, volume_rule):
        st[ST_PULLBACKS] += 1
        if _beyond(side, close[i], trig_ema[i], False) and has_next:
            st[ST_TRIGGERS] += 1
            return side
    return 0


@njit(cache=True)
def _book_exit(ti: np.ndarray, tf: np.ndarray, k: int, i: int, reason: int, price: float) -> int:
    """Close open trade k on candle i at `price`; returns the next trade slot (money is booked afterwards, by the
    account or by `backtest.trades_frame`)."""
    ti[k, TI_EXIT_IDX] = i
    ti[k, TI_REASON] = reason
    tf[k, TF_EXIT] = price
    return k + 1


@njit(cache=True)
def simulate_mtf(
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
    trig_ema: np.ndarray,
    vol_sma: np.ndarray,
    atr: np.ndarray,
    meta: np.ndarray,
    first: int,
    trade_from: int,
    end: int,
    ip: np.ndarray,
    fp: np.ndarray,
):
    """Decide candles [first, end) one at a time (B.4); returns (trade ints, trade floats, state, decisions).

    Candles before `trade_from` only move the decision state, as if flat (the trader's start-up history does the
    same); `decisions[i]` is the entry decision at candle i's close (0 while a trade is open).

    Per candle: an open trade is checked against SL/TP first; if it closes, the same candle may still arm or
    trigger (B.4 step 1 "continues"). Entries fill at the next candle's open (or at the close) with ATR levels from
    the signal candle. A trade open after the last candle closes at its close (END_OF_DATA) or is dropped.
    """
    cap = max(end - trade_from, 0) + 1
    ti = np.zeros((cap, N_TI), dtype=np.int64)
    tf = np.zeros((cap, N_TF), dtype=np.float64)
    st = np.zeros(N_ST, dtype=np.int64)
    dec = np.zeros(close.shape[0], dtype=np.int8)
    seq, vrule, entry_rule = ip[IP_SEQUENCE], ip[IP_VOLUME_RULE], ip[IP_ENTRY_PRICE]
    gap_fills = ip[IP_GAP_FILLS] != 0
    k = 0
    pos = 0
    sl = 0.0
    tp = 0.0
    base = np.zeros(N_ST, dtype=np.int64)  # counters at trade_from: reports count the traded candles only
    for i in range(first, end):
        if i == trade_from:
            base[:] = st
        if pos != 0 and ti[k, TI_ENTRY_IDX] <= i:
            hit, px = check_sl_tp(pos, sl, tp, open_[i], high[i], low[i], gap_fills)
            if hit != HIT_NONE:
                k = _book_exit(ti, tf, k, i, REASON_SL if hit == HIT_SL else REASON_TP, px)
                pos = 0
        if pos != 0:
            continue
        next_open = entry_rule == ENTRY_NEXT_OPEN
        has_next = (i + 1 < end) or not next_open
        side = entry_step(i, close, volume, trig_ema, vol_sma, atr, meta, has_next, st, seq, vrule, fp[FP_DRY_RATIO])
        dec[i] = side
        if side != 0 and i >= trade_from:
            entry_idx = i + 1 if next_open else i
            entry = market_entry_price(side, open_[entry_idx] if next_open else close[i], fp[FP_SLIPPAGE])
            sl, tp = sl_tp_levels(side, entry, atr[i], fp[FP_SL_MULT], fp[FP_TP_MULT])
            ti[k, TI_ENTRY_IDX] = entry_idx
            ti[k, TI_EXIT_IDX] = -1
            ti[k, TI_SIDE] = side
            ti[k, TI_REASON] = -1
            ti[k, TI_SIGNAL_IDX] = i
            tf[k, TF_ENTRY] = entry
            tf[k, TF_SL] = sl
            tf[k, TF_TP] = tp
            tf[k, TF_ATR] = atr[i]
            pos = side
    if pos != 0 and ip[IP_CLOSE_AT_END] != 0 and end > first:
        k = _book_exit(ti, tf, k, end - 1, REASON_END_OF_DATA, market_exit_price(pos, close[end - 1], fp[FP_SLIPPAGE]))
    for c in range(ST_META_LONG, N_ST):
        st[c] -= base[c]
    return ti[:k], tf[:k], st, dec


@njit(cache=True)
def decide_with_positions(
    close: np.ndarray,
    volume: np.ndarray,
    trig_ema: np.ndarray,
    vol_sma: np.ndarray,
    atr: np.ndarray,
    meta: np.ndarray,
    in_position: np.ndarray,
    first: int,
    end: int,
    ip: np.ndarray,
    fp: np.ndarray,
) -> np.ndarray:
    """Entry decisions on candles [first, end) when the position comes from elsewhere (an account that may refuse
    entries or liquidate): a candle decided while `in_position` moves no state, exactly as in the trader."""
    dec = np.zeros(close.shape[0], dtype=np.int8)
    st = np.zeros(N_ST, dtype=np.int64)
    for i in range(first, end):
        if in_position[i]:
            continue
        dec[i] = entry_step(i, close, volume, trig_ema, vol_sma, atr, meta, True, st, ip[IP_SEQUENCE],
                            ip[IP_VOLUME_RULE], fp[FP_DRY_RATIO])  # fmt: skip
    return dec
