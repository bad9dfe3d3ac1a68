"""What each training-side run records, from the core's *Result objects (called inside an active run)."""

from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from trader_runtime.ml.ablation import AblationResult
from trader_runtime.ml.comparison import MLComparisonResult
from trader_runtime.ml.training import TrainedModel, WalkForwardResult
from trader_runtime.ml.tuning import ParamsDecision, TuningResult

from cointrader_pipelines.tracking.runs import MlflowTracker as T

KIND_TAG = "cointrader.kind"
ACTIVE_PARAMS_TAG = "cointrader.active_params"


def log_walk_forward(result: WalkForwardResult, prefix: str = "wf.") -> None:
    """Mean/std metrics, one series per fold metric (step = fold), the fold table and the OOF predictions."""
    T.log_params(result.params, prefix="lgbm.")
    T.log_params({"n_folds": result.n_folds, "min_recall": result.min_recall, "lookahead_candles": result.lookahead})
    T.log_metrics(result.metrics(), prefix=prefix)
    folds = [{k: v for k, v in f.to_dict().items() if k != "importances"} for f in result.folds]
    T.log_step_metrics(folds, "fold", prefix=f"{prefix}fold.")
    T.log_json(result.to_dict(), "walk_forward.json")
    T.log_frame(result.predictions, "walk_forward_predictions.csv")


def log_tuning(result: TuningResult, decision: ParamsDecision, active: Mapping[str, Any]) -> None:
    """Baseline vs best, every trial, and the Active Config decision as tags (W-12: recorded, not a file)."""
    T.log_params({"study_name": result.study_name, "n_trials": len(result.trials), "n_folds": result.n_folds,
                  "min_recall": result.min_recall})
    T.log_params(result.best_params, prefix="best.")
    T.log_metrics({"baseline_score": result.baseline.score, "best_score": result.best.score,
                   "improvement": result.improvement, "baseline_auc": result.baseline.auc, "best_auc": result.best.auc,
                   "n_complete": result.n_complete, "n_pruned": result.n_pruned, "elapsed_sec": result.elapsed_sec})
    T.log_step_metrics([{"trial": t.number, "score": t.score} for t in result.trials if t.score is not None],
                       "trial", prefix="trial.")
    T.log_json(result.to_dict(), "tuning.json")
    T.log_json({"adopt": decision.adopt, "reason": decision.reason, "evidence": decision.evidence,
                "active_params": dict(active)}, "active_params_decision.json")
    T.set_tags({"params.decision": "adopt" if decision.adopt else "keep", "params.reason": decision.reason,
                ACTIVE_PARAMS_TAG: _json(active)})


def log_trained_model(trained: TrainedModel) -> None:
    T.log_params(trained.walk_forward.params, prefix="lgbm.")
    T.log_params({"threshold": trained.threshold, "n_features": len(trained.feature_columns)})
    T.log_metrics(trained.metrics)
    T.log_json(trained.metadata, "model_bundle.json")
    T.log_frame(trained.holdout_predictions, "holdout_predictions.csv")


def log_comparison(comparison: MLComparisonResult, ablation: AblationResult) -> None:
    T.log_metrics({"pf_ml_off": comparison.pf_off, "pf_ml_on": comparison.pf_on, "trades_ml_on": comparison.trades_on,
                   "folds_without_model": comparison.folds_without_model, "ablation_drop": ablation.drop})
    T.log_metrics({e.name: e.mean_auc_signal for e in ablation.experiments}, prefix="ablation.auc_signal.")
    T.set_tags({"comparison.verdict": comparison.verdict, "ablation.verdict": ablation.verdict})
    T.log_json(comparison.to_dict(), "ml_comparison.json")
    T.log_json(ablation.to_dict(), "ablation.json")
    T.log_frame(pd.DataFrame(comparison.rows), "ml_on_vs_off.csv")


def _json(values: Mapping[str, Any]) -> str:
    import json

    return json.dumps(dict(values), sort_keys=True)
