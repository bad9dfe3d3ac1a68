"""Rolling z-score (spec 10 §4.2) evaluated window by window.

Each output value depends only on the values inside its own window, summed in a fixed order, so the batch
(whole history) and the incremental (last row of a rolling buffer) paths give bit-identical results — an online
running-sum algorithm would carry rounding error from the start of the series and break that parity.
"""

from __future__ import annotations

import numpy as np
from numba import njit

STD_FLOOR = 1e-8


@njit(cache=True, error_model="numpy")
def z_at(x, t, window, lo_limit):
    """z_W(x)_t over the non-NaN values of x[max(lo_limit, t-W+1) .. t] (population std, floor 1e-8); NaN when
    x_t is NaN. The one window evaluation behind both the batch series and the live feature row."""
    xt = x[t]
    if np.isnan(xt):
        return np.nan
    lo = t - window + 1
    if lo < lo_limit:
        lo = lo_limit
    s = 0.0
    c = 0
    for j in range(lo, t + 1):
        v = x[j]
        if not np.isnan(v):
            s += v
            c += 1
    mean = s / c
    ss = 0.0
    for j in range(lo, t + 1):
        v = x[j]
        if not np.isnan(v):
            ss += (v - mean) * (v - mean)
    std = np.sqrt(ss / c)
    if not (std >= STD_FLOOR):
        std = STD_FLOOR
    return (xt - mean) / std


@njit(cache=True)
def _rolling_zscore(x: np.ndarray, window: int, start: int) -> np.ndarray:
    n = x.shape[0]
    out = np.full(n, np.nan)
    for t in range(start, n):
        out[t] = z_at(x, t, window, 0)
    return out


def rolling_zscore(x: np.ndarray, window: int, start: int = 0) -> np.ndarray:
    """z_W(x) for rows >= start (earlier rows NaN); NaN inputs stay NaN, a single valid value gives 0."""
    return _rolling_zscore(np.ascontiguousarray(x, dtype=np.float64), int(window), max(0, int(start)))


@njit(cache=True)
def _trailing_nanmean(x: np.ndarray, window: int, start: int) -> np.ndarray:
    n = x.shape[0]
    out = np.full(n, np.nan)
    for t in range(start, n):
        lo = t - window + 1
        if lo < 0:
            lo = 0
        s = 0.0
        c = 0
        for j in range(lo, t + 1):
            if not np.isnan(x[j]):
                s += x[j]
                c += 1
        if c > 0:
            out[t] = s / c
    return out


def trailing_nanmean(x: np.ndarray, window: int, start: int = 0) -> np.ndarray:
    """Mean of the non-NaN values among the last `window` rows (NaN only if all are NaN)."""
    return _trailing_nanmean(np.ascontiguousarray(x, dtype=np.float64), int(window), max(0, int(start)))
