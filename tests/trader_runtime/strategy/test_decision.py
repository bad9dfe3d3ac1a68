"""Scalar trading rules shared by the kernel and the live bot."""

from __future__ import annotations

import numpy as np
import pytest

from trader_runtime.backtest import rules as engine_rules
from trader_runtime.strategy import decision as d


def test_sl_tp_levels_mirror_by_side():
    assert d.sl_tp_levels(1, 100.0, 2.0, 1.5, 4.0) == (97.0, 108.0)
    assert d.sl_tp_levels(-1, 100.0, 2.0, 1.5, 4.0) == (103.0, 92.0)


@pytest.mark.parametrize("gap", [False, True])
def test_sl_wins_when_both_levels_inside_the_bar(gap):
    assert d.check_sl_tp(1, 95.0, 105.0, 100.0, 106.0, 94.0, gap) == (d.HIT_SL, 95.0)
    assert d.check_sl_tp(-1, 105.0, 95.0, 100.0, 106.0, 94.0, gap) == (d.HIT_SL, 105.0)


def test_tp_and_no_hit():
    assert d.check_sl_tp(1, 95.0, 105.0, 100.0, 105.0, 96.0, False) == (d.HIT_TP, 105.0)
    assert d.check_sl_tp(-1, 105.0, 95.0, 100.0, 104.0, 95.0, False) == (d.HIT_TP, 95.0)
    assert d.check_sl_tp(1, 95.0, 105.0, 100.0, 104.9, 95.1, True)[0] == d.HIT_NONE


def test_gap_through_levels_fills_at_open_only_with_gap_fills():
    # LONG gaps down through SL: legacy fills at the level (optimistic), fixed at the open
    assert d.check_sl_tp(1, 95.0, 105.0, 93.0, 94.0, 92.0, False) == (d.HIT_SL, 95.0)
    assert d.check_sl_tp(1, 95.0, 105.0, 93.0, 94.0, 92.0, True) == (d.HIT_SL, 93.0)
    # LONG gaps up through TP: the fill improves to the open
    assert d.check_sl_tp(1, 95.0, 105.0, 107.0, 108.0, 106.0, True) == (d.HIT_TP, 107.0)
    # SHORT mirrored
    assert d.check_sl_tp(-1, 105.0, 95.0, 107.0, 108.0, 106.0, True) == (d.HIT_SL, 107.0)
    assert d.check_sl_tp(-1, 105.0, 95.0, 93.0, 94.0, 92.0, True) == (d.HIT_TP, 93.0)
    # a bar that opens inside the range fills at the level either way
    assert d.check_sl_tp(1, 95.0, 105.0, 96.0, 97.0, 94.0, True) == (d.HIT_SL, 95.0)


@pytest.mark.parametrize(
    "balance,expected", [(800.0, 0.50), (1000.0, 0.50), (1250.0, 0.35), (1500.0, 0.20), (5000.0, 0.20)]
)
def test_dynamic_margin_ratio_spec_examples(balance, expected):
    assert d.dynamic_margin_ratio(balance, 1000.0, 0.5, 0.2, 0.0006) == pytest.approx(expected)


def test_round_half_even_matches_python_round():
    rng = np.random.default_rng(3)
    values = np.concatenate([rng.uniform(-100, 5000, 20000), np.arange(0, 50, 0.05), [0.25, 0.35, 2.675, -0.25]])
    for x in values:
        assert d.round_half_even(float(x), 1) == round(float(x), 1)
        assert d.round_half_even(float(x), 2) == round(float(x), 2)


def test_quantity_live_example_and_step_floor():
    # spec 30 §5.2: balance 22, ratio 0.5, leverage 10, price 2.5 -> notional 110 -> qty 44.0
    assert d.position_quantity(22.0, 2.5, 0.5, 10.0, 5.0, 0.1, d.ROUND_STEP_FLOOR) == (True, 44.0)
    ok, qty = d.position_quantity(1000.0, 3.0, 0.5, 10.0, 5.0, 0.1, d.ROUND_STEP_FLOOR)
    assert ok and qty == 1666.6  # floor, not round (1666.67 would round up)
    ok, qty = d.position_quantity(1000.0, 3.0, 0.5, 10.0, 5.0, 1.0, d.ROUND_STEP_FLOOR)
    assert ok and qty == 1666.0  # whole-unit symbols (DOGE/TRX) keep their step (BT-10)


def test_quantity_legacy_rounds_to_one_decimal():
    ok, qty = d.position_quantity(1000.0, 3.0, 0.5, 10.0, 5.0, 1.0, d.ROUND_LEGACY)
    assert ok and qty == 1666.7  # round(x, 1) whatever the step


def test_min_notional_fallbacks():
    # tiny balance: notional forced to 5 USDT; price 3 -> 1.666.. units
    ok, qty = d.position_quantity(0.5, 3.0, 0.5, 1.0, 5.0, 0.1, d.ROUND_STEP_FLOOR)
    assert ok and qty == 1.7 and qty * 3.0 >= 5.0  # ceil to the step
    ok, qty = d.position_quantity(0.5, 3.0, 0.5, 1.0, 5.0, 0.1, d.ROUND_LEGACY)
    assert ok and qty == 1.7  # round(5/3 + 0.05, 1)
    # expensive asset with a coarse step: the smallest step multiple reaching 5 USDT
    ok, qty = d.position_quantity(0.5, 90000.0, 0.5, 1.0, 5.0, 0.001, d.ROUND_STEP_FLOOR)
    assert ok and qty == 0.001
    # legacy 0.1-unit rounding of a BTC-priced asset still sizes (0.1 BTC), the known BT-10 defect
    ok, qty = d.position_quantity(0.5, 90000.0, 0.5, 1.0, 5.0, 0.001, d.ROUND_LEGACY)
    assert ok and qty == 0.1


def test_quantity_refused_for_bad_price():
    assert d.position_quantity(1000.0, 0.0, 0.5, 10.0, 5.0, 0.1, d.ROUND_STEP_FLOOR) == (False, 0.0)
    assert d.position_quantity(1000.0, float("nan"), 0.5, 10.0, 5.0, 0.1, d.ROUND_LEGACY) == (False, 0.0)


def _kill(pnls):
    arr = np.asarray(pnls, dtype=np.float64)
    return d.kill_switch_state(arr, len(arr), 8, 15, 0.75)


def test_fast_kill_after_eight_losses_and_zero_breaks_the_streak():
    assert _kill([-1.0] * 7) == d.KILL_NONE
    assert _kill([5.0] + [-1.0] * 8) == d.KILL_FAST
    assert _kill([-1.0] * 4 + [0.0] + [-1.0] * 3) == d.KILL_NONE


def test_slow_kill_on_last_fifteen_profit_factor():
    # 15 trades: GP 7 x 1 = 7, GL 8 x 1.25 = 10 -> PF 0.7 < 0.75; no 8-loss streak (alternating)
    pnls = [1.0, -1.25] * 7 + [-1.25]
    assert _kill(pnls) == d.KILL_SLOW
    # PF 0.8 stays alive
    assert _kill([1.0, -1.0] * 7 + [-0.75]) == d.KILL_NONE
    # no losses -> no slow kill
    assert _kill([0.0] * 15) == d.KILL_NONE
    # only the last 15 count: a bad start scrolls out
    assert _kill([-5.0] * 3 + [1.0, -1.0] * 7 + [1.0]) == d.KILL_NONE


def test_fast_kill_takes_precedence():
    assert _kill([1.0] * 7 + [-1.0] * 8) == d.KILL_FAST


def test_history_length_argument_limits_the_window():
    arr = np.array([-1.0] * 8 + [5.0] * 4)
    assert d.kill_switch_state(arr, 8, 8, 15, 0.75) == d.KILL_FAST
    assert d.kill_switch_state(arr, 12, 8, 15, 0.75) == d.KILL_NONE


def test_daily_limit():
    assert d.daily_limit_hit(-60.0, 1000.0, 0.05)
    assert d.daily_limit_hit(-50.0, 1000.0, 0.05)  # inclusive
    assert not d.daily_limit_hit(-10.0, 1000.0, 0.05)
    assert not d.daily_limit_hit(80.0, 1000.0, 0.05)
    assert not d.daily_limit_hit(-60.0, 0.0, 0.05)  # no base -> allowed (30 §7.1)
    assert d.daily_limit_hit(-45.0, 800.0, 0.05)  # D2: a smaller day-start base trips earlier


def test_can_open():
    assert d.can_open(False, 0, 0, 3, 2)
    assert not d.can_open(True, 1, 0, 3, 2)  # one position per symbol
    assert not d.can_open(False, 3, 0, 3, 2)  # global cap
    assert not d.can_open(False, 2, 2, 3, 2)  # same-direction cap
    assert d.can_open(False, 2, 1, 3, 2)


def test_rounding_codes_agree_with_engine_rules():
    assert engine_rules.ROUND_LEGACY == d.ROUND_LEGACY
    assert engine_rules.ROUND_STEP_FLOOR == d.ROUND_STEP_FLOOR
