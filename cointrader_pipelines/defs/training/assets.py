"""Training: Optuna tuning with the Active Config rule as a recorded decision, walk-forward validation of the
chosen params, and the final filter model (spec 10 §7-§8). Every asset logs one MLflow run whose input dataset
is `ml_dataset` with digest = its Dagster data version."""

import json

import dagster as dg
import optuna as optuna_lib
import pandas as pd

from trader_runtime.ml.params import DEFAULT_PARAMS, complete_params
from trader_runtime.ml.training import WalkForwardResult, train_filter_model, walk_forward_validate
from trader_runtime.ml.tuning import decide_active_params, tune_params

from cointrader_pipelines.defs.code_versions import code_version
from cointrader_pipelines.context_lineage import records_table, rounded, run_links
from cointrader_pipelines.outputs import FilterModel, MLDataset, TunedParams
from cointrader_pipelines.partitions import symbol_partitions
from cointrader_pipelines.priorities import LONGEST_CHAIN
from cointrader_pipelines.resources.mlflow_tracker import MlflowResource
from cointrader_pipelines.resources.optuna_storage import OptunaResource
from cointrader_pipelines.settings import get_settings
from cointrader_pipelines.tracking import records
from cointrader_pipelines.tracking.asset_runs import asset_run, log_asset_input
from cointrader_pipelines.tracking.runs import latest_run_tag

GROUP = "training"
_KW = dict(partitions_def=symbol_partitions, group_name=GROUP, code_version=code_version(__file__), kinds={"lightgbm", "mlflow"})


class TuningConfig(dg.Config):
    n_trials: int = get_settings().tuning_trials
    n_folds: int = 5
    min_recall: float = 0.35
    min_improvement: float = 0.01
    max_fold_std: float = 0.05
    num_threads: int = get_settings().num_threads


class WalkForwardValidationConfig(dg.Config):
    n_folds: int = 5
    min_recall: float = 0.15
    train_fraction: float = 0.6


class FilterModelConfig(dg.Config):
    n_folds: int = 5
    min_recall: float = 0.15
    holdout_fraction: float = 0.2


def log_input(mlflow: MlflowResource, ml_dataset: MLDataset, symbol: str) -> None:
    log_asset_input(mlflow, ml_dataset.frame, "ml_dataset", symbol, ml_dataset.digest, "training", targets="label")


#: the per-fold table shown on walk_forward_validation's materialisation
FOLD_COLUMNS = {"fold": "int", "train_start_time": "string", "val_start_time": "string", "val_end_time": "string",
                "n_val_signal": "int", "n_pos": "int", "auc_signal": "float", "auc_all": "float",
                "threshold": "float", "precision": "float", "recall": "float"}


@dg.asset(**_KW, op_tags=LONGEST_CHAIN)
def tuned_params(context: dg.AssetExecutionContext, config: TuningConfig, ml_dataset: MLDataset,
                 mlflow: MlflowResource, optuna: OptunaResource) -> dg.Output[TunedParams]:
    """Tune against the currently active params; adopt the best only by the recorded rule (decide_active_params)."""
    symbol, digest, tracker = context.partition_key, ml_dataset.digest, mlflow.tracker()
    active = latest_run_tag(tracker, mlflow.experiment(symbol), "tuned_params", records.ACTIVE_PARAMS_TAG)
    baseline = json.loads(active) if active else {**DEFAULT_PARAMS, "num_threads": config.num_threads}
    study = f"{symbol}-{context.run_id[:8]}"
    optuna_lib.logging.set_verbosity(optuna_lib.logging.WARNING)  # spec 10 §8.1; trials are in MLflow
    if optuna.clear_study(study):
        context.log.warning(f"study {study} of an interrupted attempt of this step was deleted; tuning again")
    result = tune_params(ml_dataset.frame, study_name=study, storage=optuna.url(), n_trials=config.n_trials,
                         n_folds=config.n_folds, min_recall=config.min_recall, baseline_params=baseline,
                         num_threads=config.num_threads, n_workers=min(optuna.workers, config.n_trials))
    decision = decide_active_params(result.baseline, result.best, config.min_improvement, config.max_fold_std)
    chosen = complete_params(result.best_params if decision.adopt else result.baseline.params)
    with asset_run(context, mlflow, mlflow.experiment(symbol), digest, tracker=tracker) as run:
        log_input(mlflow, ml_dataset, symbol)
        records.log_tuning(result, decision, chosen)
    out = TunedParams(chosen, decision.adopt, decision.reason, "mlflow" if active else "defaults", study, run.run_id,
                      decision.evidence)
    return dg.Output(out, metadata=rounded({**run_links(run), "decision": "adopt" if decision.adopt else "keep",
                                    "reason": decision.reason, "best_score": result.best.score,
                                    "baseline_score": result.baseline.score, "params": dg.MetadataValue.json(chosen)}))


@dg.asset(**_KW)
def walk_forward_validation(context: dg.AssetExecutionContext, config: WalkForwardValidationConfig,
                            ml_dataset: MLDataset, tuned_params: TunedParams,
                            mlflow: MlflowResource) -> dg.Output[WalkForwardResult]:
    """Expanding walk-forward of the chosen params; purge/embargo in candles; AUC overall and on signal
    rows only (the rows the filter sees live; the gate uses this one)."""
    symbol, digest = context.partition_key, ml_dataset.digest
    result = walk_forward_validate(ml_dataset.frame, tuned_params.params, config.n_folds,
                                   lookahead=ml_dataset.params.lookahead,
                                   min_recall=config.min_recall, train_fraction=config.train_fraction)
    with asset_run(context, mlflow, mlflow.experiment(symbol), digest) as run:
        log_input(mlflow, ml_dataset, symbol)
        records.log_walk_forward(result)
    return dg.Output(result, metadata=rounded({**run_links(run), **result.metrics(), "folds_table": records_table(
        [f.to_dict() for f in result.folds], FOLD_COLUMNS)}))


@dg.asset(**_KW)
def filter_model(context: dg.AssetExecutionContext, config: FilterModelConfig, ml_dataset: MLDataset, tuned_params: TunedParams, mlflow: MlflowResource) -> dg.Output[FilterModel]:
    """Threshold from a dev walk-forward, metrics on a held-out tail, final refit on all rows (training.py)."""
    symbol, digest = context.partition_key, ml_dataset.digest
    trained = train_filter_model(ml_dataset.frame, tuned_params.params, dataset_params=ml_dataset.params,
                                 symbol=symbol, n_folds=config.n_folds, min_recall=config.min_recall,
                                 holdout_fraction=config.holdout_fraction, params_source=tuned_params.baseline_source,
                                 trained_at=pd.Timestamp.now(tz="UTC"))
    with asset_run(context, mlflow, mlflow.experiment(symbol), digest) as run:
        log_input(mlflow, ml_dataset, symbol)
        records.log_trained_model(trained)
    return dg.Output(FilterModel(trained, run.run_id, digest),
                     metadata=rounded({**run_links(run), "threshold": trained.threshold, **trained.metrics}))
