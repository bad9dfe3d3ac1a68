"""Stochastic building blocks of the synthetic market: regime chain, Student-t shocks, GARCH and AR(1) recursions.

Pure functions of a numpy Generator and arrays. The scalar recursions run as plain Python loops over lists
(a few ms per 35,040 candles), which keeps them exact and free of a JIT warm-up.
"""

from __future__ import annotations

import math

import numpy as np

RANGE, TREND_UP, TREND_DOWN = 0, 1, 2
REGIME_NAMES = {RANGE: "range", TREND_UP: "trend_up", TREND_DOWN: "trend_down"}


def halflife_phi(halflife_bars: float) -> float:
    """AR(1) coefficient whose impulse response halves every `halflife_bars` candles."""
    return 0.5 ** (1.0 / halflife_bars)


def regime_path(
    rng: np.random.Generator, n: int, range_bars: float, trend_bars: float, trend_to_range: float
) -> np.ndarray:
    """Markov chain with geometric durations, sampled segment by segment (a few hundred per year)."""
    out = np.empty(n, dtype=np.int8)
    state = int(rng.integers(0, 3))
    t = 0
    while t < n:
        mean = range_bars if state == RANGE else trend_bars
        duration = int(rng.geometric(1.0 / mean))
        out[t : t + duration] = state
        t += duration
        if state == RANGE:
            state = TREND_UP if rng.random() < 0.5 else TREND_DOWN
        elif rng.random() < trend_to_range:
            state = RANGE
        else:
            state = TREND_DOWN if state == TREND_UP else TREND_UP
    return out


def student_t(rng: np.random.Generator, df: float, n: int, clip: float) -> np.ndarray:
    """Unit-variance Student-t draws, clipped so a single candle cannot move by an absurd multiple of sigma."""
    return np.clip(rng.standard_t(df, n) * math.sqrt((df - 2.0) / df), -clip, clip)


def blend(own: np.ndarray, common: np.ndarray, share: float) -> np.ndarray:
    """Unit-variance mix of an asset's own shock and the common altcoin shock (`share` of the variance)."""
    return math.sqrt(1.0 - share) * own + math.sqrt(share) * common


def garch_scale(z: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    """sqrt(h_t) of h_t = (1 - alpha - beta) + (alpha z_{t-1}^2 + beta) h_{t-1}; long-run level 1."""
    omega = 1.0 - alpha - beta
    h = 1.0
    out = [0.0] * len(z)
    for t, zz in enumerate((z * z).tolist()):
        out[t] = h
        h = omega + (alpha * zz + beta) * h
    return np.sqrt(np.asarray(out))


def ar1_filter(innovation: np.ndarray, phi: float) -> np.ndarray:
    """x_t = phi x_{t-1} + e_t from x_{-1} = 0."""
    out = [0.0] * len(innovation)
    x = 0.0
    for t, e in enumerate(innovation.tolist()):
        x = phi * x + e
        out[t] = x
    return np.asarray(out)


def ar1(noise: np.ndarray, phi: float, stationary_sd: float) -> np.ndarray:
    """Stationary AR(1) driven by unit `noise`, scaled to `stationary_sd` and started from its stationary law."""
    eps = noise * (stationary_sd * math.sqrt(1.0 - phi * phi))
    eps[0] = noise[0] * stationary_sd
    return ar1_filter(eps, phi)


def mean_reverting_returns(drift: np.ndarray, shock: np.ndarray, reversion: np.ndarray) -> np.ndarray:
    """r_t = drift_t + shock_t - k_t * dev_{t-1}; dev is the move since the current range began (reset outside)."""
    out = [0.0] * len(shock)
    dev = 0.0
    for t, (d, s, k) in enumerate(zip(drift.tolist(), shock.tolist(), reversion.tolist())):
        r = d + s - k * dev
        dev = dev + r if k > 0.0 else 0.0
        out[t] = r
    return np.asarray(out)
