"""Walk-forward validation and the final filter model (spec 10 §7 with W-03, W-04, W-05 fixed).

Every validation figure that matters (AUC, threshold, precision, recall) is measured on `source == "signal"` rows,
the population the filter sees live (D16/W-03); the all-rows AUC is reported beside it for comparison only.

Final model (W-04), decided: no early stopping. `n_estimators` is fixed by the params (chosen by the walk-forward
tuning of `tuning.py`). The last `holdout_fraction` of the candle span is held out; the threshold is chosen on the
pooled out-of-fold signal-row predictions of a walk-forward over the development part only; a model fitted on the
development part then reports its metrics on the held-out signal rows — data used for no choice at all. The model
that is returned is refitted with the same params on every row up to the end of the dataset.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Mapping, Sequence

import lightgbm as lgb
import numpy as np
import pandas as pd

from trader_runtime.errors import DataError
from trader_runtime.ml.bundle import bundle_metadata
from trader_runtime.ml.fitting import fit_rows, model_feature_columns, predict_proba
from trader_runtime.ml.params import complete_params
from trader_runtime.ml.scoring import auc_or_half, precision_recall_at, select_threshold
from trader_runtime.ml.splits import holdout_split, time_range, walk_forward_folds
from trader_runtime.strategy.dataset import DatasetParams, require_rows
from trader_runtime.strategy.labels import LOOKAHEAD

__all__ = ["FoldResult", "WalkForwardResult", "TrainedModel", "walk_forward_validate", "train_filter_model",
           "fit_full", "predict_proba"]

MIN_DATASET_ROWS = 200
WF_MIN_RECALL = 0.15


def _iso(ts: pd.Timestamp | None) -> str | None:
    return None if ts is None else pd.Timestamp(ts).isoformat()


@dataclass(frozen=True)
class FoldResult:
    """One walk-forward fold; `auc_signal`/`threshold`/`precision`/`recall` are on validation signal rows."""

    fold: int
    train_start_time: pd.Timestamp
    train_end_time: pd.Timestamp  # last training sample (after the purge)
    val_start_time: pd.Timestamp  # first validation sample
    val_end_time: pd.Timestamp  # last validation sample
    val_start_row: int  # validation block in candles [val_start_row, val_end_row)
    val_end_row: int
    n_train: int  # training rows after the purge, before undersampling
    n_train_fit: int  # rows actually fitted (after undersampling)
    n_val: int
    n_val_signal: int
    n_pos: int  # positives among validation signal rows
    auc_all: float
    auc_signal: float
    auc_signal_defined: bool  # False: single-class signal rows, auc_signal is the 0.5 placeholder
    threshold: float
    precision: float
    recall: float
    threshold_found: bool
    importances: dict[str, int]  # split counts

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        for k in ("train_start_time", "train_end_time", "val_start_time", "val_end_time"):
            out[k] = _iso(out[k])
        out["importances"] = dict(self.importances)
        return out


def _mean(xs: Sequence[float]) -> float:
    return float(np.mean(xs)) if len(xs) else 0.0


def _std(xs: Sequence[float]) -> float:
    return float(np.std(xs)) if len(xs) else 0.0


@dataclass(frozen=True)
class WalkForwardResult:
    """All folds (one list of records, W-11) plus the pooled out-of-fold predictions."""

    folds: list[FoldResult]
    feature_columns: tuple[str, ...]
    params: dict[str, Any]
    min_recall: float
    lookahead: int
    predictions: pd.DataFrame  # timestamp, row, fold, label, source, proba (validation rows of every fold)
    elapsed_sec: float = field(compare=False, default=0.0)

    @property
    def n_folds(self) -> int:
        return len(self.folds)

    @property
    def mean_auc_signal(self) -> float:
        return _mean([f.auc_signal for f in self.folds])

    @property
    def std_auc_signal(self) -> float:
        return _std([f.auc_signal for f in self.folds])

    @property
    def mean_auc_all(self) -> float:
        return _mean([f.auc_all for f in self.folds])

    @property
    def std_auc_all(self) -> float:
        return _std([f.auc_all for f in self.folds])

    @property
    def min_val_signals(self) -> int:
        return min((f.n_val_signal for f in self.folds), default=0)

    def metrics(self) -> dict[str, float]:
        """Flat numbers for tracking."""
        return {
            "n_folds": self.n_folds,
            "mean_auc_signal": self.mean_auc_signal,
            "std_auc_signal": self.std_auc_signal,
            "mean_auc_all": self.mean_auc_all,
            "std_auc_all": self.std_auc_all,
            "mean_precision": _mean([f.precision for f in self.folds]),
            "std_precision": _std([f.precision for f in self.folds]),
            "mean_recall": _mean([f.recall for f in self.folds]),
            "mean_threshold": _mean([f.threshold for f in self.folds]),
            "min_val_signals": self.min_val_signals,
            "folds_auc_undefined": sum(1 for f in self.folds if not f.auc_signal_defined),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (predictions excluded; log them as a table)."""
        return {"metrics": self.metrics(), "folds": [f.to_dict() for f in self.folds],
                "feature_columns": list(self.feature_columns), "params": dict(self.params),
                "min_recall": self.min_recall, "lookahead": self.lookahead, "elapsed_sec": self.elapsed_sec}


def _evaluate_fold(
    dataset: pd.DataFrame, fold_no: int, train_idx: np.ndarray, val_idx: np.ndarray, vs: int, ve: int,
    params: Mapping[str, Any], cols: tuple[str, ...], min_recall: float,
) -> tuple[FoldResult, np.ndarray]:
    model, n_fit = fit_rows(dataset, train_idx, params, cols, f"fold {fold_no}")
    val = dataset.iloc[val_idx]
    proba = predict_proba(model, val[list(cols)].to_numpy(np.float32))
    label = val["label"].to_numpy(np.int64)
    is_sig = (val["source"] == "signal").to_numpy()
    auc_sig = auc_or_half(label[is_sig], proba[is_sig])
    thr = select_threshold(label[is_sig], proba[is_sig], min_recall)
    t0, t1 = time_range(dataset, train_idx)
    v0, v1 = time_range(dataset, val_idx)
    imp = model.booster_.feature_importance("split")
    result = FoldResult(
        fold=fold_no, train_start_time=t0, train_end_time=t1, val_start_time=v0, val_end_time=v1,
        val_start_row=vs, val_end_row=ve, n_train=int(train_idx.size), n_train_fit=n_fit, n_val=int(val_idx.size),
        n_val_signal=int(is_sig.sum()), n_pos=int(label[is_sig].sum()),
        auc_all=auc_or_half(label, proba).auc, auc_signal=auc_sig.auc, auc_signal_defined=auc_sig.defined,
        threshold=thr.threshold, precision=thr.precision, recall=thr.recall, threshold_found=thr.found,
        importances={c: int(v) for c, v in zip(cols, imp)},
    )
    return result, proba


def walk_forward_validate(
    dataset: pd.DataFrame,
    params: Mapping[str, Any],
    n_folds: int = 5,
    *,
    lookahead: int = LOOKAHEAD,
    min_recall: float = WF_MIN_RECALL,
    train_fraction: float = 0.6,
    feature_columns: Sequence[str] | None = None,
    on_fold: Callable[[FoldResult], None] | None = None,
) -> WalkForwardResult:
    """Expanding-window walk-forward over time (splits.walk_forward_folds); exactly `n_folds` folds or DataError.

    `on_fold` is called after every fold (tuning uses it to report and prune; an exception it raises propagates).
    """
    started = time.perf_counter()
    require_rows(dataset, MIN_DATASET_ROWS, "walk-forward validation")
    params = complete_params(params)
    cols = model_feature_columns(dataset, feature_columns)
    specs = walk_forward_folds(dataset, n_folds, lookahead, train_fraction)
    folds: list[FoldResult] = []
    preds: list[pd.DataFrame] = []
    for spec in specs:
        res, proba = _evaluate_fold(dataset, spec.fold, spec.train_index, spec.val_index, spec.val_start_row,
                                    spec.val_end_row, params, cols, min_recall)
        folds.append(res)
        part = dataset.iloc[spec.val_index][["timestamp", "row", "label", "source"]].copy()
        part.insert(2, "fold", spec.fold)
        part["proba"] = proba
        preds.append(part)
        if on_fold is not None:
            on_fold(res)
    return WalkForwardResult(
        folds=folds, feature_columns=cols, params=params, min_recall=min_recall, lookahead=lookahead,
        predictions=pd.concat(preds, ignore_index=True), elapsed_sec=time.perf_counter() - started,
    )


def fit_full(dataset: pd.DataFrame, params: Mapping[str, Any], feature_columns: Sequence[str] | None = None,
             what: str = "final model") -> lgb.LGBMClassifier:
    """Fit on every row of the dataset (undersampled, weighted) — the final fit and the per-fold backtest models."""
    require_rows(dataset, MIN_DATASET_ROWS, what)
    cols = model_feature_columns(dataset, feature_columns)
    model, _ = fit_rows(dataset, np.arange(len(dataset)), params, cols, what)
    return model


@dataclass
class TrainedModel:
    """The final filter model and its bundle metadata (spec 10 §10 REQ)."""

    model: lgb.LGBMClassifier  # fitted on all rows up to the end of the dataset
    feature_columns: tuple[str, ...]
    threshold: float
    metrics: dict[str, float]  # held-out signal-row metrics (+ dev walk-forward means)
    metadata: dict[str, Any]  # the model bundle metadata
    walk_forward: WalkForwardResult  # dev-part walk-forward that chose the threshold
    holdout_predictions: pd.DataFrame  # timestamp, row, label, source, proba of the held-out rows

    @property
    def booster(self) -> lgb.Booster:
        return self.model.booster_


def _holdout_metrics(label: np.ndarray, proba: np.ndarray, is_sig: np.ndarray, threshold: float) -> dict[str, float]:
    auc_sig = auc_or_half(label[is_sig], proba[is_sig])
    precision, recall = precision_recall_at(label[is_sig], proba[is_sig], threshold)
    return {
        "holdout_auc_signal": auc_sig.auc,
        "holdout_auc_signal_defined": float(auc_sig.defined),
        "holdout_auc_all": auc_or_half(label, proba).auc,
        "holdout_precision": precision,
        "holdout_recall": recall,
        "holdout_n_signal": int(is_sig.sum()),
        "holdout_n_pos": int(label[is_sig].sum()),
        "holdout_pass_rate": float((proba[is_sig] >= threshold).mean()) if is_sig.any() else 0.0,
    }


def train_filter_model(
    dataset: pd.DataFrame,
    params: Mapping[str, Any],
    *,
    dataset_params: DatasetParams,
    symbol: str,
    n_folds: int = 5,
    min_recall: float = WF_MIN_RECALL,
    holdout_fraction: float = 0.2,
    params_source: str | None = None,
    trained_at: datetime | None = None,
) -> TrainedModel:
    """Threshold from a dev walk-forward, metrics on the held-out tail, final refit on everything (module doc)."""
    require_rows(dataset, MIN_DATASET_ROWS, f"{symbol} filter model")
    params = complete_params(params)
    cols = model_feature_columns(dataset)
    lookahead = dataset_params.lookahead
    split = holdout_split(dataset, holdout_fraction, lookahead)
    dev = dataset.iloc[split.train_index].reset_index(drop=True)
    wf = walk_forward_validate(dev, params, n_folds, lookahead=lookahead, min_recall=min_recall)
    oof = wf.predictions[wf.predictions["source"] == "signal"]
    thr = select_threshold(oof["label"].to_numpy(), oof["proba"].to_numpy(), min_recall)

    dev_model, _ = fit_rows(dataset, split.train_index, params, cols, f"{symbol} development model")
    held = dataset.iloc[split.val_index]
    proba = predict_proba(dev_model, held[list(cols)].to_numpy(np.float32))
    label = held["label"].to_numpy(np.int64)
    is_sig = (held["source"] == "signal").to_numpy()
    if not is_sig.any():
        raise DataError(f"{symbol}: the held-out tail ({held.shape[0]} rows) has no signal rows to evaluate on")
    metrics = _holdout_metrics(label, proba, is_sig, thr.threshold)
    metrics.update({"threshold": thr.threshold, "oof_precision": thr.precision, "oof_recall": thr.recall,
                    **{f"dev_wf_{k}": v for k, v in wf.metrics().items()}})

    model = fit_full(dataset, params, cols, f"{symbol} final model")
    holdout_predictions = held[["timestamp", "row", "label", "source"]].reset_index(drop=True)
    holdout_predictions["proba"] = proba
    metadata = bundle_metadata(
        symbol=symbol, dataset=dataset, feature_columns=cols, dataset_params=dataset_params, params=params,
        params_source=params_source, threshold=thr, min_recall=min_recall, metrics=metrics,
        holdout_start=pd.Timestamp(held["timestamp"].iloc[0]), n_folds=n_folds, trained_at=trained_at,
    )
    return TrainedModel(model=model, feature_columns=cols, threshold=thr.threshold, metrics=metrics,
                        metadata=metadata, walk_forward=wf, holdout_predictions=holdout_predictions)
