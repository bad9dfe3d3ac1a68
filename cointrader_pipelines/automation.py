"""What the schedules and sensors run: job selections shared by several triggers, and their default status.

The weekly job selects by asset group, so an asset joins it by living in one of `WEEKLY_GROUPS` (the weekly
report asset goes in group `reports`); such an asset must be unpartitioned or partitioned by symbol.
"""

import dagster as dg

from cointrader_pipelines.partitions import symbol_partitions
from cointrader_pipelines.settings import get_settings

DATA_GROUPS = ("market_data",)
TRAINING_GROUPS = ("dataset", "training", "export", "backtests", "registry")
WEEKLY_GROUPS = DATA_GROUPS + TRAINING_GROUPS + ("reports",)

SCHEDULE_STATUS = (
    dg.DefaultScheduleStatus.RUNNING if get_settings().automation_running else dg.DefaultScheduleStatus.STOPPED
)
SENSOR_STATUS = dg.DefaultSensorStatus.RUNNING if get_settings().automation_running else dg.DefaultSensorStatus.STOPPED

retrain_job = dg.define_asset_job(
    "retrain_job", selection=dg.AssetSelection.groups(*DATA_GROUPS, *TRAINING_GROUPS),
    partitions_def=symbol_partitions,
    description="Refresh market data, rebuild the dataset, tune, train, export, compare and register a challenger.",
)
weekly_job = dg.define_asset_job(
    "weekly_job", selection=dg.AssetSelection.groups(*WEEKLY_GROUPS), partitions_def=symbol_partitions,
    description="Sunday job: refresh data, retrain, evaluate and report (every asset in WEEKLY_GROUPS).",
)


MAIN_GROUPS = ("ls_ratio",) + WEEKLY_GROUPS
main_job = dg.define_asset_job(
    "main_job", selection=dg.AssetSelection.groups(*MAIN_GROUPS), partitions_def=symbol_partitions,
    description="The whole lineage for one symbol: data, dataset, training, ONNX, registry, report (`cointrader demo`).",
)


def per_symbol(prefix: str, key: str) -> list[dg.RunRequest]:
    """One run request per symbol partition, keyed so a re-evaluated tick starts nothing twice."""
    return [dg.RunRequest(run_key=f"{prefix}-{symbol}-{key}", partition_key=symbol)
            for symbol in symbol_partitions.get_partition_keys()]
