"""Compiled indicator kernels: one per-candle step used both for whole histories (batch) and live (streaming).

Why our own kernels: pandas-ta's SMA (used for the volume MA and the StochRSI K/D) is a numba `np.convolve`,
which numba evaluates with BLAS dot products; OpenBLAS picks a different dot kernel (summation order) per CPU
(AVX512 on recent Intel, AVX2 on AMD Zen), so the same file gave 1,533 long signals on one machine and 1,536 on
another. Every sum here runs in a fixed order, and nothing dispatches on the CPU, so every x86-64 machine computes
bit-identical indicators. pandas-ta remains the definition: tests pin each column to it within 1e-9 relative.

Layout: `buf` is a (rows, N_BUF) float64 matrix holding the candle inputs, the 15 indicator outputs
(`INDICATOR_COLUMNS` order from column `OUT0`) and a few scratch series; `state` holds the recursive parts
(EMA/RMA means in pandas' `ewm(adjust=False)` form, the candle count). `indicator_rows` advances both over buffer
rows [i0, i1). Batch = one call over the whole history; live = one call per closed candle on a rolling buffer that
keeps at least `LOOKBACK` rows — the step reads at most 50 rows back, so both paths give the same bits.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# buffer columns: inputs
HIGH, LOW, CLOSE, VOLUME = 0, 1, 2, 3
OUT0 = 4
# indicator outputs, INDICATOR_COLUMNS order
(RSI, MACD, MACD_SIGNAL, MACD_HIST, BB_UPPER, BB_MID, BB_LOWER, EMA9, EMA21, EMA50, ATR, STOCH_K, STOCH_D, ADX,
 VOL_MA20) = range(OUT0, OUT0 + 15)
# scratch series
TR, STOCH_RAW = OUT0 + 15, OUT0 + 16
N_BUF = OUT0 + 17
#: rows a live buffer must keep behind the newest candle (longest window: the EMA50 seed)
LOOKBACK = 64

# state slots: candle count, index of the first valid MACD, then one (mean, old weight, started) triple per EWM
S_COUNT, S_MACD_FIRST = 0, 1
_E = 2
E_RSI_UP, E_RSI_DN, E_EMA12, E_EMA26, E_SIG9, E_EMA9, E_EMA21, E_EMA50, E_ATR, E_ADX_ATR, E_DMP, E_DMN, E_ADX = (
    _E + 3 * k for k in range(13)
)
N_STATE = _E + 3 * 13

EPS = float(np.finfo(np.float64).eps)


def _alpha_from_span(span: int) -> float:
    """The smoothing factor exactly as pandas derives it for `ewm(span=...)` (via the centre of mass)."""
    com = (span - 1) / 2
    return 1.0 / (1.0 + com)


def _alpha_from_alpha(alpha: float) -> float:
    """pandas turns `ewm(alpha=a)` into a centre of mass and back; the round trip can move the last bit."""
    com = (1 - alpha) / alpha
    return 1.0 / (1.0 + com)


A_RMA14 = _alpha_from_alpha(1.0 / 14)
A_EMA12, A_EMA26, A_EMA9, A_EMA21, A_EMA50 = (_alpha_from_span(n) for n in (12, 26, 9, 21, 50))


def new_state() -> np.ndarray:
    state = np.zeros(N_STATE)
    state[S_MACD_FIRST] = -1.0
    return state


@njit(cache=True, error_model="numpy")
def _ewm(state, k, x, alpha):
    """pandas `ewm(alpha, adjust=False, ignore_na=False).mean()` one value at a time (same operations)."""
    if state[k + 2] == 0.0:
        if x == x:
            state[k] = x
            state[k + 1] = 1.0
            state[k + 2] = 1.0
            return x
        return np.nan
    w = state[k]
    old_wt = state[k + 1] * (1.0 - alpha)
    if x == x:
        if w != x:
            w = (old_wt * w + alpha * x) / (old_wt + alpha)
        old_wt = 1.0
    state[k] = w
    state[k + 1] = old_wt
    return w


@njit(cache=True, error_model="numpy")
def _pairwise_sum(buf, col, lo, hi):
    """Sum of buf[lo:hi, col] with NaN as 0, in numpy's pairwise order for short arrays (the SMA seeds)."""
    n = hi - lo
    if n < 8:
        res = 0.0
        for i in range(lo, hi):
            v = buf[i, col]
            res += v if v == v else 0.0
        return res
    r = np.empty(8)
    for j in range(8):
        v = buf[lo + j, col]
        r[j] = v if v == v else 0.0
    i = 8
    while i < n - (n % 8):
        for j in range(8):
            v = buf[lo + i + j, col]
            r[j] += v if v == v else 0.0
        i += 8
    res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    while i < n:
        v = buf[lo + i, col]
        res += v if v == v else 0.0
        i += 1
    return res


@njit(cache=True, error_model="numpy")
def _seed_mean(buf, col, lo, hi):
    """pandas' skip-NaN mean of a short slice (the SMA seed of EMA/ATR)."""
    c = 0
    for i in range(lo, hi):
        if buf[i, col] == buf[i, col]:
            c += 1
    if c == 0:
        return np.nan
    return _pairwise_sum(buf, col, lo, hi) / c


@njit(cache=True, error_model="numpy")
def _sma(buf, col, i, length):
    """Mean of the last `length` values, summed oldest first; NaN if any is NaN."""
    s = 0.0
    for j in range(i - length + 1, i + 1):
        s += buf[j, col]
    return s / length


@njit(cache=True, error_model="numpy")
def _window_sum(buf, col, lo, hi, center):
    """Neumaier-compensated sum of buf[lo:hi, col] (center == 0) or of its squared deviations from `center`."""
    s = 0.0
    comp = 0.0
    for j in range(lo, hi):
        v = buf[j, col]
        if center != 0.0:
            v = (v - center) * (v - center)
        t = s + v
        if abs(s) >= abs(v):
            comp += (s - t) + v
        else:
            comp += (v - t) + s
        s = t
    return s + comp


@njit(cache=True, error_model="numpy")
def _ema_seeded(state, k, buf, i, g, length, alpha):
    """pandas-ta EMA: NaN before row length-1, the SMA of the first `length` closes there, then ewm."""
    if g < length - 1:
        return np.nan
    if g == length - 1:
        return _ewm(state, k, _seed_mean(buf, CLOSE, i - length + 1, i + 1), alpha)
    return _ewm(state, k, buf[i, CLOSE], alpha)


@njit(cache=True, error_model="numpy")
def indicator_rows(buf, state, i0, i1):
    """Compute the indicator columns of buffer rows [i0, i1), advancing `state` (one candle per row)."""
    for i in range(i0, i1):
        g = int(state[S_COUNT])
        h, lo, c, v = buf[i, HIGH], buf[i, LOW], buf[i, CLOSE], buf[i, VOLUME]
        first = g == 0
        ph = np.nan if first else buf[i - 1, HIGH]
        pl = np.nan if first else buf[i - 1, LOW]
        pc = np.nan if first else buf[i - 1, CLOSE]

        # RSI: Wilder RMA of gains and losses from the first difference on
        d = c - pc
        up = d if (d != d or d > 0.0) else 0.0
        dn = d if (d != d or d < 0.0) else 0.0
        au = _ewm(state, E_RSI_UP, up, A_RMA14)
        ad = _ewm(state, E_RSI_DN, dn, A_RMA14)
        rsi = 100.0 * au / (au + abs(ad))
        buf[i, RSI] = rsi

        # EMAs and MACD (signal = EMA9 of MACD from its first valid value)
        e12 = _ema_seeded(state, E_EMA12, buf, i, g, 12, A_EMA12)
        e26 = _ema_seeded(state, E_EMA26, buf, i, g, 26, A_EMA26)
        macd = e12 - e26
        buf[i, MACD] = macd
        sig = np.nan
        if macd == macd:
            if state[S_MACD_FIRST] < 0:
                state[S_MACD_FIRST] = g
            m = g - int(state[S_MACD_FIRST])
            if m == 8:
                sig = _ewm(state, E_SIG9, _seed_mean(buf, MACD, i - 8, i + 1), A_EMA9)
            elif m > 8:
                sig = _ewm(state, E_SIG9, macd, A_EMA9)
        buf[i, MACD_SIGNAL] = sig
        buf[i, MACD_HIST] = macd - sig
        buf[i, EMA9] = _ema_seeded(state, E_EMA9, buf, i, g, 9, A_EMA9)
        buf[i, EMA21] = _ema_seeded(state, E_EMA21, buf, i, g, 21, A_EMA21)
        buf[i, EMA50] = _ema_seeded(state, E_EMA50, buf, i, g, 50, A_EMA50)

        # Bollinger 20/2 (ddof=1), each value from its own window with compensated sums: `bb_pct` divides by the
        # band width and subtracts the band from a close that is often within 1e-7 of it, so the bands should be
        # as exact as the data allow (naive sums are ~2 ulps off, pandas' running variance up to 1.5e-11 relative)
        if g >= 19:
            mid = _window_sum(buf, CLOSE, i - 19, i + 1, 0.0) / 20
            sd = np.sqrt(_window_sum(buf, CLOSE, i - 19, i + 1, mid) / 19)
            buf[i, BB_MID] = mid
            buf[i, BB_UPPER] = mid + 2.0 * sd
            buf[i, BB_LOWER] = mid - 2.0 * sd
        else:
            buf[i, BB_MID] = np.nan
            buf[i, BB_UPPER] = np.nan
            buf[i, BB_LOWER] = np.nan

        # true range (a zero high-low range gets +eps, as pandas-ta's non_zero_range, but per candle)
        hl = h - lo
        if hl == 0.0:
            hl += EPS
        tr = abs(hl)
        if not first:
            tr = max(tr, abs(h - pc), abs(pc - lo))
        buf[i, TR] = tr
        # ATR 14: SMA seed of the first 14 TR at row 13, then RMA
        atr = np.nan
        adx_atr = np.nan
        if g == 13:
            atr = _ewm(state, E_ATR, _seed_mean(buf, TR, i - 13, i + 1), A_RMA14)
            # ADX's own ATR drops the first TR (prenan): mean of rows 1..13 with row 0 counted as missing
            saved = buf[i - 13, TR]
            buf[i - 13, TR] = np.nan
            adx_atr = _ewm(state, E_ADX_ATR, _seed_mean(buf, TR, i - 13, i + 1), A_RMA14)
            buf[i - 13, TR] = saved
        elif g > 13:
            atr = _ewm(state, E_ATR, tr, A_RMA14)
            adx_atr = _ewm(state, E_ADX_ATR, tr, A_RMA14)
        buf[i, ATR] = atr

        # ADX 14 (pandas-ta default mode): ±DM -> RMA scaled by 100/ATR, DX -> RMA
        upm = h - ph
        dnm = pl - lo
        if upm != upm or dnm != dnm:
            pdm = np.nan
            ndm = np.nan
        else:
            pdm = upm if (upm > dnm and upm > 0.0) else 0.0
            ndm = dnm if (dnm > upm and dnm > 0.0) else 0.0
            if abs(pdm) < EPS:
                pdm = 0.0
            if abs(ndm) < EPS:
                ndm = 0.0
        rp = _ewm(state, E_DMP, pdm, A_RMA14)
        rn = _ewm(state, E_DMN, ndm, A_RMA14)
        k = 100.0 / adx_atr
        dmp = k * rp
        dmn = k * rn
        dx = 100.0 * abs(dmp - dmn) / (dmp + dmn)
        buf[i, ADX] = _ewm(state, E_ADX, dx, A_RMA14)

        # StochRSI 14/14/3/3: range of the last 14 RSI values, K = SMA3, D = SMA3 of K
        stoch = np.nan
        if g >= 14:
            hi_r = -np.inf
            lo_r = np.inf
            ok = True
            for j in range(i - 13, i + 1):
                r = buf[j, RSI]
                if r != r:
                    ok = False
                    break
                hi_r = max(hi_r, r)
                lo_r = min(lo_r, r)
            if ok:
                rng = hi_r - lo_r
                if rng == 0.0:
                    rng += EPS
                stoch = 100.0 * (rsi - lo_r) / rng
        buf[i, STOCH_RAW] = stoch
        buf[i, STOCH_K] = _sma(buf, STOCH_RAW, i, 3) if g >= 2 else np.nan
        buf[i, STOCH_D] = _sma(buf, STOCH_K, i, 3) if g >= 2 else np.nan
        buf[i, VOL_MA20] = _sma(buf, VOLUME, i, 20) if g >= 19 else np.nan

        state[S_COUNT] = g + 1


def indicator_matrix(high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray) -> np.ndarray:
    """Batch: the (n, N_BUF) buffer of a whole history, indicators filled."""
    n = len(close)
    buf = np.empty((n, N_BUF))
    buf[:, HIGH], buf[:, LOW], buf[:, CLOSE], buf[:, VOLUME] = high, low, close, volume
    indicator_rows(buf, new_state(), 0, n)
    return buf
