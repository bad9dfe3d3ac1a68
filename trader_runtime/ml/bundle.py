"""Model-bundle metadata (spec 10 §10 REQ, W-23): everything needed to serve, audit and reproduce a model.

Plain JSON types only, timestamps as UTC ISO-8601. The §9.4 gate results are added by whoever evaluates the gate
(`with_gate_results`), since the gate needs backtests that run after training.
"""

from __future__ import annotations

import importlib.metadata as md
from datetime import datetime
from typing import Any, Mapping, Sequence

import lightgbm
import pandas as pd

from trader_runtime.ml.scoring import ThresholdResult
from trader_runtime.strategy.dataset import DatasetParams
from trader_runtime.strategy.features import FEATURE_SCHEMA_VERSION, OPTIONAL_FEATURES

BUNDLE_VERSION = 1


def _version(dist: str) -> str | None:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


def library_versions() -> dict[str, str | None]:
    return {
        "lightgbm": lightgbm.__version__,
        "pandas_ta": _version("pandas-ta"),
        "onnxmltools": _version("onnxmltools"),
        "onnxruntime": _version("onnxruntime"),
        "numpy": _version("numpy"),
        "pandas": _version("pandas"),
        "scikit_learn": _version("scikit-learn"),
    }


def _utc_iso(ts: pd.Timestamp | datetime) -> str:
    t = pd.Timestamp(ts)
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    return t.isoformat()


def filled_features(dataset: pd.DataFrame, feature_columns: Sequence[str]) -> list[str]:
    """Optional features holding a value on some training row: a server must be able to fill them too."""
    return [c for c in feature_columns if c in OPTIONAL_FEATURES and c in dataset and dataset[c].notna().any()]


def bundle_metadata(
    *,
    symbol: str,
    dataset: pd.DataFrame,
    feature_columns: Sequence[str],
    dataset_params: DatasetParams,
    params: Mapping[str, Any],
    params_source: str | None,
    threshold: ThresholdResult,
    min_recall: float,
    metrics: Mapping[str, float],
    holdout_start: pd.Timestamp,
    n_folds: int,
    trained_at: datetime | None,
) -> dict[str, Any]:
    sig = dataset_params.signal
    is_signal = dataset["source"] == "signal"
    return {
        "bundle_version": BUNDLE_VERSION,
        "symbol": symbol,
        "feature_columns": list(feature_columns),
        "n_features": len(feature_columns),
        "feature_schema_version": FEATURE_SCHEMA_VERSION,
        "filled_features": filled_features(dataset, feature_columns),
        "versions": library_versions(),
        "label": {
            "sl_mult": dataset_params.label_sl_mult,
            "tp_mult": dataset_params.label_tp_mult,
            "lookahead": dataset_params.lookahead,
        },
        "signal_thresholds": {
            "signal_threshold": sig.signal_threshold,
            "adx_threshold": sig.adx_threshold,
            "volume_multiplier": sig.volume_multiplier,
        },
        "dataset": {
            "negative_ratio": dataset_params.negative_ratio,
            "time_weight_decay": dataset_params.time_weight_decay,
            "warmup": dataset_params.warmup,
            "rows": int(len(dataset)),
            "signal_rows": int(is_signal.sum()),
            "signal_positives": int(dataset.loc[is_signal, "label"].sum()),
        },
        "training_range": {
            "start_time": _utc_iso(dataset["timestamp"].iloc[0]),
            "end_time": _utc_iso(dataset["timestamp"].iloc[-1]),
            "holdout_start_time": _utc_iso(holdout_start),
        },
        "params": dict(params),
        "params_source": params_source,
        "n_estimators_policy": "fixed by params (walk-forward tuning); no early stopping",
        "threshold": {
            "value": threshold.threshold,
            "found": threshold.found,
            "min_recall": min_recall,
            "policy": f"precision-first on pooled out-of-fold signal rows of a {n_folds}-fold dev walk-forward",
        },
        "validation_metrics": dict(metrics),
        "gate_results": None,
        "trained_at": _utc_iso(trained_at) if trained_at is not None else None,
    }


def with_gate_results(metadata: Mapping[str, Any], gate: Mapping[str, Any]) -> dict[str, Any]:
    """Copy of `metadata` carrying the §9.4 gate outcome (e.g. `GateResult.to_dict()`)."""
    out = dict(metadata)
    out["gate_results"] = dict(gate)
    return out

