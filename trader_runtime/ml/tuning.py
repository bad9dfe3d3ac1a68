"""Optuna hyperparameter search (spec 10 §8 with W-08..W-12 fixed).

- Objective per fold on validation signal rows (D16): precision at the §7.4 threshold (min recall 0.35) on folds
  with >= 3 positives, + 0.001 × mean signal-row AUC of all folds (0.5 placeholder where undefined).
- Every trial and the baseline run through the same `walk_forward_validate` (same folds, undersampling and
  weighting), so the baseline is measured identically (W-09). `time_weight_decay` is searched on the real
  time-decay weighting instead of the reference's `weight_scale` (W-09); `subsample` is not searched (W-08);
  `max_depth` starts at 3 so `num_leaves <= 2^depth − 1` always holds (W-10).
- Per-fold records are one list of structs (W-11); the MedianPruner's warm-up is half the real fold count and the
  last fold is never pruned (a fully evaluated trial stays complete).
- Whether the best params become active is a recorded decision (`decide_active_params`); nothing here writes a
  params file (W-12). The study lives in the storage passed in (e.g. sqlite), under the name passed in.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np
import optuna
import pandas as pd

from trader_runtime.errors import ConfigError
from trader_runtime.ml.params import DEFAULT_PARAMS, SEED, complete_params
from trader_runtime.ml.training import FoldResult, walk_forward_validate
from trader_runtime.strategy.labels import LOOKAHEAD

TUNING_MIN_RECALL = 0.35
MIN_POSITIVES_FOR_PRECISION = 3
AUC_WEIGHT = 0.001

# optuna prints through its own handler and format; send its records through the project's log format instead
optuna.logging.disable_default_handler()
optuna.logging.enable_propagation()


@dataclass(frozen=True)
class FoldScore:
    fold: int
    n_val_signal: int
    n_pos: int
    auc_signal: float
    auc_defined: bool
    precision: float
    recall: float
    threshold: float
    counted: bool  # precision enters the score (n_pos >= 3)

    @classmethod
    def of(cls, f: FoldResult) -> "FoldScore":
        return cls(f.fold, f.n_val_signal, f.n_pos, f.auc_signal, f.auc_signal_defined, f.precision, f.recall,
                   f.threshold, f.n_pos >= MIN_POSITIVES_FOR_PRECISION)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class ParamsEvaluation:
    """Objective of one params set over the walk-forward folds."""

    score: float
    auc: float  # mean signal-row AUC over all folds
    precision: float  # mean over counted folds
    recall: float
    params: dict[str, Any]
    folds: list[FoldScore]

    @property
    def fold_auc_std(self) -> float:
        return float(np.std([f.auc_signal for f in self.folds])) if self.folds else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"score": self.score, "auc": self.auc, "precision": self.precision, "recall": self.recall,
                "fold_auc_std": self.fold_auc_std, "params": dict(self.params),
                "folds": [f.to_dict() for f in self.folds]}


def score_folds(folds: list[FoldScore]) -> tuple[float, float, float, float]:
    """(score, mean AUC, mean precision, mean recall) — the §8.4 precision objective on signal rows."""
    counted = [f for f in folds if f.counted]
    precision = float(np.mean([f.precision for f in counted])) if counted else 0.0
    recall = float(np.mean([f.recall for f in counted])) if counted else 0.0
    auc = float(np.mean([f.auc_signal for f in folds])) if folds else 0.5
    return precision + AUC_WEIGHT * auc, auc, precision, recall


def evaluate_params(
    dataset: pd.DataFrame,
    params: Mapping[str, Any],
    n_folds: int = 5,
    *,
    min_recall: float = TUNING_MIN_RECALL,
    lookahead: int = LOOKAHEAD,
    on_fold: Callable[[list[FoldScore]], None] | None = None,
) -> ParamsEvaluation:
    """Objective of `params` (the baseline and every trial go through here)."""
    params = complete_params(params)
    scores: list[FoldScore] = []

    def record(f: FoldResult) -> None:
        scores.append(FoldScore.of(f))
        if on_fold is not None:
            on_fold(list(scores))

    walk_forward_validate(dataset, params, n_folds, lookahead=lookahead, min_recall=min_recall, on_fold=record)
    score, auc, precision, recall = score_folds(scores)
    return ParamsEvaluation(score, auc, precision, recall, params, scores)


def suggest_params(trial: optuna.Trial) -> dict[str, Any]:
    """Search space (suggest order fixed: TPE results depend on it)."""
    depth = trial.suggest_int("max_depth", 3, 7)
    return {
        "n_estimators": trial.suggest_int("n_estimators", 100, 600),
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.2, log=True),
        "max_depth": depth,
        "num_leaves": trial.suggest_int("num_leaves", 7, max(7, min(31, 2**depth - 1))),
        "min_child_samples": trial.suggest_int("min_child_samples", 10, 50),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.5, 1.0),
        "reg_alpha": trial.suggest_float("reg_alpha", 1e-4, 1.0, log=True),
        "reg_lambda": trial.suggest_float("reg_lambda", 1e-4, 1.0, log=True),
        "time_weight_decay": trial.suggest_float("time_weight_decay", 0.0, 4.0),
    }


def make_pruner(n_folds: int) -> optuna.pruners.MedianPruner:
    """Median pruner whose warm-up is half the real fold count (steps are 0-based fold indices)."""
    return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=max(1, n_folds // 2))


class Objective:
    """The trial objective (a picklable object, so other processes can run it on the same study)."""

    def __init__(self, dataset: pd.DataFrame, n_folds: int, min_recall: float, lookahead: int,
                 fixed: Mapping[str, Any]) -> None:
        self.dataset, self.n_folds, self.min_recall, self.lookahead = dataset, n_folds, min_recall, lookahead
        self.fixed = dict(fixed)

    def __call__(self, trial: optuna.Trial) -> float:
        params = {**self.fixed, **suggest_params(trial)}

        def report(scores: list[FoldScore]) -> None:
            trial.set_user_attr("folds", [s.to_dict() for s in scores])
            step = len(scores) - 1
            trial.report(score_folds(scores)[0], step)
            if len(scores) < self.n_folds and trial.should_prune():
                raise optuna.TrialPruned(f"pruned after fold {len(scores)}/{self.n_folds}")

        return evaluate_params(self.dataset, params, self.n_folds, min_recall=self.min_recall,
                               lookahead=self.lookahead, on_fold=report).score


@dataclass(frozen=True)
class TrialRecord:
    number: int
    state: str  # COMPLETE / PRUNED / FAIL
    score: float | None
    params: dict[str, Any]  # full effective params
    folds: list[dict[str, Any]]  # FoldScore dicts evaluated before completion/pruning

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "state": self.state, "score": self.score, "params": dict(self.params),
                "folds": list(self.folds)}


def _record(frozen: optuna.trial.FrozenTrial, base: Mapping[str, Any]) -> TrialRecord:
    params = complete_params({**base, **frozen.params})
    return TrialRecord(frozen.number, frozen.state.name, frozen.value, params,
                       list(frozen.user_attrs.get("folds", [])))


@dataclass(frozen=True)
class TuningResult:
    study_name: str
    n_folds: int
    min_recall: float
    baseline: ParamsEvaluation
    best: ParamsEvaluation  # best trial, re-expressed with its folds
    best_trial_number: int
    trials: list[TrialRecord]
    elapsed_sec: float = field(compare=False, default=0.0)

    @property
    def best_params(self) -> dict[str, Any]:
        return dict(self.best.params)

    @property
    def improvement(self) -> float:
        return self.best.score - self.baseline.score

    @property
    def n_complete(self) -> int:
        return sum(1 for t in self.trials if t.state == "COMPLETE")

    @property
    def n_pruned(self) -> int:
        return sum(1 for t in self.trials if t.state == "PRUNED")

    def to_dict(self) -> dict[str, Any]:
        return {
            "study_name": self.study_name, "n_folds": self.n_folds, "min_recall": self.min_recall,
            "n_trials": len(self.trials), "n_complete": self.n_complete, "n_pruned": self.n_pruned,
            "baseline": self.baseline.to_dict(), "best": self.best.to_dict(), "best_params": self.best_params,
            "best_trial_number": self.best_trial_number, "improvement": self.improvement,
            "trials": [t.to_dict() for t in self.trials], "elapsed_sec": self.elapsed_sec,
        }


def tune_params(
    dataset: pd.DataFrame,
    *,
    study_name: str,
    storage: str | None = None,
    n_trials: int = 50,
    n_folds: int = 5,
    min_recall: float = TUNING_MIN_RECALL,
    baseline_params: Mapping[str, Any] | None = None,
    lookahead: int = LOOKAHEAD,
    num_threads: int = 1,
    seed: int = SEED,
    progress: Callable[[TrialRecord], None] | None = None,
    resume: bool = False,
    n_workers: int = 1,
) -> TuningResult:
    """Run `n_trials` trials in the study `study_name` at `storage` (an Optuna storage URL, e.g.
    "sqlite:///optuna.db"; None: in memory) and measure the baseline. The URL is not kept in the result (it may
    carry credentials).

    `baseline_params`: the currently active params (defaults if None). `resume=True` continues an existing study
    of that name; otherwise an existing name is an error (optuna.exceptions.DuplicatedStudyError).
    `n_workers > 1` spreads the trials over that many processes sharing the study; it needs a database server
    storage (e.g. PostgreSQL): the trials and the best result are then read back from the storage.
    """
    if n_trials < 1:
        raise ConfigError(f"n_trials={n_trials} must be >= 1")
    if n_workers < 1 or (n_workers > 1 and (storage is None or storage.startswith("sqlite"))):
        raise ConfigError(f"n_workers={n_workers} needs n_workers >= 1, and a database server storage when > 1")
    started = time.perf_counter()
    base = complete_params({**(baseline_params or DEFAULT_PARAMS), "num_threads": num_threads})
    baseline = evaluate_params(dataset, base, n_folds, min_recall=min_recall, lookahead=lookahead)
    study = optuna.create_study(
        study_name=study_name,
        storage=storage,
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=make_pruner(n_folds),
        load_if_exists=resume,
    )
    fixed = {"num_threads": num_threads}
    objective = Objective(dataset, n_folds, min_recall, lookahead, fixed)
    callbacks = [lambda _study, frozen: progress(_record(frozen, fixed))] if progress is not None else []
    if n_workers > 1:  # several processes share the study through its storage (shared_study.py)
        from trader_runtime.ml.shared_study import optimize_shared

        optimize_shared(study, objective, storage, n_trials, n_workers, seed, callbacks)
    else:
        study.optimize(objective, n_trials=n_trials, callbacks=callbacks, catch=())
    trials = [_record(t, fixed) for t in study.get_trials(deepcopy=False)]
    best_frozen = study.best_trial
    best_folds = [FoldScore(**d) for d in best_frozen.user_attrs["folds"]]
    score, auc, precision, recall = score_folds(best_folds)
    best = ParamsEvaluation(score, auc, precision, recall, _record(best_frozen, fixed).params, best_folds)
    return TuningResult(study_name, n_folds, min_recall, baseline, best, best_frozen.number, trials,
                        time.perf_counter() - started)


@dataclass(frozen=True)
class ParamsDecision:
    """Whether tuned params should become active, why, and the numbers the decision rests on (W-12)."""

    adopt: bool
    reason: str
    evidence: dict[str, Any]


def decide_active_params(
    baseline: ParamsEvaluation,
    best: ParamsEvaluation,
    min_improvement: float = 0.01,
    max_fold_std: float = 0.05,
) -> ParamsDecision:
    """Adopt only if the objective improves by >= `min_improvement` and the fold signal-AUC std of the tuned
    params is <= `max_fold_std`. The improvement is measured on the folds used for selection, so it is optimistic;
    the promotion gate (promotion.py) judges the resulting model on backtests before it can serve."""
    improvement = best.score - baseline.score
    evidence = {
        "baseline_score": baseline.score, "best_score": best.score, "improvement": improvement,
        "min_improvement": min_improvement, "baseline_auc": baseline.auc, "best_auc": best.auc,
        "best_fold_auc_std": best.fold_auc_std, "max_fold_std": max_fold_std,
        "baseline_precision": baseline.precision, "best_precision": best.precision,
    }
    eps = 1e-12
    if improvement + eps < min_improvement:
        return ParamsDecision(False, f"improvement {improvement:.6f} < required {min_improvement}", evidence)
    if best.fold_auc_std > max_fold_std + eps:
        return ParamsDecision(False, f"fold AUC std {best.fold_auc_std:.4f} > allowed {max_fold_std}", evidence)
    return ParamsDecision(True, f"improvement {improvement:.6f} >= {min_improvement} with fold AUC std "
                                f"{best.fold_auc_std:.4f} <= {max_fold_std}", evidence)
