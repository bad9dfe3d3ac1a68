"""`ml_dataset`: labelled signal samples + HOLD negatives with candle timestamps (spec 10 §6, W-05/W-06/W-20/W-22)."""

from typing import Iterator

import dagster as dg
import pandas as pd

from trader_runtime.config import StrategyParams
from trader_runtime.strategy.dataset import DatasetParams, build_dataset
from trader_runtime.strategy.features import FEATURE_SCHEMA_VERSION
from trader_runtime.strategy.labels import LOOKAHEAD
from trader_runtime.strategy.pipeline import prepare_market

from cointrader_pipelines.defs.code_versions import strategy_code_version
from cointrader_pipelines.defs.dataset.checks import DATASET_CHECKS, dataset_results
from cointrader_pipelines.outputs import MLDataset
from cointrader_pipelines.partitions import symbol_partitions
from cointrader_pipelines.priorities import LONGEST_CHAIN
from cointrader_pipelines.resources.strategy import StrategyResource
from cointrader_pipelines.tracking.lineage import frame_digest


class DatasetConfig(dg.Config):
    """Mirrors `DatasetParams`; the label's SL/TP multiples are the symbol's resolved strategy params."""

    negative_ratio: int = 3
    time_weight_decay: float = 2.0
    warmup: int = 337
    lookahead: int = LOOKAHEAD

    def to_params(self, strategy: StrategyParams) -> DatasetParams:
        return DatasetParams.for_symbol(strategy, negative_ratio=self.negative_ratio, warmup=self.warmup,
                                        time_weight_decay=self.time_weight_decay, lookahead=self.lookahead)


@dg.asset(partitions_def=symbol_partitions, group_name="dataset", code_version=strategy_code_version(__file__),
          kinds={"pandas"}, check_specs=DATASET_CHECKS, op_tags=LONGEST_CHAIN)  # fmt: skip
def ml_dataset(context: dg.AssetExecutionContext, config: DatasetConfig, combined_15m: pd.DataFrame,
               strategy: StrategyResource) -> Iterator[dg.Output[MLDataset] | dg.AssetCheckResult]:  # fmt: skip
    """The data version is the dataset's digest; MLflow runs log it as their input with the same digest. The schema
    and fold-leak checks are evaluated here, on the dataset just built."""
    params = config.to_params(strategy.for_symbol(context.partition_key))
    dataset = build_dataset(prepare_market(combined_15m, context.partition_key), params)
    signal = dataset["source"] == "signal"
    digest = frame_digest(dataset)
    built = MLDataset(dataset, params, digest)
    yield dg.Output(
        built,
        data_version=dg.DataVersion(digest),
        metadata={
            "rows": len(dataset), "signal_rows": int(signal.sum()), "signal_positives": int(dataset.loc[signal, "label"].sum()),
            "start": str(dataset["timestamp"].min()), "end": str(dataset["timestamp"].max()),
            "label_sl_mult": params.label_sl_mult, "label_tp_mult": params.label_tp_mult,
            "oi_feature_coverage": float(dataset["oi_change"].notna().mean()) if "oi_change" in dataset else 0.0,
            "feature_schema_version": FEATURE_SCHEMA_VERSION,
        },
    )
    yield from dataset_results(built)
