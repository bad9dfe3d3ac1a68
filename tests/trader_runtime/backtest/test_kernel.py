"""Per-bar simulation semantics (spec 20 §1.4–§1.11) under the fixed and the legacy rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.trader_runtime.backtest.bars import make_bars, make_cfg, simulate, with_rules
from trader_runtime.backtest import kernel as K
from trader_runtime.backtest.rules import EngineRules
from trader_runtime.config import RiskLimits, StrategyParams

FIXED = EngineRules()
LEGACY = EngineRules.legacy()


def trades(out):
    """(entry_idx, exit_idx, side, reason, entry, exit, qty, net) per trade."""
    return [
        (int(i[K.TI_ENTRY_IDX]), int(i[K.TI_EXIT_IDX]), int(i[K.TI_SIDE]), int(i[K.TI_REASON]),
         round(f[K.TF_ENTRY_PRICE], 6), round(f[K.TF_EXIT_PRICE], 6), f[K.TF_QTY], round(f[K.TF_NET], 6))
        for i, f in zip(out.ti, out.tf)
    ]  # fmt: skip


@pytest.mark.parametrize("rules", [FIXED, LEGACY])
def test_entry_at_close_take_profit_and_equity(rules):
    bars = make_bars([100, 101, 101, 101], high=[100, 101, 102.5, 101], low=[100, 101, 101, 101])
    out = simulate(bars, [1, 0, 0, 0], make_cfg(rules))
    # notional 1000 × 0.5 × 1 = 500 → 5 units; TP = 100 + 2×1
    assert trades(out) == [(0, 2, 1, K.REASON_TP, 100.0, 102.0, 5.0, 10.0)]
    assert out.equity.tolist() == [1000.0, 1005.0, 1010.0, 1010.0]  # after each bar, marked at the close


@pytest.mark.parametrize("rules", [FIXED, LEGACY])
def test_sl_and_tp_in_the_same_bar_is_a_stop_loss(rules):
    bars = make_bars([100, 100, 100], high=[100, 103, 100], low=[100, 97, 100])
    out = simulate(bars, [1, 0, 0], make_cfg(rules))
    assert trades(out) == [(0, 1, 1, K.REASON_SL, 100.0, 98.0, 5.0, -10.0)]


def test_gap_through_stop_fills_at_open_only_in_fixed_mode():
    bars = make_bars([100, 96, 96], open_=[100, 96, 96], high=[100, 97, 96], low=[100, 95, 96])
    fixed = trades(simulate(bars, [1, 0, 0], make_cfg(FIXED)))
    legacy = trades(simulate(bars, [1, 0, 0], make_cfg(LEGACY)))
    assert fixed[0][5] == 96.0 and fixed[0][7] == -20.0  # BT-11: the open, not the level
    assert legacy[0][5] == 98.0 and legacy[0][7] == -10.0


def test_fees_slippage_and_d3_net_pnl():
    bars = make_bars([100, 100, 100], high=[100, 103, 100], low=[100, 100, 100])
    out = simulate(bars, [1, 0, 0], make_cfg(fee_pct=0.04, slippage_pct=0.01))
    entry = 100 * 1.0001
    tp = entry + 2.0  # levels from the slipped entry; TP fills at the level without slippage
    f = out.tf[0]
    assert f[K.TF_ENTRY_PRICE] == pytest.approx(entry)
    assert f[K.TF_EXIT_PRICE] == pytest.approx(tp)
    assert f[K.TF_QTY] == 5.0  # sized on the unslipped close
    assert f[K.TF_ENTRY_FEE] == pytest.approx(entry * 5 * 0.0004)
    assert f[K.TF_EXIT_FEE] == pytest.approx(tp * 5 * 0.0004)
    assert f[K.TF_GROSS] == pytest.approx(10.0)
    assert f[K.TF_NET] == pytest.approx(f[K.TF_GROSS] - f[K.TF_ENTRY_FEE] - f[K.TF_EXIT_FEE])
    assert out.equity[-1] == pytest.approx(1000.0 + f[K.TF_NET])


@pytest.mark.parametrize("rules", [FIXED, LEGACY])
def test_no_entry_on_the_bar_where_sl_closed(rules):
    bars = make_bars([100, 100, 100, 100], high=[100, 100, 100, 100], low=[100, 97, 100, 100])
    out = simulate(bars, [1, 1, 1, 0], make_cfg(rules))
    got = trades(out)
    assert [(t[0], t[1], t[3]) for t in got] == [(0, 1, K.REASON_SL), (2, 3, K.REASON_END_OF_DATA)]


def test_opposite_signal_on_the_sl_bar_does_not_reverse():
    bars = make_bars([100, 100, 100, 100], low=[100, 97, 100, 100])
    got = trades(simulate(bars, [1, -1, -1, 0], make_cfg()))
    assert [(t[0], t[1], t[2], t[3]) for t in got] == [(0, 1, 1, K.REASON_SL), (2, 3, -1, K.REASON_END_OF_DATA)]


@pytest.mark.parametrize("rules", [FIXED, LEGACY])
def test_reverse_signal_closes_at_market_and_reenters(rules):
    bars = make_bars([100, 100, 101, 101])
    out = simulate(bars, [1, 0, -1, 0], make_cfg(rules, slippage_pct=0.01))
    got = trades(out)
    assert [(t[0], t[1], t[2], t[3]) for t in got] == [
        (0, 2, 1, K.REASON_REVERSE),
        (2, 3, -1, K.REASON_END_OF_DATA),
    ]
    assert got[0][5] == round(101 * (1 - 0.0001), 6)  # selling the LONG pays slippage
    assert got[1][4] == round(101 * (1 - 0.0001), 6)  # opening the SHORT sells below the close


def test_same_side_signal_while_in_position_is_ignored():
    bars = make_bars([100, 100, 100, 100])
    got = trades(simulate(bars, [1, 1, 1, 1], make_cfg()))
    assert [(t[0], t[1]) for t in got] == [(0, 3)]


KILL_ON_FIRST_LOSS = RiskLimits(kill_fast_streak=1)


def _reverse_into_kill():
    # LONG at 100, reversed at 99 (loss → kill switch), SHORT re-entry at 99 with SL 101; bar 3 spikes to 102
    return make_bars([100, 100, 99, 99, 99], high=[100, 100, 99, 102, 99]), [1, 0, -1, 0, 0]


def test_reentry_blocked_when_the_closing_trade_trips_the_kill_switch():
    bars, sig = _reverse_into_kill()
    out = simulate(bars, sig, make_cfg(FIXED, risk=KILL_ON_FIRST_LOSS))
    assert [(t[0], t[1], t[3]) for t in trades(out)] == [(0, 2, K.REASON_REVERSE)]
    assert out.state[K.ST_KILL_CODE] == 1 and out.state[K.ST_KILL_BAR] == 2
    assert out.state[K.ST_HALT_BLOCKED] == 1


def test_legacy_reenters_and_freezes_the_position_until_end_of_data():
    bars, sig = _reverse_into_kill()
    out = simulate(bars, sig, make_cfg(LEGACY, risk=KILL_ON_FIRST_LOSS))
    got = trades(out)
    # BT-02: re-entry despite the kill; BT-01: the SL touch on bar 3 is skipped, the trade ends at END_OF_DATA
    assert [(t[0], t[1], t[2], t[3]) for t in got] == [(0, 2, 1, K.REASON_REVERSE), (2, 4, -1, K.REASON_END_OF_DATA)]


def test_d1_exits_still_run_while_halted():
    bars, sig = _reverse_into_kill()
    cfg = with_rules(make_cfg(LEGACY, risk=KILL_ON_FIRST_LOSS), block_exits_when_halted=False)
    got = trades(simulate(bars, sig, cfg))
    # same legacy re-entry, but the killed run still honours the stop on bar 3
    assert [(t[0], t[1], t[3], t[5]) for t in got] == [(0, 2, K.REASON_REVERSE, 99.0), (2, 3, K.REASON_SL, 101.0)]


@pytest.mark.parametrize("rules", [FIXED, LEGACY])
def test_fast_kill_switch_stops_new_entries_for_the_rest_of_the_run(rules):
    bars = make_bars([100] * 7, low=[100, 97, 100, 97, 100, 100, 100])
    out = simulate(bars, [1, 0, 1, 0, 1, 0, 1], make_cfg(rules, risk=RiskLimits(kill_fast_streak=2)))
    assert [(t[0], t[1], t[3]) for t in trades(out)] == [(0, 1, K.REASON_SL), (2, 3, K.REASON_SL)]
    assert out.state[K.ST_KILL_CODE] == 1 and out.state[K.ST_KILL_BAR] == 3
    assert out.state[K.ST_HALT_BLOCKED] == 2


def test_zero_pnl_trade_breaks_the_fast_streak():
    # LONG stopped out, LONG reversed at its entry price (0.0), SHORT stopped out: no 2-loss streak
    bars = make_bars([100] * 7, high=[100, 100, 100, 100, 100, 103, 100], low=[100, 97, 100, 100, 100, 100, 100])
    out = simulate(bars, [1, 0, 1, -1, 0, 0, 1], make_cfg(risk=RiskLimits(kill_fast_streak=2)))
    nets = [t[7] for t in trades(out)]
    assert nets[:3] == [-10.0, 0.0, -9.8]
    assert out.state[K.ST_KILL_CODE] == 0
    assert len(nets) == 4  # the last signal still enters


@pytest.mark.parametrize("rules", [FIXED, LEGACY])
def test_daily_loss_limit_blocks_entries_until_the_next_utc_day(rules):
    start = pd.Timestamp("2025-01-01 23:00", tz="UTC")
    bars = make_bars([100] * 6, low=[100, 97, 100, 100, 100, 100], start=start)
    # leverage 10 → 50 units → the SL loss is 100 USDT = 10 % of the balance
    out = simulate(bars, [1, 0, 1, 0, 1, 0], make_cfg(rules, leverage=10))
    assert [(t[0], t[1], t[3]) for t in trades(out)] == [(0, 1, K.REASON_SL), (4, 5, K.REASON_END_OF_DATA)]
    assert out.state[K.ST_DAILY_LIMIT_DAYS] == 1 and out.state[K.ST_HALT_BLOCKED] == 1


def test_daily_loss_base_initial_vs_day_start():
    start = pd.Timestamp("2025-01-01 22:00", tz="UTC")  # bar 8 is 00:00 of the next UTC day
    n = 12
    close = np.full(n, 100.0)
    high, low, atr = close.copy(), close.copy(), np.ones(n)
    high[1] = 104.5  # day 1: TP at 104 → +200 (balance 1200)
    atr[8] = 0.6  # day 2: SL 98.8 → loss 45.6 units × 1.2 = 54.72 (5.5 % of 1000, 4.6 % of 1200)
    low[9] = 98.5
    sig = np.zeros(n, dtype=np.int8)
    sig[[0, 8, 10]] = 1
    bars = make_bars(close, high=high, low=low, atr=atr, start=start)
    params = StrategyParams(atr_sl_mult=2.0, atr_tp_mult=4.0)
    fixed = trades(simulate(bars, sig, make_cfg(FIXED, leverage=10, params=params)))
    legacy_base = trades(simulate(bars, sig, make_cfg(with_rules(make_cfg(FIXED), daily_loss_base="initial").rules, leverage=10, params=params)))
    assert fixed[1][6] == 45.6 and fixed[1][7] == pytest.approx(-54.72)
    assert [t[0] for t in fixed] == [0, 8, 10]  # D2: 54.72 < 5 % of the day-start balance 1200
    assert [t[0] for t in legacy_base] == [0, 8]  # reference: 54.72 ≥ 5 % of the initial 1000


def test_min_notional_fallback_sizes_up_to_five_usdt():
    bars = make_bars([3.0, 3.0], atr=0.01)
    out = simulate(bars, [1, 0], make_cfg(with_rules(make_cfg(), margin_check=False).rules, initial_balance=1.0))
    assert out.tf[0, K.TF_QTY] == 1.7  # 1 × 0.5 × 1 = 0.5 USDT → forced to 5 USDT → ceil(1.67, 0.1)
    out = simulate(bars, [1, 0], make_cfg(LEGACY, initial_balance=1.0))
    assert out.tf[0, K.TF_QTY] == 1.7  # round(5/3 + 0.05, 1)


def test_an_account_that_cannot_margin_the_minimum_notional_does_not_enter():
    bars = make_bars([3.0, 3.0], atr=0.01)
    out = simulate(bars, [1, 0], make_cfg(initial_balance=1.0))  # 5 USDT notional needs 5 USDT margin at 1×
    assert len(out.ti) == 0 and out.equity.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("rules", [FIXED, LEGACY])
def test_entry_on_the_last_bar_closes_immediately_at_end_of_data(rules):
    bars = make_bars([100, 100, 100])
    out = simulate(bars, [0, 0, 1], make_cfg(rules, fee_pct=0.04, slippage_pct=0.01))
    t = trades(out)[0]
    assert (t[0], t[1], t[3]) == (2, 2, K.REASON_END_OF_DATA)
    assert t[7] < 0  # two fees and two slippages
    assert out.equity[-1] == pytest.approx(1000.0 + out.tf[0, K.TF_NET])


def test_end_index_limits_the_run_and_closes_there():
    bars = make_bars([100, 101, 102, 103, 104])
    out = simulate(bars, [1, 0, 0, 0, 0], make_cfg(params=StrategyParams(atr_sl_mult=10.0, atr_tp_mult=10.0)), end=3)
    assert [(t[0], t[1], t[3], t[5]) for t in trades(out)] == [(0, 2, K.REASON_END_OF_DATA, 102.0)]
    assert len(out.equity) == 3


def test_warmup_bars_never_trade():
    bars = make_bars([100] * 5)
    out = simulate(bars, [1, 1, 0, 0, 0], make_cfg(), start=2)
    assert len(out.ti) == 0 and out.equity.tolist() == [1000.0] * 3


def test_ml_mask_blocks_the_entry():
    bars = make_bars([100, 100, 100])
    out = simulate(bars, [1, 0, 1], make_cfg(), allowed=[False, True, True])
    assert [t[0] for t in trades(out)] == [2]
    assert out.state[K.ST_ML_BLOCKED] == 1


@pytest.mark.parametrize("atr", [0.0, -1.0, np.nan])
def test_non_positive_atr_skips_the_entry(atr):
    bars = make_bars([100, 100], atr=[atr, 1.0])
    assert len(simulate(bars, [1, 0], make_cfg()).ti) == 0


def test_empty_range_returns_no_trades():
    out = simulate(make_bars([100, 100]), [1, 0], make_cfg(), start=2)
    assert len(out.ti) == 0 and len(out.equity) == 0


@pytest.mark.parametrize("rules", [FIXED, LEGACY])
def test_slow_kill_switch_after_fifteen_trades_with_poor_profit_factor(rules):
    # alternating TP (+1×ATR) and SL (−2×ATR) trades: PF ≈ 0.44 over 15 trades, never 8 losses in a row
    n_trades = 15
    close, high, low, sig = [], [], [], []
    for k in range(n_trades + 1):
        close += [100.0, 100.0]
        sig += [1, 0]
        win = k % 2 == 0
        high += [100.0, 101.5 if win else 100.0]
        low += [100.0, 100.0 if win else 97.0]
    bars = make_bars(close, high=high, low=low)
    cfg = make_cfg(rules, params=StrategyParams(atr_sl_mult=2.0, atr_tp_mult=1.0))
    out = simulate(bars, sig, cfg)
    got = trades(out)
    assert len(got) == n_trades  # the 16th signal is refused
    reasons = [t[3] for t in got]
    assert reasons == [K.REASON_TP if k % 2 == 0 else K.REASON_SL for k in range(n_trades)]
    assert out.state[K.ST_KILL_CODE] == 2 and out.state[K.ST_KILL_BAR] == 2 * n_trades - 1
