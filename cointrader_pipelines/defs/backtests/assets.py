"""Backtests on the combined table: the strategy sweep (ML off) and the ML on-vs-off walk-forward with the A/B/C
feature ablation (spec 10 §9.1/§9.3). Their numbers feed the promotion gate (10 §9.4)."""

import dagster as dg
import pandas as pd

from trader_runtime.backtest.sweep import run_sweep
from trader_runtime.config import BacktestConfig, StrategyParams, WalkForwardConfig
from trader_runtime.ml.ablation import run_ablation
from trader_runtime.ml.comparison import compare_ml
from trader_runtime.strategy.pipeline import prepare_market

from cointrader_pipelines.context_lineage import rounded, run_links
from cointrader_pipelines.defs.code_versions import strategy_code_version
from cointrader_pipelines.outputs import MLComparison, MLDataset, TunedParams
from cointrader_pipelines.partitions import symbol_partitions
from cointrader_pipelines.priorities import LONGEST_CHAIN
from cointrader_pipelines.resources.mlflow_tracker import MlflowResource
from cointrader_pipelines.resources.strategy import StrategyResource
from cointrader_pipelines.settings import get_settings
from cointrader_pipelines.tracking import records
from cointrader_pipelines.tracking.asset_runs import asset_run, log_asset_input

_KW = dict(partitions_def=symbol_partitions, group_name="backtests", code_version=strategy_code_version(__file__))


class BacktestWindowConfig(dg.Config):
    """Walk-forward geometry in calendar months (step = test length, D12)."""

    train_months: int = get_settings().wf_train_months
    test_months: int = get_settings().wf_test_months
    ablation_folds: int = 5

    def backtest(self, symbol: str, params: StrategyParams) -> tuple[BacktestConfig, WalkForwardConfig]:
        return (BacktestConfig(symbol=symbol, params=params),
                WalkForwardConfig(train_months=self.train_months, test_months=self.test_months))


@dg.asset(**_KW, kinds={"numba"})
def strategy_sweep(context: dg.AssetExecutionContext, config: BacktestWindowConfig,
                   combined_15m: pd.DataFrame, strategy: StrategyResource) -> dg.Output[dict]:
    """All 324 grid combinations, walk-forward, ML off; ranked by profit factor; combinations with
    fewer than the minimum number of trades rank last."""
    cfg, wf = config.backtest(context.partition_key, strategy.for_symbol(context.partition_key))
    result = run_sweep(prepare_market(combined_15m, context.partition_key), cfg, wf, workers=1, progress=False)
    best = result.rows[0]
    out = {"best_params": best["params"], "best_summary": best["summary"], "folds": result.folds,
           "best_profit_factor": float(best["summary"]["profit_factor"]), "top": result.top(10)}
    return dg.Output(out, metadata=rounded({"best_profit_factor": out["best_profit_factor"], "folds": result.folds,
                                            "best_params": dg.MetadataValue.json(best["params"])}))


@dg.asset(**_KW, kinds={"lightgbm", "mlflow"}, op_tags=LONGEST_CHAIN)
def ml_comparison(context: dg.AssetExecutionContext, config: BacktestWindowConfig, combined_15m: pd.DataFrame,
                  ml_dataset: MLDataset, tuned_params: TunedParams, mlflow: MlflowResource,
                  strategy: StrategyResource) -> dg.Output[MLComparison]:
    """Walk-forward backtest with per-fold ONNX filters vs without, and ablation A/B/C on signal-row AUC."""
    symbol = context.partition_key
    cfg, wf = config.backtest(symbol, strategy.for_symbol(symbol))
    comparison = compare_ml(prepare_market(combined_15m, symbol), cfg, wf, tuned_params.params, ml_dataset.params)
    ablation = run_ablation(ml_dataset.frame, tuned_params.params, config.ablation_folds,
                            lookahead=ml_dataset.params.lookahead)
    with asset_run(context, mlflow, mlflow.experiment(symbol), ml_dataset.digest) as run:
        log_asset_input(mlflow, ml_dataset.frame, "ml_dataset", symbol, ml_dataset.digest, "evaluation")
        records.log_comparison(comparison, ablation)
    return dg.Output(MLComparison(comparison, ablation, run.run_id),
                     metadata=rounded({**run_links(run), "verdict": comparison.verdict, "pf_ml_off": comparison.pf_off,
                                       "pf_ml_on": comparison.pf_on, "trades_ml_on": comparison.trades_on,
                                       "ablation_drop": ablation.drop, "ablation_verdict": ablation.verdict}))
