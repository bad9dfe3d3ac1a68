"""Rule-based LONG/SHORT/HOLD signal (spec 10 §3.1): vectorised over a history (batch, the reference) and one
compiled row function (`signal_row`) for the live engine, where numpy's per-call overhead on one-row arrays would
cost more than the rules themselves. Tests hold the two equal on every candle of real years.

Both sides qualifying on one candle gives HOLD in every code path (D10).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd
from numba import njit

from trader_runtime.config import StrategyParams


@dataclass(frozen=True, slots=True)
class SignalResult:
    """Per-row scores and the resulting signal (1 LONG, -1 SHORT, 0 HOLD)."""

    signal: np.ndarray  # int8
    long_score: np.ndarray  # int8, before the ADX gate
    short_score: np.ndarray  # int8
    vol_surge: np.ndarray  # bool
    adx_blocked: np.ndarray  # bool
    collision: np.ndarray  # bool: both sides qualified -> HOLD

    @property
    def strength(self) -> np.ndarray:
        """Score of the signalled side, 0 on HOLD rows (feature `signal_strength`)."""
        return np.where(self.signal == 1, self.long_score, np.where(self.signal == -1, self.short_score, 0)).astype(np.int8)

    def hold_reason(self, i: int) -> str:
        if self.adx_blocked[i]:
            return "adx"
        if self.collision[i]:
            return "both_sides"
        return "" if self.signal[i] else "score"


def _lt(a: np.ndarray, b: np.ndarray | float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.less(a, b)  # NaN operands compare False


def _gt(a: np.ndarray, b: np.ndarray | float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.greater(a, b)


def score_sides(frame: pd.DataFrame | Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """LONG and SHORT points per row (max 6 each); needs `close` and the indicator columns (a frame, or a mapping of
    arrays: the live engine passes its last two rows)."""
    rsi = np.asarray(frame["rsi"])
    macd = np.asarray(frame["macd"])
    sig = np.asarray(frame["macd_signal"])
    close = np.asarray(frame["close"])
    e9, e21, e50 = (np.asarray(frame[c]) for c in ("ema9", "ema21", "ema50"))
    k, d = np.asarray(frame["stoch_k"]), np.asarray(frame["stoch_d"])
    p_macd = np.concatenate(([np.nan], macd[:-1]))
    p_sig = np.concatenate(([np.nan], sig[:-1]))

    long_score = (
        _lt(rsi, 35).astype(np.int8)
        + 2 * (_lt(p_macd, p_sig) & _gt(macd, sig))
        + _lt(close, np.asarray(frame["bb_lower"]))
        + (_gt(e9, e21) & _gt(e21, e50))
        + (_lt(k, 20) & _gt(k, d))
    ).astype(np.int8)
    short_score = (
        _gt(rsi, 65).astype(np.int8)
        + 2 * (_gt(p_macd, p_sig) & _lt(macd, sig))
        + _gt(close, np.asarray(frame["bb_upper"]))
        + (_lt(e9, e21) & _lt(e21, e50))
        + (_gt(k, 80) & _lt(k, d))
    ).astype(np.int8)
    return long_score, short_score


@njit(cache=True, error_model="numpy")
def signal_row(
    rsi, macd, macd_signal, prev_macd, prev_signal, close, bb_lower, bb_upper, ema9, ema21, ema50, stoch_k, stoch_d,
    volume, vol_ma20, adx, volume_multiplier, threshold, adx_threshold,
):  # fmt: skip
    """One candle's `score_sides` + `signals_from_scores` on scalars (NaN compares False, as there).

    Returns (signal, long_score, short_score, vol_surge, adx_blocked, collision)."""
    long_score = (
        int(rsi < 35)
        + 2 * int(prev_macd < prev_signal and macd > macd_signal)
        + int(close < bb_lower)
        + int(ema9 > ema21 and ema21 > ema50)
        + int(stoch_k < 20 and stoch_k > stoch_d)
    )
    short_score = (
        int(rsi > 65)
        + 2 * int(prev_macd > prev_signal and macd < macd_signal)
        + int(close > bb_upper)
        + int(ema9 < ema21 and ema21 < ema50)
        + int(stoch_k > 80 and stoch_k < stoch_d)
    )
    vol_surge = volume > vol_ma20 * volume_multiplier
    long_ok = long_score >= threshold and (vol_surge or long_score >= threshold + 1)
    short_ok = short_score >= threshold and (vol_surge or short_score >= threshold + 1)
    signal = 1 if (long_ok and not short_ok) else (-1 if (short_ok and not long_ok) else 0)
    adx_blocked = adx_threshold > 0 and adx < adx_threshold  # NaN ADX skips the gate
    if adx_blocked:
        signal = 0
    return signal, long_score, short_score, vol_surge, adx_blocked, long_ok and short_ok and not adx_blocked


def compute_signals(frame: pd.DataFrame, params: StrategyParams) -> SignalResult:
    """Signals for every row of a frame holding `close`, `volume` and the indicator columns."""
    long_score, short_score = score_sides(frame)
    return signals_from_scores(
        long_score,
        short_score,
        frame["volume"].to_numpy(),
        frame["vol_ma20"].to_numpy(),
        frame["adx"].to_numpy(),
        params,
    )


def signals_from_scores(
    long_score: np.ndarray,
    short_score: np.ndarray,
    volume: np.ndarray,
    vol_ma20: np.ndarray,
    adx: np.ndarray,
    params: StrategyParams,
) -> SignalResult:
    """Apply the volume rule, the entry threshold, the collision rule and the ADX gate to precomputed scores.

    Split out so that sweeps score the indicators once and only re-apply the cheap gates per parameter set.
    """
    vol_surge = _gt(volume, vol_ma20 * params.volume_multiplier)
    thr = params.signal_threshold
    long_ok = (long_score >= thr) & (vol_surge | (long_score >= thr + 1))
    short_ok = (short_score >= thr) & (vol_surge | (short_score >= thr + 1))
    collision = long_ok & short_ok
    signal = np.where(long_ok & ~short_ok, 1, np.where(short_ok & ~long_ok, -1, 0)).astype(np.int8)
    if params.adx_threshold > 0:
        adx_blocked = _lt(adx, params.adx_threshold)  # NaN ADX skips the gate
    else:
        adx_blocked = np.zeros(len(signal), dtype=bool)
    signal[adx_blocked] = 0
    return SignalResult(
        signal=signal,
        long_score=long_score,
        short_score=short_score,
        vol_surge=vol_surge,
        adx_blocked=adx_blocked,
        collision=collision & ~adx_blocked,
    )
