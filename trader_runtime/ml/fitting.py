"""One LightGBM fit on a set of dataset rows, and prediction with NaN passed through unchanged.

Every model in the platform (walk-forward folds, tuning trials, ablation, the final model, the per-fold models of
the ML on/off backtest) is fitted here, so undersampling, weighting and seeding are identical everywhere.
Weights: `time_weight_decay` from the params applied to the candle timestamps of the rows being fitted
(`strategy.dataset.time_decay_weights`, W-22), so a fold model is weighted exactly as a final model trained at that
fold's end would be; the dataset's own `sample_weight` column equals these weights for a fit on the whole dataset
built with the same decay, and is used only when the params say `time_weight_decay=None`.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import lightgbm as lgb
import numpy as np
import pandas as pd

from trader_runtime.errors import DataError, ModelUnavailable
from trader_runtime.ml.params import SEED, complete_params, lgbm_kwargs
from trader_runtime.strategy.dataset import stratified_undersample, time_decay_weights
from trader_runtime.strategy.features import FEATURE_COLUMNS, FEATURE_COLUMNS_18

MIN_FIT_ROWS = 20


def model_feature_columns(dataset: pd.DataFrame, feature_columns: Sequence[str] | None = None) -> tuple[str, ...]:
    """The dataset's schema (30 or 22 columns, in model order), or an explicit subset (ablation)."""
    if feature_columns is None:
        for schema in (FEATURE_COLUMNS, FEATURE_COLUMNS_18):
            if all(c in dataset.columns for c in schema):
                return tuple(schema)
        missing = [c for c in FEATURE_COLUMNS_18 if c not in dataset.columns]
        raise DataError(f"dataset lacks feature columns {missing}")
    cols = tuple(feature_columns)
    missing = [c for c in cols if c not in dataset.columns]
    if missing or not cols:
        raise DataError(f"feature columns {missing or '[]'} not in the dataset")
    return cols


def training_weights(part: pd.DataFrame, params: Mapping[str, Any]) -> np.ndarray:
    """Sample weights for fitting on `part` (see module docstring)."""
    decay = params.get("time_weight_decay", None)
    if decay is None:
        return part["sample_weight"].to_numpy(np.float64)
    return time_decay_weights(pd.DatetimeIndex(part["timestamp"]), float(decay)).astype(np.float64)


def fit_rows(
    dataset: pd.DataFrame, index: np.ndarray, params: Mapping[str, Any], feature_columns: Sequence[str], what: str
) -> tuple[lgb.LGBMClassifier, int]:
    """Fit on dataset rows `index` after stratified undersampling (§6.5); returns the model and rows fitted."""
    params = complete_params(params)
    part = dataset.iloc[index]
    weights = training_weights(part, params)
    keep = stratified_undersample(part["label"].to_numpy(), part["source"].to_numpy(), seed=SEED)
    y = part["label"].to_numpy(np.int64)[keep]
    if keep.size < MIN_FIT_ROWS or np.unique(y).size < 2:
        raise DataError(
            f"{what}: {keep.size} training rows after undersampling with classes {sorted(set(y.tolist()))}; "
            f"need >= {MIN_FIT_ROWS} rows and both classes"
        )
    X = part[list(feature_columns)].to_numpy(np.float32)[keep]
    model = lgb.LGBMClassifier(**lgbm_kwargs(params))
    model.fit(X, y, sample_weight=weights[keep], feature_name=list(feature_columns))
    return model, int(keep.size)


def _features_of(model: lgb.LGBMClassifier) -> list[str]:
    return list(model.booster_.feature_name())


def predict_proba(model: Any, X: pd.DataFrame | np.ndarray) -> np.ndarray:
    """P(label = 1) per row; NaN features go to LightGBM unchanged. A DataFrame is reordered to the model's
    feature list (missing columns -> ModelUnavailable); an array must already be in that order."""
    clf = getattr(model, "model", model)
    names = _features_of(clf)
    if isinstance(X, pd.DataFrame):
        missing = [c for c in names if c not in X.columns]
        if missing:
            raise ModelUnavailable(f"feature rows lack the model's columns {missing}")
        arr = X[names].to_numpy(np.float32)
    else:
        arr = np.asarray(X, dtype=np.float32)
        if arr.ndim == 1:
            arr = arr.reshape(1, -1)
        if arr.shape[1] != len(names):
            raise ModelUnavailable(f"feature array has {arr.shape[1]} columns; the model expects {len(names)}")
    if arr.shape[0] == 0:
        return np.zeros(0, dtype=np.float64)
    return np.asarray(clf.booster_.predict(arr), dtype=np.float64)  # binary objective: P(label = 1)
