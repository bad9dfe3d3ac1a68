"""Feature ablation (spec 10 §9.1) on signal-row AUC (W-03): does the model add anything beyond the score?

A = all feature columns; B = A without `signal_strength`; C = A without `signal_strength` and `side`.
Verdict on drop = mean AUC(A) − mean AUC(C): <= 0.05 "value"; 0.05 < drop <= 0.10 "conditional" (0.10 itself is
conditional, D9); > 0.10 "redesign". The drop is rounded to 10 decimals before the comparison so that a float
difference such as 0.80 − 0.75 = 0.05000000000000004 lands in the band it means.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd

from trader_runtime.ml.fitting import model_feature_columns
from trader_runtime.ml.training import WF_MIN_RECALL, WalkForwardResult, walk_forward_validate
from trader_runtime.strategy.labels import LOOKAHEAD

VALUE_MAX_DROP = 0.05
CONDITIONAL_MAX_DROP = 0.10
SCORE_FEATURES = ("signal_strength", "side")


def ablation_verdict(drop: float) -> str:
    d = round(float(drop), 10)
    if d <= VALUE_MAX_DROP:
        return "value"
    if d <= CONDITIONAL_MAX_DROP:
        return "conditional"
    return "redesign"


@dataclass(frozen=True)
class ExperimentResult:
    name: str  # "A", "B", "C"
    feature_columns: tuple[str, ...]
    fold_auc_signal: list[float]
    mean_auc_signal: float
    std_auc_signal: float
    walk_forward: WalkForwardResult

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "feature_columns": list(self.feature_columns),
                "fold_auc_signal": list(self.fold_auc_signal), "mean_auc_signal": self.mean_auc_signal,
                "std_auc_signal": self.std_auc_signal}


@dataclass(frozen=True)
class AblationResult:
    experiments: list[ExperimentResult]
    drop: float  # mean AUC(A) − mean AUC(C), signal rows
    verdict: str  # value / conditional / redesign
    top_importances: list[tuple[str, float]]  # A: mean split count over folds, top 10
    score_features_in_top: list[str]  # which of signal_strength/side are in that top 10

    def experiment(self, name: str) -> ExperimentResult:
        return next(e for e in self.experiments if e.name == name)

    def to_dict(self) -> dict[str, Any]:
        return {"experiments": [e.to_dict() for e in self.experiments], "drop": self.drop, "verdict": self.verdict,
                "top_importances": [[n, v] for n, v in self.top_importances],
                "score_features_in_top": list(self.score_features_in_top)}


def run_ablation(
    dataset: pd.DataFrame,
    params: Mapping[str, Any],
    n_folds: int = 5,
    *,
    lookahead: int = LOOKAHEAD,
    min_recall: float = WF_MIN_RECALL,
) -> AblationResult:
    """Experiments A/B/C on the same walk-forward folds and params."""
    full = model_feature_columns(dataset)
    subsets = {
        "A": full,
        "B": tuple(c for c in full if c != "signal_strength"),
        "C": tuple(c for c in full if c not in SCORE_FEATURES),
    }
    experiments: list[ExperimentResult] = []
    for name, cols in subsets.items():
        wf = walk_forward_validate(dataset, params, n_folds, lookahead=lookahead, min_recall=min_recall,
                                   feature_columns=cols)
        experiments.append(ExperimentResult(name, cols, [f.auc_signal for f in wf.folds], wf.mean_auc_signal,
                                            wf.std_auc_signal, wf))
    a, c = experiments[0], experiments[2]
    drop = a.mean_auc_signal - c.mean_auc_signal
    imp = {col: float(np.mean([f.importances[col] for f in a.walk_forward.folds])) for col in full}
    top = sorted(imp.items(), key=lambda kv: (-kv[1], full.index(kv[0])))[:10]
    return AblationResult(experiments, drop, ablation_verdict(drop), top,
                          [n for n, _ in top if n in SCORE_FEATURES])
