"""ATR triple-barrier labels (spec 10 §5): 1 if TP is touched before SL within the look-ahead, else 0.

SL is checked before TP on every candle (a candle touching both is a loss); a timeout is label 0 (D9).
"""

from __future__ import annotations

import numpy as np
from numba import njit

LOOKAHEAD = 24


@njit(cache=True)
def _labels(high, low, close, atr, side, rows, sl_mult, tp_mult, lookahead):
    out = np.full(rows.shape[0], -1, dtype=np.int8)
    n = close.shape[0]
    for k in range(rows.shape[0]):
        i = rows[k]
        if i + lookahead >= n or not (atr[i] > 0):
            continue  # window incomplete or ATR <= 0: dropped
        entry = close[i]
        if side[k] == 1:
            sl = entry - atr[i] * sl_mult
            tp = entry + atr[i] * tp_mult
        else:
            sl = entry + atr[i] * sl_mult
            tp = entry - atr[i] * tp_mult
        lab = 0
        for j in range(i + 1, i + lookahead + 1):
            if side[k] == 1:
                if low[j] <= sl:
                    break
                if high[j] >= tp:
                    lab = 1
                    break
            else:
                if high[j] >= sl:
                    break
                if low[j] <= tp:
                    lab = 1
                    break
        out[k] = lab
    return out


def label_rows(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    atr: np.ndarray,
    rows: np.ndarray,
    sides: np.ndarray,
    sl_mult: float,
    tp_mult: float,
    lookahead: int = LOOKAHEAD,
) -> np.ndarray:
    """Label for each candidate row (int8 0/1), or -1 where the row cannot be labelled (short window, ATR <= 0)."""
    return _labels(
        np.asarray(high, np.float64),
        np.asarray(low, np.float64),
        np.asarray(close, np.float64),
        np.asarray(atr, np.float64),
        np.asarray(sides, np.int8),
        np.asarray(rows, np.int64),
        float(sl_mult),
        float(tp_mult),
        int(lookahead),
    )
