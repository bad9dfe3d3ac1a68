"""Walk-forward fold geometry by time (W-05), counted in candles through the dataset's `row` column.

The candle span [r0, r1) of the dataset (first sample candle to one past the last) is cut at
r0 + train_fraction·span; the rest is split into exactly `n_folds` contiguous validation blocks of (almost) equal
candle length. Fold k trains on every earlier sample whose label window [t+1, t+lookahead] ends before the first
validation candle (purge: t + lookahead < val_start) — an expanding window, the default. With `expanding=False`
a fold also trains on the samples after its block, except those in the embargo [val_end, val_end + embargo)
(`embargo` defaults to `lookahead` candles); under the expanding layout nothing lies after the block, so the
embargo removes nothing there and is only recorded.
A fold that would be empty is an error, never a silently skipped fold (W-05: exactly the requested count).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trader_runtime.errors import DataError
from trader_runtime.strategy.labels import LOOKAHEAD


@dataclass(frozen=True)
class FoldSpec:
    """One fold: candle boundaries (`*_row`, dataset `row` units) and the dataset row positions it uses."""

    fold: int  # 1-based
    val_start_row: int  # first validation candle
    val_end_row: int  # one past the last validation candle
    purge_start_row: int  # training samples must have row < purge_start_row (= val_start_row - lookahead)
    embargo_end_row: int  # val_end_row + embargo
    train_index: np.ndarray  # positions (iloc) into the dataset
    val_index: np.ndarray

    @property
    def n_train(self) -> int:
        return int(self.train_index.size)

    @property
    def n_val(self) -> int:
        return int(self.val_index.size)


def _rows(dataset: pd.DataFrame) -> np.ndarray:
    for col in ("row", "timestamp"):
        if col not in dataset.columns:
            raise DataError(f"dataset has no {col!r} column; build it with strategy.dataset.build_dataset")
    rows = dataset["row"].to_numpy(np.int64)
    if rows.size and np.any(np.diff(rows) < 0):
        raise DataError("dataset rows are not in chronological order (column 'row' decreases)")
    return rows


def train_mask(rows: np.ndarray, val_start_row: int, val_end_row: int, lookahead: int, embargo: int) -> np.ndarray:
    """Samples allowed to train against the validation block [val_start_row, val_end_row)."""
    before = rows + lookahead < val_start_row
    after = rows >= val_end_row + embargo
    return before | after


def walk_forward_folds(
    dataset: pd.DataFrame,
    n_folds: int = 5,
    lookahead: int = LOOKAHEAD,
    train_fraction: float = 0.6,
    embargo: int | None = None,
    expanding: bool = True,
) -> list[FoldSpec]:
    """Exactly `n_folds` folds over the dataset's candle span; DataError if any fold would be empty."""
    if n_folds < 1:
        raise DataError(f"n_folds={n_folds} must be >= 1")
    if not 0.0 < train_fraction < 1.0:
        raise DataError(f"train_fraction={train_fraction} must be in (0, 1)")
    if lookahead < 0:
        raise DataError(f"lookahead={lookahead} must be >= 0")
    embargo = lookahead if embargo is None else embargo
    rows = _rows(dataset)
    if rows.size == 0:
        raise DataError("dataset is empty; no walk-forward fold can be built")
    r0, r1 = int(rows[0]), int(rows[-1]) + 1
    v0 = r0 + int(round(train_fraction * (r1 - r0)))
    bounds = [v0 + int(round(k * (r1 - v0) / n_folds)) for k in range(n_folds + 1)]
    folds: list[FoldSpec] = []
    for k in range(n_folds):
        vs, ve = bounds[k], bounds[k + 1]
        val_idx = np.flatnonzero((rows >= vs) & (rows < ve))
        mask = train_mask(rows, vs, ve, lookahead, embargo)
        if expanding:
            mask &= rows < vs
        train_idx = np.flatnonzero(mask)
        if val_idx.size == 0 or train_idx.size == 0:
            raise DataError(
                f"fold {k + 1}/{n_folds}: {train_idx.size} training and {val_idx.size} validation samples "
                f"(candles {r0}..{r1 - 1}, validation block {vs}..{ve - 1}); use fewer folds or more data"
            )
        folds.append(FoldSpec(k + 1, vs, ve, vs - lookahead, ve + embargo, train_idx, val_idx))
    return folds


def holdout_split(dataset: pd.DataFrame, holdout_fraction: float, lookahead: int = LOOKAHEAD) -> FoldSpec:
    """Development rows (purged before the tail) and the held-out last `holdout_fraction` of the candle span."""
    if not 0.0 < holdout_fraction < 1.0:
        raise DataError(f"holdout_fraction={holdout_fraction} must be in (0, 1)")
    rows = _rows(dataset)
    if rows.size == 0:
        raise DataError("dataset is empty; no hold-out split can be built")
    r0, r1 = int(rows[0]), int(rows[-1]) + 1
    h0 = r0 + int(round((1.0 - holdout_fraction) * (r1 - r0)))
    dev = np.flatnonzero(train_mask(rows, h0, r1, lookahead, 0) & (rows < h0))
    held = np.flatnonzero(rows >= h0)
    if dev.size == 0 or held.size == 0:
        raise DataError(f"hold-out split at candle {h0}: {dev.size} development and {held.size} held-out samples")
    return FoldSpec(0, h0, r1, h0 - lookahead, r1, dev, held)


def time_range(dataset: pd.DataFrame, index: np.ndarray) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """First and last sample timestamps of the rows at `index` (None when empty)."""
    if index.size == 0:
        return None, None
    ts = dataset["timestamp"].iloc[index]
    return pd.Timestamp(ts.iloc[0]), pd.Timestamp(ts.iloc[-1])
