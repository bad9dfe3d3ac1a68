"""The 30 ML features (spec 10 §4, and the market-metric features of the archive history) — the one implementation
used by the dataset builder, the backtester and the live bot (REQ 10 §4.7).

`feature_rows` is a compiled kernel that evaluates rows [start, end) of a column matrix: the batch path calls it
over a whole history, the live engine over the newest row of its rolling buffer, so both give the same bits.
Every value reads at most `FEATURE_LOOKBACK` rows back (the z288 window of a 5-candle return).

Adding a feature:
- a plain input column (a market metric) z-scored like `funding_rate`: append a `ZScored` entry to
  `ZSCORED_INPUTS` and its name to `FEATURE_COLUMNS` (the model schema; bump `FEATURE_SCHEMA_VERSION`);
  both paths pick it up, the live engine buffers the input column by name;
- anything else: add a column index and one computation in `_feature_kernel`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numba import njit

from trader_runtime.strategy.zscore import z_at as _z_at

FEATURE_COLUMNS: tuple[str, ...] = (
    "rsi",
    "macd_hist",
    "bb_pct",
    "ema_align",
    "stoch_k",
    "stoch_d",
    "atr_pct",
    "vol_ratio",
    "ret_1",
    "ret_3",
    "ret_5",
    "signal_strength",
    "side",
    "btc_ret_1",
    "btc_ret_3",
    "btc_ret_5",
    "eth_ret_1",
    "eth_ret_3",
    "eth_ret_5",
    "primary_btc_rs",
    "primary_eth_rs",
    "oi_change",
    "funding_rate",
    "oi_change_ma5",
    "oi_price_spread",
    "adx",
    "oi_value",
    "top_acct_ls_ratio",
    "global_ls_ratio",
    "taker_ls_vol_ratio",
)
CROSS_ASSET_COLUMNS = FEATURE_COLUMNS[13:21]
#: used when BTC or ETH data is absent (spec 10 §4.4)
FEATURE_COLUMNS_18 = tuple(c for c in FEATURE_COLUMNS if c not in CROSS_ASSET_COLUMNS)
#: the market-metric features: z-scores of the archive's 5-minute values at the candle's close (`METRIC_INPUT_COLUMNS`)
METRIC_FEATURES = ("oi_value", "top_acct_ls_ratio", "global_ls_ratio", "taker_ls_vol_ratio")
#: optional columns that may be NaN in a valid row (no OI coverage yet, W-02; metrics only where history has them)
OPTIONAL_FEATURES = ("oi_change", "funding_rate", "oi_change_ma5", "oi_price_spread", *METRIC_FEATURES)
#: optional features the live market feed fills (open interest and funding at each close); a model trained with
#: any other optional feature filled is refused by the trader, which would feed it NaN (model_source.py)
LIVE_FEED_FEATURES = ("oi_change", "funding_rate", "oi_change_ma5", "oi_price_spread")
#: 3: the market-metric features (OI value, top-trader and global L/S ratios, taker ratio) follow `adx`.
#: 2: `oi_change` is the change over the candle known at its close (archive, REST and live agree); version 1 had
#: REST rows one candle behind. A model recording another version is refused by the trader (model_source.py).
FEATURE_SCHEMA_VERSION = 3

Z_GENERAL = 288  # 3 days of 15m candles
Z_OI = 96  # 1 day
#: rows of history needed so the last row's z288 window holds only mature indicator values (D11)
MIN_LIVE_CANDLES = 1000
#: rows behind a row that its features read (z288 of a 5-candle return)
FEATURE_LOOKBACK = Z_GENERAL + 5


@dataclass(frozen=True)
class ZScored:
    """A feature that is the rolling z-score of one input column; 0.0 in the input means missing (spec 10 §1.3)."""

    feature: str
    column: str
    window: int


#: market-metric inputs z-scored as they are (order = the kernel's metric input columns)
ZSCORED_INPUTS: tuple[ZScored, ...] = (
    ZScored("oi_change", "oi_change", Z_OI),
    ZScored("funding_rate", "funding_rate", Z_OI),
    *(ZScored(name, name, Z_OI) for name in METRIC_FEATURES),
)

#: indicator/candle columns the kernel reads, in its input-matrix order
BASE_INPUTS = ("close", "rsi", "macd_hist", "bb_upper", "bb_lower", "ema9", "ema21", "ema50", "stoch_k", "stoch_d",
               "atr", "volume", "vol_ma20", "adx", "close_btc", "close_eth")
(I_CLOSE, I_RSI, I_MACDH, I_BBU, I_BBL, I_E9, I_E21, I_E50, I_K, I_D, I_ATR, I_VOL, I_VOLMA, I_ADX, I_BTC,
 I_ETH) = range(len(BASE_INPUTS))
#: the first metric column of the input matrix (`ZSCORED_INPUTS` follow in order)
I_METRIC0 = len(BASE_INPUTS)
_COL = {name: i for i, name in enumerate(FEATURE_COLUMNS)}
F_OI = _COL["oi_change"]
F_METRIC = np.array([_COL[z.feature] for z in ZSCORED_INPUTS], dtype=np.int64)
W_METRIC = np.array([z.window for z in ZSCORED_INPUTS], dtype=np.int64)


def feature_columns_for(frame: pd.DataFrame) -> tuple[str, ...]:
    return FEATURE_COLUMNS if ("close_btc" in frame.columns and "close_eth" in frame.columns) else FEATURE_COLUMNS_18


def input_columns() -> tuple[str, ...]:
    """Names of the kernel's input matrix columns."""
    return BASE_INPUTS + tuple(z.column for z in ZSCORED_INPUTS)


def input_matrix(frame: pd.DataFrame) -> np.ndarray:
    """(n, k) float64 kernel input; absent columns are NaN, metric 0.0 = missing -> NaN."""
    n = len(frame)
    out = np.full((n, len(input_columns())), np.nan)
    for j, name in enumerate(input_columns()):
        if name in frame.columns:
            out[:, j] = frame[name].to_numpy(np.float64)
    metrics = out[:, I_METRIC0:]
    metrics[metrics == 0.0] = np.nan
    return out


@njit(cache=True, error_model="numpy")
def _ret(c, j, k, g0):
    """close_j / close_{j-k} - 1; 0 for the first k rows of the series (g0 = series row of buffer row 0)."""
    if g0 + j < k:
        return 0.0
    return c[j] / c[j - k] - 1.0


@njit(cache=True, error_model="numpy")
def _feature_kernel(X, g0, start, end, has_cross, f_metric, w_metric, out):
    """Features of rows [start, end) of X into out[0 : end-start] (side/signal_strength left NaN)."""
    lo = start - Z_GENERAL + 1
    if lo < 0:
        lo = 0
    m = end - lo
    # z-scored series over [lo, end): general ones, then the metric inputs and the OI 5-row mean
    zs = np.full((m, 15), np.nan)
    n_metric = f_metric.shape[0]
    met = np.full((m, n_metric), np.nan)
    oi_ma5 = np.full(m, np.nan)
    close = X[:, I_CLOSE]
    for j in range(lo, end):
        r = j - lo
        zs[r, 0] = X[j, I_ATR] / (X[j, I_CLOSE] + 1e-8)
        zs[r, 1] = X[j, I_VOL] / (X[j, I_VOLMA] + 1e-8)
        zs[r, 2] = _ret(close, j, 1, g0)
        zs[r, 3] = _ret(close, j, 3, g0)
        zs[r, 4] = _ret(close, j, 5, g0)
        zs[r, 5] = X[j, I_ADX]
        if has_cross:
            r1_32 = np.float32(zs[r, 2])
            for a in range(2):
                col = I_BTC if a == 0 else I_ETH
                b1 = np.float32(_ret(X[:, col], j, 1, g0))
                zs[r, 6 + 3 * a] = np.float64(b1)
                zs[r, 7 + 3 * a] = np.float64(np.float32(_ret(X[:, col], j, 3, g0)))
                zs[r, 8 + 3 * a] = np.float64(np.float32(_ret(X[:, col], j, 5, g0)))
                if b1 != 0:
                    zs[r, 12 + a] = np.float64(np.float32(r1_32 / b1))
                else:
                    zs[r, 12 + a] = 0.0
        for q in range(n_metric):
            met[r, q] = X[j, I_METRIC0 + q]
        # trailing mean of the last 5 OI values ignoring NaN (the OI input is the first metric column)
        s = 0.0
        c = 0
        for jj in range(max(j - 4, 0), j + 1):
            v = X[jj, I_METRIC0]
            if not np.isnan(v):
                s += v
                c += 1
        if c > 0:
            oi_ma5[r] = s / c
    for t in range(start, end):
        o = out[t - start]
        r = t - lo
        cl = X[t, I_CLOSE]
        o[0] = X[t, I_RSI]
        o[1] = X[t, I_MACDH]
        o[2] = (cl - X[t, I_BBL]) / (X[t, I_BBU] - X[t, I_BBL] + 1e-8)
        e9, e21, e50 = X[t, I_E9], X[t, I_E21], X[t, I_E50]
        o[3] = 1.0 if (e9 > e21 and e21 > e50) else (-1.0 if (e9 < e21 and e21 < e50) else 0.0)
        o[4] = X[t, I_K]
        o[5] = X[t, I_D]
        o[6] = _z_at(zs[:, 0], r, Z_GENERAL, 0)
        o[7] = _z_at(zs[:, 1], r, Z_GENERAL, 0)
        z_ret1 = _z_at(zs[:, 2], r, Z_GENERAL, 0)
        o[8] = z_ret1
        o[9] = _z_at(zs[:, 3], r, Z_GENERAL, 0)
        o[10] = _z_at(zs[:, 4], r, Z_GENERAL, 0)
        o[11] = np.nan
        o[12] = np.nan
        for q in range(8):
            o[13 + q] = _z_at(zs[:, 6 + q], r, Z_GENERAL, 0) if has_cross else np.nan
        for q in range(n_metric):
            o[f_metric[q]] = _z_at(met[:, q], r, w_metric[q], 0)
        o[23] = _z_at(oi_ma5, r, Z_OI, 0)
        o[24] = o[F_OI] - z_ret1
        o[25] = _z_at(zs[:, 5], r, Z_GENERAL, 0)


def feature_rows(X: np.ndarray, start: int, end: int, *, has_cross: bool, g0: int = 0) -> np.ndarray:
    """(end-start, 30) features of rows [start, end) of an `input_matrix` (FEATURE_COLUMNS order)."""
    out = np.empty((max(0, end - start), len(FEATURE_COLUMNS)))
    if end > start:
        _feature_kernel(X, int(g0), int(start), int(end), bool(has_cross), F_METRIC, W_METRIC, out)
    return out


def compute_features(
    frame: pd.DataFrame,
    side: np.ndarray,
    strength: np.ndarray,
    start: int = 0,
) -> pd.DataFrame:
    """Feature rows for `frame` (combined schema + indicator columns).

    side: 1.0 LONG, 0.0 SHORT, NaN unknown (HOLD) per row; strength: score of that side (0 on HOLD).
    Only rows from `start` on are returned.
    """
    n = len(frame)
    start = max(0, min(int(start), n))
    names = feature_columns_for(frame)
    out = feature_rows(input_matrix(frame), start, n, has_cross=len(names) == len(FEATURE_COLUMNS))
    out[:, _COL["signal_strength"]] = np.asarray(strength, dtype=np.float64)[start:]
    out[:, _COL["side"]] = np.asarray(side, dtype=np.float64)[start:]
    idx = [_COL[c] for c in names]
    return pd.DataFrame(out[:, idx], index=frame.index[start:], columns=list(names))


def side_feature(signal: np.ndarray) -> np.ndarray:
    """`side` feature from a signal array: 1.0 LONG, 0.0 SHORT, NaN HOLD."""
    return np.where(signal == 1, 1.0, np.where(signal == -1, 0.0, np.nan))
