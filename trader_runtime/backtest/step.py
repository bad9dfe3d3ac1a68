"""The per-bar step of one symbol on one shared account: the only place the backtest sequences the trading rules.

Two phases per bar (spec 40 §A.9 PF-08): `exit_phase` (liquidation, SL/TP on the bar's range) and `signal_phase`
(the decision at the candle close: reverse, risk gates, sizing, entry). Closing a trade books it into the
account (balance, daily PnL) and updates the kill switch. The branching itself is
`strategy.decision.decide_candle`, the function the live bot calls for its decision, so backtest and live take
the same decision from the same state (STYLE 2.2). Everything here is numba-compiled and works on small state
arrays so the portfolio kernel (`kernel.run_bars`) can loop over symbols and bars without Python objects.

State arrays (all mutated in place):
- `af` / `ai`: account floats (balance, daily PnL, day base, funding) and ints (day, trade and event counts,
  counters, ruin flag);
- `pf` / `pi`: per-symbol open-position floats and ints; row S of `pi`/`hist` is the account-wide kill switch
  used by the legacy rules (one switch for all symbols, PF-01);
- `hist`: the last net PnLs per kill-switch scope (oldest first, `pi[:, PI_HIST_N]` long);
- `ti` / `tf`: closed trades in close order; `ev`: halts and other events (kind, symbol, bar, code).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from trader_runtime.backtest.fills import fill_fee, gross_pnl, market_entry_price, market_exit_price, unrealised_pnl
from trader_runtime.strategy.decision import (
    ACT_BLOCK_ML,
    ACT_BLOCK_ML_UNAVAILABLE,
    ACT_BLOCK_RISK,
    ACT_ENTER,
    ACT_REVERSE,
    HIT_NONE,
    HIT_SL,
    KILL_NONE,
    ML_BELOW,
    ML_OK,
    can_open,
    check_sl_tp,
    daily_limit_hit,
    decide_candle,
    dynamic_margin_ratio,
    kill_switch_state,
    liquidation_price,
    position_quantity,
    sl_tp_levels,
)

# close reason codes: index into trader_runtime.domain.enums.CLOSE_REASON_CODES
REASON_SL = 0
REASON_TP = 1
REASON_REVERSE = 2
REASON_END_OF_DATA = 3
REASON_LIQUIDATION = 5

# float parameters
FP_INITIAL_BALANCE = 0
FP_LEVERAGE = 1
FP_FEE_RATE = 2  # taker: market entries, market exits, stop-market (SL)
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
FP_TP_FEE_RATE = 13  # take-profit exits (taker for TAKE_PROFIT_MARKET; maker when TP rests as a limit order)
FP_MARGIN_BASE = 14  # the balance the dynamic margin ratio decays from
N_FP = 15

# integer parameters
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
IP_TWO_PHASE = 10
IP_KILL_GLOBAL = 11
IP_MARGIN_PER_SYMBOL = 12
IP_LIQUIDATION = 13
IP_FUNDING = 14
IP_MARGIN_CHECK = 15
IP_KILL_RESET_DAYS = 16  # -1: never
N_IP = 17

# trade columns
TI_ENTRY_IDX, TI_EXIT_IDX, TI_SIDE, TI_REASON, TI_SYMBOL = 0, 1, 2, 3, 4
N_TI = 5
TF_ENTRY_PRICE, TF_EXIT_PRICE, TF_QTY, TF_SL, TF_TP, TF_GROSS, TF_ENTRY_FEE, TF_EXIT_FEE, TF_NET = range(9)
TF_FUNDING = 9
TF_LIQ_PRICE = 10
N_TF = 11

# account state
AF_BALANCE, AF_DAILY_PNL, AF_DAY_BASE, AF_FUNDING = 0, 1, 2, 3
N_AF = 4
AI_CUR_DAY = 0
AI_LIMIT_DAY = 1
AI_RUINED = 2
AI_N_TRADES = 3
AI_N_EVENTS = 4
AI_DAILY_LIMIT_DAYS = 5
AI_HALT_BLOCKED = 6
AI_ML_BLOCKED = 7
AI_RISK_BLOCKED = 8
AI_LIQUIDATIONS = 9
N_AI = 10

# per-symbol position state
PF_ENTRY, PF_QTY, PF_SL, PF_TP, PF_ENTRY_FEE, PF_FUNDING, PF_LIQ, PF_MARGIN, PF_MARK = range(9)
N_PF = 9
PI_SIDE, PI_ENTRY_G, PI_EXIT_G, PI_KILL, PI_KILL_G, PI_KILL_DAY, PI_HIST_N, PI_LAST_G = range(8)
N_PI = 8

# events
EV_KILL = 1  # code = KILL_FAST / KILL_SLOW
EV_KILL_RESET = 2
EV_DAILY_LIMIT = 3
EV_LIQUIDATION = 4
EV_RUIN = 5
N_EV = 4

NO_DAY = -(2**62)


def new_state(n_symbols: int, hist_len: int, initial_balance: float) -> tuple[np.ndarray, ...]:
    """Fresh account: (af, ai, pf, pi, hist); a continuous walk-forward passes the same arrays to every fold."""
    af = np.zeros(N_AF, dtype=np.float64)
    af[AF_BALANCE] = initial_balance
    af[AF_DAY_BASE] = initial_balance
    ai = np.zeros(N_AI, dtype=np.int64)
    ai[AI_CUR_DAY] = NO_DAY
    ai[AI_LIMIT_DAY] = NO_DAY
    pf = np.zeros((n_symbols, N_PF), dtype=np.float64)
    pi = np.zeros((n_symbols + 1, N_PI), dtype=np.int64)
    pi[:, PI_EXIT_G] = -1
    pi[:, PI_KILL_G] = -1
    pi[:, PI_LAST_G] = -1
    hist = np.zeros((n_symbols + 1, max(hist_len, 1)), dtype=np.float64)
    return af, ai, pf, pi, hist


@njit(cache=True)
def _event(ev, ai, kind, s, g, code) -> None:
    n = ai[AI_N_EVENTS]
    if n < ev.shape[0]:
        ev[n, 0] = kind
        ev[n, 1] = s
        ev[n, 2] = g
        ev[n, 3] = code
        ai[AI_N_EVENTS] = n + 1


@njit(cache=True)
def _push_history(hist, pi, kr, net) -> None:
    n = pi[kr, PI_HIST_N]
    cap = hist.shape[1]
    if n < cap:
        hist[kr, n] = net
        pi[kr, PI_HIST_N] = n + 1
    else:
        for j in range(cap - 1):
            hist[kr, j] = hist[kr, j + 1]
        hist[kr, cap - 1] = net


@njit(cache=True)
def kill_row(s: int, n_symbols: int, ip) -> int:
    return n_symbols if ip[IP_KILL_GLOBAL] != 0 else s


@njit(cache=True)
def daily_limited(af, fp, ip) -> bool:
    base = af[AF_DAY_BASE] if ip[IP_DAILY_BASE] != 0 else fp[FP_INITIAL_BALANCE]
    return daily_limit_hit(af[AF_DAILY_PNL], base, fp[FP_MAX_DAILY_LOSS])


@njit(cache=True)
def close_position(s, g, day, price, reason, fee_rate, af, ai, pf, pi, hist, ti, tf, ev, fp, ip) -> float:
    """Book the close of symbol s's position on bar g (D3 net), move the account and update the kill switch."""
    n_sym = pf.shape[0]
    k = ai[AI_N_TRADES]
    side = pi[s, PI_SIDE]
    qty = pf[s, PF_QTY]
    gross = gross_pnl(side, pf[s, PF_ENTRY], price, qty)
    if reason == REASON_LIQUIDATION:
        # the isolated wallet is gone: what is left of the margin at the liquidation price is the clearance fee
        exit_fee = pf[s, PF_MARGIN] + gross
        if exit_fee < 0.0:
            exit_fee = 0.0
    else:
        exit_fee = fill_fee(price, qty, fee_rate)
    net = gross - pf[s, PF_ENTRY_FEE] - exit_fee
    if af[AF_BALANCE] + net < 0.0:  # an exchange never takes more than the wallet holds
        net = -af[AF_BALANCE]
        exit_fee = gross - pf[s, PF_ENTRY_FEE] - net
    ti[k, TI_ENTRY_IDX] = pi[s, PI_ENTRY_G]
    ti[k, TI_EXIT_IDX] = g
    ti[k, TI_SIDE] = side
    ti[k, TI_REASON] = reason
    ti[k, TI_SYMBOL] = s
    tf[k, TF_ENTRY_PRICE] = pf[s, PF_ENTRY]
    tf[k, TF_EXIT_PRICE] = price
    tf[k, TF_QTY] = qty
    tf[k, TF_SL] = pf[s, PF_SL]
    tf[k, TF_TP] = pf[s, PF_TP]
    tf[k, TF_GROSS] = gross
    tf[k, TF_ENTRY_FEE] = pf[s, PF_ENTRY_FEE]
    tf[k, TF_EXIT_FEE] = exit_fee
    tf[k, TF_NET] = net
    tf[k, TF_FUNDING] = pf[s, PF_FUNDING]
    tf[k, TF_LIQ_PRICE] = pf[s, PF_LIQ]
    ai[AI_N_TRADES] = k + 1
    af[AF_BALANCE] += net
    af[AF_DAILY_PNL] += net
    pi[s, PI_SIDE] = 0
    if reason == REASON_LIQUIDATION:
        ai[AI_LIQUIDATIONS] += 1
        _event(ev, ai, EV_LIQUIDATION, s, g, 0)
    kr = kill_row(s, n_sym, ip)
    _push_history(hist, pi, kr, net)
    if pi[kr, PI_KILL] == KILL_NONE:
        code = kill_switch_state(hist[kr], pi[kr, PI_HIST_N], ip[IP_KILL_FAST_STREAK], ip[IP_KILL_SLOW_WINDOW], fp[FP_KILL_SLOW_MIN_PF])
        if code != KILL_NONE:
            pi[kr, PI_KILL] = code
            pi[kr, PI_KILL_G] = g
            pi[kr, PI_KILL_DAY] = day
            _event(ev, ai, EV_KILL, s if ip[IP_KILL_GLOBAL] == 0 else -1, g, code)
    return net


@njit(cache=True)
def try_enter(s, g, side, close, sl_dist, tp_dist, af, pf, pi, fp, ip, qty_step, min_notional, brackets) -> bool:
    """Size and open a position at the close of bar g (spec 20 §1.5, 30 §5.1); False when no admissible size.

    `sl_dist`/`tp_dist` are the strategy's exit distances from the entry price (the weighted-signal strategy:
    ATR × multiple, computed exactly as `decision.sl_tp_levels` does)."""
    n = ip[IP_N_SYMBOLS]
    balance = af[AF_BALANCE]
    per_symbol = balance / n
    if ip[IP_MARGIN_PER_SYMBOL] != 0:  # PF-04/DEF-18: per-symbol balance against base / N, as live
        ratio = dynamic_margin_ratio(per_symbol, fp[FP_MARGIN_BASE] / n, fp[FP_MARGIN_MAX], fp[FP_MARGIN_MIN], fp[FP_MARGIN_DECAY])
    else:
        ratio = dynamic_margin_ratio(balance, fp[FP_INITIAL_BALANCE], fp[FP_MARGIN_MAX], fp[FP_MARGIN_MIN], fp[FP_MARGIN_DECAY])
    lev = fp[FP_LEVERAGE]
    ok, qty = position_quantity(per_symbol, close, ratio, lev, min_notional, qty_step, ip[IP_ROUNDING])
    if ok and ip[IP_MARGIN_CHECK] != 0 and qty * close / lev > per_symbol:
        ok = False  # DEF-19: the minimum notional needs more margin than this balance has
    if not ok or not (sl_dist > 0.0) or not (tp_dist > 0.0):
        return False
    entry = market_entry_price(side, close, fp[FP_SLIPPAGE_RATE])
    sl, tp = sl_tp_levels(side, entry, 1.0, sl_dist, tp_dist)
    margin = entry * qty / lev
    pi[s, PI_SIDE] = side
    pi[s, PI_ENTRY_G] = g
    pf[s, PF_ENTRY] = entry
    pf[s, PF_QTY] = qty
    pf[s, PF_SL] = sl
    pf[s, PF_TP] = tp
    pf[s, PF_ENTRY_FEE] = fill_fee(entry, qty, fp[FP_FEE_RATE])
    pf[s, PF_FUNDING] = 0.0
    pf[s, PF_MARGIN] = margin
    pf[s, PF_LIQ] = liquidation_price(side, entry, qty, margin, brackets) if ip[IP_LIQUIDATION] != 0 else 0.0
    return True


@njit(cache=True)
def exit_phase(s, g, day, o, h, l, af, ai, pf, pi, hist, ti, tf, ev, fp, ip) -> bool:
    """Liquidation, then SL/TP on bar g's range (SL first; never on the entry bar). True when it closed."""
    side = pi[s, PI_SIDE]
    if side == 0 or pi[s, PI_ENTRY_G] >= g:
        return False
    if ip[IP_LIQUIDATION] != 0:
        liq = pf[s, PF_LIQ]
        sl = pf[s, PF_SL]
        if side == 1:
            hit_liq = liq > 0.0 and (o <= liq or (l <= liq and sl <= liq))
        else:
            hit_liq = liq > 0.0 and (o >= liq or (h >= liq and sl >= liq))
        if hit_liq:  # a stop beyond the liquidation price, or a gap through it: the exchange liquidates first
            close_position(s, g, day, liq, REASON_LIQUIDATION, fp[FP_FEE_RATE], af, ai, pf, pi, hist, ti, tf, ev, fp, ip)
            pi[s, PI_EXIT_G] = g
            return True
    hit, px = check_sl_tp(side, pf[s, PF_SL], pf[s, PF_TP], o, h, l, ip[IP_GAP_FILLS] != 0)
    if hit == HIT_NONE:
        return False
    if hit == HIT_SL:
        close_position(s, g, day, px, REASON_SL, fp[FP_FEE_RATE], af, ai, pf, pi, hist, ti, tf, ev, fp, ip)
    else:
        close_position(s, g, day, px, REASON_TP, fp[FP_TP_FEE_RATE], af, ai, pf, pi, hist, ti, tf, ev, fp, ip)
    pi[s, PI_EXIT_G] = g
    return True


@njit(cache=True)
def settle_funding(s, rate, mark, af, pf, pi) -> None:
    """Funding at a settlement for an open position: LONG pays a positive rate, SHORT receives it (D20)."""
    side = pi[s, PI_SIDE]
    if side == 0 or not (rate == rate) or rate == 0.0:
        return
    pay = -side * pf[s, PF_QTY] * mark * rate
    pf[s, PF_FUNDING] += pay
    af[AF_BALANCE] += pay
    af[AF_FUNDING] += pay


@njit(cache=True)
def _admitted(s, side, pi, n_sym, ip) -> bool:
    n_open = 0
    same = 0
    for j in range(n_sym):
        if pi[j, PI_SIDE] != 0:
            n_open += 1
            if pi[j, PI_SIDE] == side:
                same += 1
    return can_open(pi[s, PI_SIDE] != 0, n_open, same, ip[IP_MAX_POSITIONS], ip[IP_MAX_SAME_DIRECTION])


@njit(cache=True)
def _count_block(act, ai) -> None:
    if act == ACT_BLOCK_RISK:
        ai[AI_RISK_BLOCKED] += 1
    elif act == ACT_BLOCK_ML or act == ACT_BLOCK_ML_UNAVAILABLE:
        ai[AI_ML_BLOCKED] += 1
    else:
        ai[AI_HALT_BLOCKED] += 1


@njit(cache=True)
def signal_phase(
    s, g, day, sig, ml_ok, close, sl_dist, tp_dist, start_killed, start_limited,
    af, ai, pf, pi, hist, ti, tf, ev, fp, ip, qty_step, min_notional, brackets,
) -> int:  # fmt: skip
    """The candle-close decision of symbol s on bar g; returns the final ACT_* code.

    Halt flags: with `recheck` (BT-02 fix, live) the gates are read as they stand at the decision; without it
    (legacy) the flags from the start of the symbol's event are used for both the entry and the reverse re-entry.
    """
    n_sym = pf.shape[0]
    kr = kill_row(s, n_sym, ip)
    recheck = ip[IP_RECHECK] != 0
    ml_code = ML_OK if ml_ok else ML_BELOW
    ruined = ai[AI_RUINED] != 0
    killed = (pi[kr, PI_KILL] != KILL_NONE) if recheck else start_killed
    limited = daily_limited(af, fp, ip) if recheck else start_limited
    flat = pi[s, PI_SIDE] == 0
    admitted = _admitted(s, sig, pi, n_sym, ip) if flat and sig != 0 else True  # read only on the flat entry path
    act = decide_candle(pi[s, PI_SIDE], pi[s, PI_EXIT_G] == g, sig, False, ruined, killed, limited, admitted, ml_code)
    if act == ACT_REVERSE:
        px = market_exit_price(pi[s, PI_SIDE], close, fp[FP_SLIPPAGE_RATE])
        close_position(s, g, day, px, REASON_REVERSE, fp[FP_FEE_RATE], af, ai, pf, pi, hist, ti, tf, ev, fp, ip)
        if recheck:
            killed = pi[kr, PI_KILL] != KILL_NONE
            limited = daily_limited(af, fp, ip)
        act = decide_candle(0, False, sig, True, ruined, killed, limited, _admitted(s, sig, pi, n_sym, ip), ml_code)
    if act == ACT_ENTER:
        try_enter(s, g, sig, close, sl_dist, tp_dist, af, pf, pi, fp, ip, qty_step, min_notional, brackets)
    elif act >= 6:
        _count_block(act, ai)
    return act


@njit(cache=True)
def mark_equity(af, pf, pi, ip) -> float:
    """Balance plus unrealised PnL at each symbol's latest close; an isolated position loses at most its
    margin (when liquidation is modelled); never below zero."""
    eq = af[AF_BALANCE]
    for s in range(pf.shape[0]):
        side = pi[s, PI_SIDE]
        if side != 0:
            u = unrealised_pnl(side, pf[s, PF_ENTRY], pf[s, PF_MARK], pf[s, PF_QTY])
            if ip[IP_LIQUIDATION] != 0 and u < -pf[s, PF_MARGIN]:
                u = -pf[s, PF_MARGIN]
            eq += u
    return eq if eq > 0.0 else 0.0
