"""Training dataset (spec 10 §6): labelled signal samples plus HOLD negatives, with time-decay weights.

Deviations from the reference, all deliberate: the candle `timestamp` is kept (W-05), weights decay with time
rather than row rank (W-22), and the warm-up defaults to 337 candles so every z288 window is complete (W-20;
`warmup=60` reproduces the reference fixture of §6.6).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trader_runtime.config import TRAIN_SIGNAL_PARAMS, StrategyParams
from trader_runtime.errors import DataError
from trader_runtime.strategy.features import OPTIONAL_FEATURES, compute_features, feature_columns_for, side_feature
from trader_runtime.strategy.labels import LOOKAHEAD, label_rows
from trader_runtime.strategy.pipeline import PreparedMarket

SEED = 42


@dataclass(frozen=True, slots=True)
class DatasetParams:
    """Signal thresholds select candidates (relaxed TRAIN_* by default); SL/TP multiples define the label (W-06)."""

    signal: StrategyParams = TRAIN_SIGNAL_PARAMS
    label_sl_mult: float = 2.0
    label_tp_mult: float = 2.0
    lookahead: int = LOOKAHEAD
    negative_ratio: int = 3
    time_weight_decay: float = 2.0
    warmup: int = 337

    @classmethod
    def for_symbol(cls, strategy: StrategyParams, **kw) -> "DatasetParams":
        """Label with the symbol's own exits (W-06) while keeping the relaxed candidate thresholds."""
        return cls(label_sl_mult=strategy.atr_sl_mult, label_tp_mult=strategy.atr_tp_mult, **kw)


def time_decay_weights(timestamps: pd.DatetimeIndex | pd.Series, decay: float) -> np.ndarray:
    """exp(decay·(t − t_min)/(t_max − t_min)), mean-normalised (W-22); all ones when decay is 0."""
    n = len(timestamps)
    if decay <= 0 or n <= 1:
        return np.ones(n, dtype=np.float32)
    t = pd.DatetimeIndex(timestamps).asi8.astype(np.float64)
    span = t.max() - t.min()
    pos = (t - t.min()) / span if span > 0 else np.zeros(n)
    # the C library's exp and an exactly rounded sum: numpy's vectorised exp and its summation order change with
    # the CPU's instruction set (AVX512 vs AVX2), and these weights shape every trained model
    w = np.array([math.exp(decay * p) for p in pos.tolist()])
    return (w / (math.fsum(w.tolist()) / n)).astype(np.float32)


def build_dataset(market: PreparedMarket, params: DatasetParams = DatasetParams()) -> pd.DataFrame:
    """Labelled rows in chronological order: feature columns, label, source, sample_weight, timestamp, row."""
    frame = market.frame
    n = len(frame)
    sig = market.signals(params.signal)
    feats = compute_features(frame, side_feature(sig.signal), sig.strength)
    cols = list(feature_columns_for(frame))
    required = [c for c in cols if c not in OPTIONAL_FEATURES and c != "side"]
    pos = np.arange(n)
    valid = ~feats[required].isna().any(axis=1).to_numpy() & (pos >= params.warmup) & (pos < n - params.lookahead)

    sig_rows = np.flatnonzero(valid & (sig.signal != 0))
    labels = label_rows(
        frame["high"].to_numpy(), frame["low"].to_numpy(), frame["close"].to_numpy(), frame["atr"].to_numpy(),
        sig_rows, sig.signal[sig_rows], params.label_sl_mult, params.label_tp_mult, params.lookahead,
    )
    keep = labels >= 0
    sig_rows, labels = sig_rows[keep], labels[keep]
    if len(sig_rows) == 0:
        return _empty(cols)

    signal_part = feats.iloc[sig_rows].copy()
    signal_part["label"] = labels.astype(np.int8)
    signal_part["source"] = "signal"
    signal_part["row"] = sig_rows
    parts = [signal_part]

    candidates = np.flatnonzero(valid & (sig.signal == 0))
    n_neg = min(len(candidates), len(sig_rows) * params.negative_ratio) if params.negative_ratio > 0 else 0
    if n_neg > 0:
        rng = np.random.default_rng(SEED)
        neg_rows = np.sort(rng.choice(candidates, n_neg, replace=False))
        neg_side = rng.integers(0, 2, n_neg).astype(np.float32)
        neg = feats.iloc[neg_rows].copy()
        neg["side"] = neg_side.astype(np.float64)
        neg["signal_strength"] = 0.0
        neg["label"] = np.int8(0)
        neg["source"] = "hold_negative"
        neg["row"] = neg_rows
        parts.append(neg)

    out = pd.concat(parts).sort_values("row", kind="stable")
    out[cols] = out[cols].astype(np.float32)
    out.insert(0, "timestamp", out.index)
    out = out.reset_index(drop=True)
    out["label"] = out["label"].astype(np.int8)
    out["sample_weight"] = time_decay_weights(out["timestamp"], params.time_weight_decay)
    return out[["timestamp", *cols, "label", "source", "sample_weight", "row"]]


def _empty(cols: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {"timestamp": pd.Series(dtype="datetime64[ms, UTC]"), **{c: pd.Series(dtype=np.float32) for c in cols},
         "label": pd.Series(dtype=np.int8), "source": pd.Series(dtype=object),
         "sample_weight": pd.Series(dtype=np.float32), "row": pd.Series(dtype=np.int64)}
    )


def stratified_undersample(label: np.ndarray, source: np.ndarray, seed: int = SEED) -> np.ndarray:
    """Indices to train on: all positives and signal negatives, HOLD negatives drawn down to #positives (§6.5)."""
    label = np.asarray(label)
    source = np.asarray(source)
    pos = np.flatnonzero(label == 1)
    sig_neg = np.flatnonzero((label == 0) & (source == "signal"))
    hold = np.flatnonzero((label == 0) & (source == "hold_negative"))
    k = min(len(hold), len(pos))
    drawn = np.random.default_rng(seed).choice(hold, k, replace=False) if k > 0 else np.array([], dtype=np.int64)
    return np.sort(np.concatenate([pos, sig_neg, drawn]).astype(np.int64))


def require_rows(dataset: pd.DataFrame, minimum: int, what: str) -> None:
    if len(dataset) < minimum:
        raise DataError(f"{what}: dataset has {len(dataset)} rows, at least {minimum} are needed")
