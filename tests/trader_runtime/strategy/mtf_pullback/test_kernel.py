"""The per-candle state machine of spec 40 §B.4 on hand-built candles."""

from __future__ import annotations

import numpy as np

from trader_runtime.strategy.mtf_pullback import kernel as K
from trader_runtime.strategy.mtf_pullback.backtest import kernel_vectors
from trader_runtime.strategy.mtf_pullback.params import MTFParams, MTFRules

EMA = 100.0
SMA = 10.0


def _run(closes, volumes, meta, rules=MTFRules.legacy(), highs=None, lows=None, opens=None, first=1, atr=1.0):
    n = len(closes)
    close = np.array(closes, dtype=np.float64)
    open_ = np.array(opens, dtype=np.float64) if opens is not None else close.copy()
    high = np.array(highs, dtype=np.float64) if highs is not None else close + 0.1
    low = np.array(lows, dtype=np.float64) if lows is not None else close - 0.1
    ip, fp = kernel_vectors(MTFParams(), rules)
    ti, tf, st, _ = K.simulate_mtf(
        open_, high, low, close, np.array(volumes, dtype=np.float64), np.full(n, EMA), np.full(n, SMA),
        np.full(n, atr), np.array(meta, dtype=np.int8), first, first, n, ip, fp,
    )  # fmt: skip
    return ti, tf, st


def test_sticky_pullback_resumes_bars_later_and_enters_at_next_open():
    # candle 1: pullback below the EMA on dry volume (4 < 0.5 × 10); candles 2–4 stay below; 5 closes above
    closes = [100.5, 99.0, 99.5, 99.6, 99.8, 100.2, 100.4, 100.6]
    vols = [10, 4, 9, 9, 9, 9, 9, 9]
    ti, tf, st = _run(closes, vols, [1] * 8, rules=MTFRules(warmup="research", gap_fills=False))
    assert st[K.ST_PULLBACKS] == 1 and st[K.ST_TRIGGERS] == 1
    assert ti[:, K.TI_SIGNAL_IDX].tolist() == [5] and ti[:, K.TI_ENTRY_IDX].tolist() == [6]
    assert tf[0, K.TF_ENTRY] == 100.4  # open of candle 6 (= its close here)
    assert np.isclose(tf[0, K.TF_SL], 100.4 - 1.5) and np.isclose(tf[0, K.TF_TP], 100.4 + 2.3)
    assert ti[0, K.TI_REASON] == K.REASON_END_OF_DATA


def test_open_trade_at_the_end_is_dropped_by_research_rules_and_closed_by_the_platform():
    closes = [100.5, 99.0, 100.2, 100.3, 100.4]
    vols = [10, 4, 9, 9, 9]
    ti, _, st = _run(closes, vols, [1] * 5)
    assert st[K.ST_TRIGGERS] == 1 and len(ti) == 0
    ti, tf, _ = _run(closes, vols, [1] * 5, rules=MTFRules(warmup="research"))
    assert len(ti) == 1 and ti[0, K.TI_REASON] == K.REASON_END_OF_DATA and ti[0, K.TI_EXIT_IDX] == 4
    assert tf[0, K.TF_EXIT] == 100.4


def test_equality_is_neither_pullback_nor_resumption_and_wet_volume_does_not_arm():
    ti, _, st = _run([100.5, 100.0, 101.0, 101.0], [10, 1, 1, 1], [1] * 4)  # close == EMA on candle 1
    assert st[K.ST_PULLBACKS] == 0 and st[K.ST_TRIGGERS] == 0
    ti, _, st = _run([100.5, 99.0, 101.0, 101.0], [10, 5, 1, 1], [1] * 4)  # 5 is not < 0.5 × 10
    assert st[K.ST_PULLBACKS] == 0 and st[K.ST_TRIGGERS] == 0


def test_trend_change_or_hold_disarms_the_pullback():
    # armed LONG on 1, trend flips SHORT on 2 (close above the EMA is no SHORT pullback without dry volume)
    _, _, st = _run([100.5, 99.0, 100.5, 100.5], [10, 4, 9, 9], [1, 1, -1, 1])
    assert st[K.ST_TRIGGERS] == 0
    _, _, st = _run([100.5, 99.0, 99.5, 100.5, 100.5], [10, 4, 9, 9, 9], [1, 1, 0, 1, 1])
    assert st[K.ST_TRIGGERS] == 0
    assert (st[K.ST_META_LONG], st[K.ST_META_SHORT]) == (3, 0)


def test_short_side_mirrors_and_sl_wins_a_candle_touching_both():
    closes = [99.5, 101.0, 99.0, 99.0, 99.0]
    highs = [99.6, 101.1, 99.1, 101.0, 99.1]  # candle 3 spans SL (99.0 + 1.5) and TP (99.0 − 2.3)
    lows = [99.4, 100.9, 98.9, 96.0, 98.9]
    ti, tf, _ = _run(closes, [10, 4, 9, 9, 9], [-1] * 5, highs=highs, lows=lows)
    assert ti[:, K.TI_SIDE].tolist() == [-1]
    assert ti[0, K.TI_REASON] == K.REASON_SL and ti[0, K.TI_EXIT_IDX] == 3
    assert tf[0, K.TF_EXIT] == 99.0 + 1.5


def test_gap_fill_is_a_platform_rule_only():
    closes = [100.5, 99.0, 100.5, 100.5, 95.0]
    opens = [100.5, 99.0, 100.5, 100.5, 95.0]  # candle 4 opens far below the LONG stop (100.5 − 1.5)
    ti, tf, _ = _run(closes, [10, 4, 9, 9, 9], [1] * 5, opens=opens, lows=[c - 0.1 for c in closes])
    assert tf[0, K.TF_EXIT] == 99.0  # the level (research)
    ti, tf, _ = _run(closes, [10, 4, 9, 9, 9], [1] * 5, opens=opens, lows=[c - 0.1 for c in closes], rules=MTFRules(warmup="research"))
    assert tf[0, K.TF_EXIT] == 95.0  # the open (platform)


def test_after_an_exit_the_same_candle_can_arm_a_new_pullback():
    # trade from candle 3 is stopped on candle 4, which is itself a dry pullback; candle 5 resumes, entry on 6
    closes = [100.5, 99.0, 100.5, 100.5, 99.0, 100.5, 100.5, 100.5]
    lows = [c - 0.1 for c in closes]
    lows[4] = 98.0
    ti, _, st = _run(closes, [10, 4, 9, 9, 4, 9, 9, 9], [1] * 8, lows=lows)
    assert ti[:, K.TI_EXIT_IDX].tolist() == [4]
    assert st[K.ST_TRIGGERS] == 2 and st[K.ST_PULLBACKS] == 2


def test_strict_three_candle_rule_needs_the_pullback_on_the_previous_candle():
    closes = [100.5, 99.0, 99.5, 100.5, 100.6, 100.7]
    vols = [10, 4, 9, 9, 9, 9]
    _, _, st = _run(closes, vols, [1] * 6, rules=MTFRules(sequence="strict3"))
    assert st[K.ST_TRIGGERS] == 0  # resumption two candles after the pullback
    ti, tf, st = _run([100.5, 99.0, 100.5, 100.6, 100.7], [10, 4, 9, 9, 9], [1] * 5, rules=MTFRules.old_bot())
    assert st[K.ST_TRIGGERS] == 1
    assert ti[0, K.TI_ENTRY_IDX] == 2 and tf[0, K.TF_ENTRY] == 100.5  # entry at the resumption close


def test_previous_volume_rule_compares_with_the_sma_before():
    # "previous": volume(t−1) / SMA(t−2) — SMA is constant 10 here, so 4 / 10 < 0.5 is dry
    ti, _, st = _run([100.5, 100.5, 99.0, 100.5, 100.6], [10, 10, 4, 9, 9], [1] * 5, rules=MTFRules.old_bot())
    assert st[K.ST_TRIGGERS] == 1
