"""Dataset checks: schema order, no training label reaching into a validation fold, and no look-ahead.

The first two are cheap and blocking: `ml_dataset` evaluates them on the frame it just built (`check_specs`), so
tuning does not wait for a separate step. The look-ahead check recomputes signals and features on truncated
history (seconds) and blocks nothing, so it stays a check of its own that runs beside the training steps."""

import dagster as dg
import pandas as pd

from trader_runtime.config import TRAIN_SIGNAL_PARAMS
from trader_runtime.ml.splits import walk_forward_folds
from trader_runtime.strategy.features import FEATURE_COLUMNS, FEATURE_COLUMNS_18

from cointrader_pipelines.lookahead import lookahead_report
from cointrader_pipelines.outputs import MLDataset
from cointrader_pipelines.partitions import symbol_partitions

N_FOLDS = 5

DATASET_CHECKS = (
    dg.AssetCheckSpec("feature_columns_in_schema_order", asset="ml_dataset", blocking=True,
                      partitions_def=symbol_partitions,
                      description="The feature columns appear exactly in the model-schema order (30, or 22 without BTC/ETH)."),
    dg.AssetCheckSpec("no_label_leak_across_folds", asset="ml_dataset", blocking=True, partitions_def=symbol_partitions,
                      description=("In every walk-forward fold, each training sample's label window ends before the "
                                   "fold's first validation candle.")),
)


def feature_columns_in_schema_order(dataset: MLDataset) -> dg.AssetCheckResult:
    """The feature columns appear exactly in the model-schema order (30, or 22 without BTC/ETH)."""
    present = [c for c in dataset.frame.columns if c in FEATURE_COLUMNS]
    ok = tuple(present) in (FEATURE_COLUMNS, FEATURE_COLUMNS_18)
    return dg.AssetCheckResult(check_name="feature_columns_in_schema_order", passed=ok,
                               metadata={"n_features": len(present), "columns": present})


def no_label_leak_across_folds(dataset: MLDataset) -> dg.AssetCheckResult:
    """In every walk-forward fold, each training sample's label window [t+1, t+lookahead] ends before the fold's
    first validation candle (purge counted in candles, W-05)."""
    lookahead = dataset.params.lookahead
    rows = dataset.frame["row"].to_numpy()
    folds = walk_forward_folds(dataset.frame, N_FOLDS, lookahead)
    leaks = {f.fold: int((rows[f.train_index] + lookahead >= f.val_start_row).sum()) for f in folds}
    return dg.AssetCheckResult(
        check_name="no_label_leak_across_folds",
        passed=sum(leaks.values()) == 0,
        metadata={"folds": len(folds), "lookahead_candles": lookahead,
                  "leaking_samples_per_fold": dg.MetadataValue.json({str(k): v for k, v in leaks.items()}),
                  "min_gap_candles": int(min(f.val_start_row - rows[f.train_index].max() for f in folds))},
    )


def dataset_results(dataset: MLDataset) -> list[dg.AssetCheckResult]:
    return [feature_columns_in_schema_order(dataset), no_label_leak_across_folds(dataset)]


@dg.asset_check(asset="ml_dataset", partitions_def=symbol_partitions, additional_ins={"combined_15m": dg.AssetIn()})
def no_lookahead(context: dg.AssetCheckExecutionContext, combined_15m: pd.DataFrame) -> dg.AssetCheckResult:
    """Signals and features recomputed on history truncated at sample candles equal the full-history values."""
    report = lookahead_report(combined_15m, context.partition_key, TRAIN_SIGNAL_PARAMS)
    return dg.AssetCheckResult(
        passed=report.passed,
        metadata={"cuts": [t.isoformat() for t in report.cuts], "max_abs_diff": report.max_abs_diff,
                  "signal_mismatches": [t.isoformat() for t in report.signal_mismatches],
                  "feature_mismatches": dg.MetadataValue.json(report.feature_mismatches)},
    )
