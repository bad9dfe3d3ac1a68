import numpy as np
import pytest

from trader_runtime.strategy.labels import label_rows


def _bars(highs, lows, close0=100.0):
    n = len(highs) + 1
    high = np.array([close0] + highs, dtype=float)
    low = np.array([close0] + lows, dtype=float)
    close = np.full(n, close0)
    atr = np.full(n, 1.0)
    return high, low, close, atr


def _label(highs, lows, side=1, sl=2.0, tp=2.0, lookahead=3):
    high, low, close, atr = _bars(highs, lows)
    return int(label_rows(high, low, close, atr, np.array([0]), np.array([side]), sl, tp, lookahead)[0])


@pytest.mark.parametrize(
    "highs,lows,side,expected",
    [
        ([100.5, 102.0, 100.0], [99.5, 99.0, 99.0], 1, 1),  # TP touched exactly (inclusive)
        ([100.5, 100.5, 100.5], [98.0, 99.0, 99.0], 1, 0),  # SL touched exactly
        ([102.5, 100.0, 100.0], [97.5, 99.0, 99.0], 1, 0),  # both in one candle -> SL first
        ([100.5, 100.5, 100.5], [99.5, 99.5, 99.5], 1, 0),  # timeout -> 0 (D9)
        ([100.5, 100.5, 100.5], [99.5, 98.0, 99.5], -1, 1),  # SHORT: TP below
        ([102.0, 100.5, 100.5], [99.5, 98.0, 99.5], -1, 0),  # SHORT: SL above first
    ],
)
def test_barriers(highs, lows, side, expected):
    assert _label(highs, lows, side) == expected


def test_signal_candle_itself_is_excluded():
    high, low, close, atr = _bars([100.5, 100.5, 100.5], [99.5, 99.5, 99.5])
    high[0] = 110.0  # would hit TP if the signal candle were scanned
    assert label_rows(high, low, close, atr, np.array([0]), np.array([1]), 2.0, 2.0, 3)[0] == 0


def test_incomplete_window_and_non_positive_atr_are_dropped():
    high, low, close, atr = _bars([100.5, 100.5], [99.5, 99.5])
    assert label_rows(high, low, close, atr, np.array([0]), np.array([1]), 2.0, 2.0, 3)[0] == -1
    high, low, close, atr = _bars([100.5, 100.5, 100.5], [99.5, 99.5, 99.5])
    atr[0] = 0.0
    assert label_rows(high, low, close, atr, np.array([0]), np.array([1]), 2.0, 2.0, 3)[0] == -1
