"""Every 15 minutes (one minute after each period closes): collect the L/S ratios of every symbol and BTC/ETH."""

import dagster as dg

from cointrader_pipelines.automation import SCHEDULE_STATUS, per_symbol
from cointrader_pipelines.defs.ls_ratio.assets import correlation_ls_ratio, ls_ratio
from cointrader_pipelines.partitions import symbol_partitions

ls_ratio_job = dg.define_asset_job(
    "ls_ratio_job", selection=[ls_ratio, correlation_ls_ratio], partitions_def=symbol_partitions,
    description="Collect long/short account ratios (deduplicated, insert-if-absent).",
)


@dg.schedule(job=ls_ratio_job, cron_schedule="1,16,31,46 * * * *", execution_timezone="UTC",
             default_status=SCHEDULE_STATUS, description=(
                 "Every 15 minutes (one minute after each period closes): collect the top-trader and global "
                 "long/short account ratios of every symbol; Binance keeps only about 30 days of them."))
def ls_ratio_schedule(context: dg.ScheduleEvaluationContext):
    return per_symbol("ls", context.scheduled_execution_time.strftime("%Y%m%dT%H%M"))
