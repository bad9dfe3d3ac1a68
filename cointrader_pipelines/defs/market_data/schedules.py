"""Daily market-data refresh at 00:10 UTC: candles, BTC/ETH, open interest, funding and the combined table."""

import dagster as dg

from cointrader_pipelines.automation import DATA_GROUPS, SCHEDULE_STATUS, per_symbol
from cointrader_pipelines.partitions import symbol_partitions

market_data_job = dg.define_asset_job(
    "market_data_job", selection=dg.AssetSelection.groups(*DATA_GROUPS), partitions_def=symbol_partitions,
    description="Incremental refresh of every market-data asset (BTC/ETH stored once, upserted by every run).",
)


@dg.schedule(job=market_data_job, cron_schedule="10 0 * * *", execution_timezone="UTC", default_status=SCHEDULE_STATUS,
             description=("Daily at 00:10 UTC: fetch the closed candles, open interest and funding rates since the "
                          "last run for every symbol and rebuild the combined table."))
def market_data_schedule(context: dg.ScheduleEvaluationContext):
    return per_symbol("market", context.scheduled_execution_time.strftime("%Y%m%d"))
