"""Validation figures: AUC with an explicit "undefined" flag and the precision-first threshold of spec 10 §7.4."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import precision_recall_curve, roc_auc_score

#: threshold reported when no candidate reaches the minimum recall (spec 10 §7.4)
NO_THRESHOLD = 0.50


@dataclass(frozen=True)
class ThresholdResult:
    """Decision threshold (predict positive iff proba >= threshold) with its precision and recall."""

    threshold: float
    precision: float
    recall: float
    found: bool  # False: no candidate reached min_recall -> (0.50, 0.0, 0.0)


@dataclass(frozen=True)
class AucResult:
    auc: float
    defined: bool  # False when the rows hold a single class (auc is then the 0.5 placeholder)


def auc_or_half(label: np.ndarray, proba: np.ndarray) -> AucResult:
    """ROC-AUC, or 0.5 flagged undefined when fewer than two classes are present."""
    label = np.asarray(label)
    if label.size == 0 or np.unique(label).size < 2:
        return AucResult(0.5, False)
    return AucResult(float(roc_auc_score(label, np.asarray(proba, dtype=np.float64))), True)


def select_threshold(label: np.ndarray, proba: np.ndarray, min_recall: float) -> ThresholdResult:
    """Lowest threshold reaching the maximum precision among those with recall >= min_recall (§7.4)."""
    label = np.asarray(label)
    if label.size == 0 or not (label == 1).any():
        return ThresholdResult(NO_THRESHOLD, 0.0, 0.0, False)
    precision, recall, thresholds = precision_recall_curve(label, np.asarray(proba, dtype=np.float64))
    precision, recall = precision[:-1], recall[:-1]
    candidates = np.flatnonzero(recall >= min_recall)
    if candidates.size == 0:
        return ThresholdResult(NO_THRESHOLD, 0.0, 0.0, False)
    best = precision[candidates].max()
    k = int(candidates[np.flatnonzero(precision[candidates] == best)[0]])
    return ThresholdResult(float(thresholds[k]), float(precision[k]), float(recall[k]), True)


def precision_recall_at(label: np.ndarray, proba: np.ndarray, threshold: float) -> tuple[float, float]:
    """Precision and recall of `proba >= threshold` (0.0 where undefined)."""
    label = np.asarray(label)
    pred = np.asarray(proba) >= threshold
    tp = int((pred & (label == 1)).sum())
    n_pred, n_pos = int(pred.sum()), int((label == 1).sum())
    return (tp / n_pred if n_pred else 0.0), (tp / n_pos if n_pos else 0.0)
