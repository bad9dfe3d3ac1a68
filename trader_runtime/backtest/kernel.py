"""Compiled bar loop over N symbols on one account (spec 20 §1.3–§1.11, 40 Part A under `EngineRules`).

Arrays in, arrays out: no pandas, no logging, no I/O. Symbols share one global bar grid (the union of their candle
open times, `present[s, g]` False where a symbol has no candle) and are processed in array order, which the
callers make ascending alphabetical (40 §A.3). Per global bar g:
  1. a new UTC day resets the daily PnL and the day base (D2); a kill switch past its reset delay is cleared;
  2. two-phase bar (default, PF-08): every symbol's liquidation/SL/TP check first, then funding settled at this
     bar's close (D20), then every symbol's candle-close decision (`step.signal_phase`) in symbol order;
     one-pass (legacy): each symbol runs exits then its decision before the next symbol starts, and a halted
     account skips the whole event, exits included (BT-01, PF-01/02);
  3. one mark-to-market equity point (PF-09).
State lives in the arrays of `step.new_state`, so a walk-forward can run fold after fold on one account (D18).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from trader_runtime.backtest.step import (  # noqa: F401 - layout constants re-exported for callers
    AF_BALANCE,
    AF_DAILY_PNL,
    AF_DAY_BASE,
    AF_FUNDING,
    AI_CUR_DAY,
    AI_DAILY_LIMIT_DAYS,
    AI_HALT_BLOCKED,
    AI_LIMIT_DAY,
    AI_LIQUIDATIONS,
    AI_ML_BLOCKED,
    AI_N_EVENTS,
    AI_N_TRADES,
    AI_RISK_BLOCKED,
    AI_RUINED,
    EV_DAILY_LIMIT,
    EV_KILL,
    EV_KILL_RESET,
    EV_LIQUIDATION,
    EV_RUIN,
    FP_FEE_RATE,
    FP_INITIAL_BALANCE,
    FP_KILL_SLOW_MIN_PF,
    FP_LEVERAGE,
    FP_MARGIN_BASE,
    FP_MARGIN_DECAY,
    FP_MARGIN_MAX,
    FP_MARGIN_MIN,
    FP_MAX_DAILY_LOSS,
    FP_MIN_NOTIONAL,
    FP_QTY_STEP,
    FP_SL_MULT,
    FP_SLIPPAGE_RATE,
    FP_TP_FEE_RATE,
    FP_TP_MULT,
    IP_BLOCK_EXITS,
    IP_DAILY_BASE,
    IP_FUNDING,
    IP_GAP_FILLS,
    IP_KILL_FAST_STREAK,
    IP_KILL_GLOBAL,
    IP_KILL_RESET_DAYS,
    IP_KILL_SLOW_WINDOW,
    IP_LIQUIDATION,
    IP_MARGIN_CHECK,
    IP_MARGIN_PER_SYMBOL,
    IP_MAX_POSITIONS,
    IP_MAX_SAME_DIRECTION,
    IP_N_SYMBOLS,
    IP_RECHECK,
    IP_ROUNDING,
    IP_TWO_PHASE,
    N_AF,
    N_AI,
    N_EV,
    N_FP,
    N_IP,
    N_TF,
    N_TI,
    PF_MARK,
    PI_EXIT_G,
    PI_HIST_N,
    PI_KILL,
    PI_KILL_DAY,
    PI_KILL_G,
    PI_LAST_G,
    PI_SIDE,
    REASON_END_OF_DATA,
    REASON_LIQUIDATION,
    REASON_REVERSE,
    REASON_SL,
    REASON_TP,
    TF_ENTRY_FEE,
    TF_ENTRY_PRICE,
    TF_EXIT_FEE,
    TF_EXIT_PRICE,
    TF_FUNDING,
    TF_GROSS,
    TF_LIQ_PRICE,
    TF_NET,
    TF_QTY,
    TF_SL,
    TF_TP,
    TI_ENTRY_IDX,
    TI_EXIT_IDX,
    TI_REASON,
    TI_SIDE,
    TI_SYMBOL,
    close_position,
    daily_limited,
    exit_phase,
    kill_row,
    mark_equity,
    new_state,
    settle_funding,
    signal_phase,
    _event,
)
from trader_runtime.backtest.fills import market_exit_price
from trader_runtime.strategy.decision import KILL_NONE


@njit(cache=True)
def _new_day(g, d, af, ai, pi, hist, ev, ip) -> None:
    ai[AI_CUR_DAY] = d
    af[AF_DAILY_PNL] = 0.0
    af[AF_DAY_BASE] = af[AF_BALANCE]
    reset_days = ip[IP_KILL_RESET_DAYS]
    if reset_days >= 0:
        for kr in range(pi.shape[0]):
            if pi[kr, PI_KILL] != KILL_NONE and d >= pi[kr, PI_KILL_DAY] + reset_days:
                pi[kr, PI_KILL] = KILL_NONE
                pi[kr, PI_HIST_N] = 0
                _event(ev, ai, EV_KILL_RESET, kr if kr < pi.shape[0] - 1 else -1, g, 0)


@njit(cache=True)
def _check_ruin(g, af, ai, pf, pi, ev, fp, ip, min_notional) -> None:
    """No open position and the balance cannot margin any symbol's minimum notional: trading stops (D19)."""
    if ai[AI_RUINED] != 0 or ip[IP_MARGIN_CHECK] == 0:
        return
    for s in range(pf.shape[0]):
        if pi[s, PI_SIDE] != 0:
            return
    per_symbol = af[AF_BALANCE] / ip[IP_N_SYMBOLS]
    smallest = min_notional[0]
    for s in range(min_notional.shape[0]):
        smallest = min(smallest, min_notional[s])
    if per_symbol <= 0.0 or per_symbol < smallest / fp[FP_LEVERAGE]:
        ai[AI_RUINED] = 1
        _event(ev, ai, EV_RUIN, -1, g, 0)


@njit(cache=True)
def _trades_on(s, g, present, lo, hi) -> bool:
    """Symbol s has a candle on global bar g inside its tradable bars [lo[s], hi[s])."""
    return present[s, g] and g >= lo[s] and g < hi[s]


@njit(cache=True)
def _event_start(s, sig, n_sym, af, ai, pi, fp, ip, block_exits):
    """Halt flags at the start of symbol s's decision (kill switch, daily limit) and whether a halt that blocks
    exits skips the whole event; a refused signal is counted once here, for both bar orders."""
    kr = kill_row(s, n_sym, ip)
    killed = pi[kr, PI_KILL] != KILL_NONE
    limited = daily_limited(af, fp, ip)
    halted = block_exits and (killed or limited)
    if halted and sig != 0 and sig != pi[s, PI_SIDE]:
        ai[AI_HALT_BLOCKED] += 1
    return killed, limited, halted


@njit(cache=True)
def run_bars(
    o, h, l, c, sl_dist, tp_dist, sig, allowed, present, funding, day,
    lo, hi, qty_step, min_notional, brackets,
    g0, g1, final, fp, ip,
    af, ai, pf, pi, hist, ti, tf, ev, equity,
):  # fmt: skip
    """Simulate global bars [g0, g1) on the account state (mutated); writes one equity point per bar into
    `equity[g - g0]`. Symbol s trades only on bars [lo[s], hi[s]) where present. With `final`, positions still
    open are closed at their symbol's last processed close (END_OF_DATA).

    Strategy inputs are generic: a signal per bar (1 LONG, -1 SHORT, 0 none), an ML/permission mask and the SL/TP
    distances from the entry price a position opened on that bar would get; any strategy that can express its
    entries this way runs on the same account rules."""
    n_sym = o.shape[0]
    two_phase = ip[IP_TWO_PHASE] != 0
    block_exits = ip[IP_BLOCK_EXITS] != 0
    use_funding = ip[IP_FUNDING] != 0
    for g in range(g0, g1):
        d = day[g]
        if d != ai[AI_CUR_DAY]:
            _new_day(g, d, af, ai, pi, hist, ev, ip)
        limited = daily_limited(af, fp, ip)
        if limited and ai[AI_LIMIT_DAY] != d:
            ai[AI_LIMIT_DAY] = d
            ai[AI_DAILY_LIMIT_DAYS] += 1
            _event(ev, ai, EV_DAILY_LIMIT, -1, g, 0)
        if two_phase:
            for s in range(n_sym):
                if not _trades_on(s, g, present, lo, hi):
                    continue
                pf[s, PF_MARK] = c[s, g]
                pi[s, PI_LAST_G] = g
                kr = kill_row(s, n_sym, ip)
                if block_exits and (pi[kr, PI_KILL] != KILL_NONE or daily_limited(af, fp, ip)):
                    continue
                exit_phase(s, g, d, o[s, g], h[s, g], l[s, g], af, ai, pf, pi, hist, ti, tf, ev, fp, ip)
            if use_funding:
                for s in range(n_sym):
                    if _trades_on(s, g, present, lo, hi):
                        settle_funding(s, funding[s, g], c[s, g], af, pf, pi)
            _check_ruin(g, af, ai, pf, pi, ev, fp, ip, min_notional)
            for s in range(n_sym):
                if not _trades_on(s, g, present, lo, hi):
                    continue
                if sig[s, g] == 0 and pi[s, PI_SIDE] == 0:
                    continue  # flat without a signal: the decision is HOLD, nothing to do
                start_killed, start_limited, halted = _event_start(s, sig[s, g], n_sym, af, ai, pi, fp, ip, block_exits)
                if halted:
                    continue
                signal_phase(s, g, d, sig[s, g], allowed[s, g], c[s, g], sl_dist[s, g], tp_dist[s, g], start_killed, start_limited,
                             af, ai, pf, pi, hist, ti, tf, ev, fp, ip, qty_step[s], min_notional[s], brackets[s])  # fmt: skip
        else:
            for s in range(n_sym):
                if not _trades_on(s, g, present, lo, hi):
                    continue
                pf[s, PF_MARK] = c[s, g]
                pi[s, PI_LAST_G] = g
                start_killed, start_limited, halted = _event_start(s, sig[s, g], n_sym, af, ai, pi, fp, ip, block_exits)
                if halted:
                    continue
                if exit_phase(s, g, d, o[s, g], h[s, g], l[s, g], af, ai, pf, pi, hist, ti, tf, ev, fp, ip):
                    continue
                if use_funding:
                    settle_funding(s, funding[s, g], c[s, g], af, pf, pi)
                if sig[s, g] == 0 and pi[s, PI_SIDE] == 0:
                    continue
                signal_phase(s, g, d, sig[s, g], allowed[s, g], c[s, g], sl_dist[s, g], tp_dist[s, g], start_killed, start_limited,
                             af, ai, pf, pi, hist, ti, tf, ev, fp, ip, qty_step[s], min_notional[s], brackets[s])  # fmt: skip
            _check_ruin(g, af, ai, pf, pi, ev, fp, ip, min_notional)
        equity[g - g0] = mark_equity(af, pf, pi, ip)
    if final:
        for s in range(n_sym):
            if pi[s, PI_SIDE] != 0 and pi[s, PI_LAST_G] >= 0:
                last = pi[s, PI_LAST_G]
                px = market_exit_price(pi[s, PI_SIDE], c[s, last], fp[FP_SLIPPAGE_RATE])
                close_position(s, last, day[last], px, REASON_END_OF_DATA, fp[FP_FEE_RATE], af, ai, pf, pi, hist, ti, tf, ev, fp, ip)
        if g1 > g0:
            equity[g1 - g0 - 1] = mark_equity(af, pf, pi, ip)


# ---------------------------------------------------------------------------------------------------------------
# One symbol, one run: the original single-array interface (tests, replay fixtures)
# ---------------------------------------------------------------------------------------------------------------

#: a maintenance bracket that never liquidates (used when liquidation is off)
NO_BRACKETS = np.array([[np.inf, 0.0, 0.0]], dtype=np.float64)

# run-state summary of `simulate` (kept for callers of the single-symbol interface)
ST_N_TRADES = 0
ST_KILL_CODE = 1
ST_KILL_BAR = 2
ST_DAILY_LIMIT_DAYS = 3
ST_HALT_BLOCKED = 4
ST_ML_BLOCKED = 5
N_ST = 6


def trade_capacity(sig: np.ndarray, g0: int, g1: int) -> int:
    """Upper bound of trades in [g0, g1): every trade starts on a signal bar, plus one per symbol at the end."""
    return int(np.count_nonzero(sig[:, g0:g1])) + sig.shape[0] + 1


def simulate(open_, high, low, close, atr, signal, allowed, day, start, end, fp, ip, brackets=None, funding=None):
    """One symbol over bars [start, end) from a fresh account; returns (trade ints, trade floats, equity, state)."""
    n = close.shape[0]
    as2 = lambda a: np.ascontiguousarray(a).reshape(1, n)  # noqa: E731
    sig2 = np.ascontiguousarray(signal, dtype=np.int8).reshape(1, n)
    start, end = int(start), int(max(end, start))
    af, ai, pf, pi, hist = new_state(1, max(int(ip[IP_KILL_FAST_STREAK]), int(ip[IP_KILL_SLOW_WINDOW])), float(fp[FP_INITIAL_BALANCE]))
    cap = trade_capacity(sig2, start, end)
    ti = np.zeros((cap, N_TI), dtype=np.int64)
    tf = np.zeros((cap, N_TF), dtype=np.float64)
    ev = np.zeros((cap * 2 + (end - start) // 96 + 16, N_EV), dtype=np.int64)
    equity = np.empty(end - start, dtype=np.float64)
    fund = np.zeros((1, n)) if funding is None else np.ascontiguousarray(funding, dtype=np.float64).reshape(1, n)
    br = NO_BRACKETS if brackets is None else brackets
    atr2 = as2(atr)
    run_bars(
        as2(open_), as2(high), as2(low), as2(close), atr2 * fp[FP_SL_MULT], atr2 * fp[FP_TP_MULT], sig2,
        np.ascontiguousarray(allowed, dtype=np.bool_).reshape(1, n), np.ones((1, n), dtype=np.bool_), fund,
        np.ascontiguousarray(day, dtype=np.int64), np.array([start], dtype=np.int64), np.array([end], dtype=np.int64),
        np.array([fp[FP_QTY_STEP]]), np.array([fp[FP_MIN_NOTIONAL]]), br.reshape(1, *br.shape),
        start, end, True, fp, ip, af, ai, pf, pi, hist, ti, tf, ev, equity,
    )  # fmt: skip
    k = int(ai[AI_N_TRADES])
    state = np.zeros(N_ST, dtype=np.int64)
    state[ST_N_TRADES] = k
    state[ST_KILL_BAR] = -1
    kills = ev[: int(ai[AI_N_EVENTS])]
    first_kill = kills[kills[:, 0] == EV_KILL]
    if len(first_kill):
        state[ST_KILL_CODE] = first_kill[0, 3]
        state[ST_KILL_BAR] = first_kill[0, 2]
    state[ST_DAILY_LIMIT_DAYS] = ai[AI_DAILY_LIMIT_DAYS]
    state[ST_HALT_BLOCKED] = ai[AI_HALT_BLOCKED]
    state[ST_ML_BLOCKED] = ai[AI_ML_BLOCKED]
    return ti[:k], tf[:k], equity, state
