"""Dataset checks: schema order, no training label reaching into a validation fold, and no look-ahead."""

import dagster as dg
import pandas as pd

from trader_runtime.config import TRAIN_SIGNAL_PARAMS
from trader_runtime.ml.splits import walk_forward_folds
from trader_runtime.strategy.features import FEATURE_COLUMNS, FEATURE_COLUMNS_18

from cointrader_pipelines.defs.dataset.assets import ml_dataset
from cointrader_pipelines.lookahead import lookahead_report
from cointrader_pipelines.outputs import MLDataset
from cointrader_pipelines.partitions import symbol_partitions

N_FOLDS = 5


@dg.asset_check(asset=ml_dataset, partitions_def=symbol_partitions, blocking=True)
def feature_columns_in_schema_order(ml_dataset: MLDataset) -> dg.AssetCheckResult:
    """The feature columns appear exactly in the model-schema order (30, or 22 without BTC/ETH)."""
    present = [c for c in ml_dataset.frame.columns if c in FEATURE_COLUMNS]
    ok = tuple(present) in (FEATURE_COLUMNS, FEATURE_COLUMNS_18)
    return dg.AssetCheckResult(passed=ok, metadata={"n_features": len(present), "columns": present})


@dg.asset_check(asset=ml_dataset, partitions_def=symbol_partitions, blocking=True)
def no_label_leak_across_folds(ml_dataset: MLDataset) -> dg.AssetCheckResult:
    """In every walk-forward fold, each training sample's label window [t+1, t+lookahead] ends before the fold's
    first validation candle (purge counted in candles, W-05)."""
    lookahead = ml_dataset.params.lookahead
    rows = ml_dataset.frame["row"].to_numpy()
    folds = walk_forward_folds(ml_dataset.frame, N_FOLDS, lookahead)
    leaks = {f.fold: int((rows[f.train_index] + lookahead >= f.val_start_row).sum()) for f in folds}
    return dg.AssetCheckResult(
        passed=sum(leaks.values()) == 0,
        metadata={"folds": len(folds), "lookahead_candles": lookahead,
                  "leaking_samples_per_fold": dg.MetadataValue.json({str(k): v for k, v in leaks.items()}),
                  "min_gap_candles": int(min(f.val_start_row - rows[f.train_index].max() for f in folds))},
    )


@dg.asset_check(asset=ml_dataset, partitions_def=symbol_partitions, additional_ins={"combined_15m": dg.AssetIn()})
def no_lookahead(context: dg.AssetCheckExecutionContext, combined_15m: pd.DataFrame) -> dg.AssetCheckResult:
    """Signals and features recomputed on history truncated at sample candles equal the full-history values."""
    report = lookahead_report(combined_15m, context.partition_key, TRAIN_SIGNAL_PARAMS)
    return dg.AssetCheckResult(
        passed=report.passed,
        metadata={"cuts": [t.isoformat() for t in report.cuts], "max_abs_diff": report.max_abs_diff,
                  "signal_mismatches": [t.isoformat() for t in report.signal_mismatches],
                  "feature_mismatches": dg.MetadataValue.json(report.feature_mismatches)},
    )
