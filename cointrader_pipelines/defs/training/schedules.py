"""Sunday 03:00 Asia/Seoul (D14, configurable): refresh data, retrain, evaluate and report for every symbol."""

import dagster as dg

from cointrader_pipelines.automation import SCHEDULE_STATUS, per_symbol, weekly_job
from cointrader_pipelines.settings import get_settings


@dg.schedule(job=weekly_job, cron_schedule="0 3 * * 0", execution_timezone=get_settings().weekly_timezone,
             default_status=SCHEDULE_STATUS, description=(
                 "Weekly run, option 1 of 2 (the default): every Sunday 03:00 in the report timezone, refresh market "
                 "data, retrain and evaluate the filter model, register it, then write the weekly report, for every "
                 "configured symbol. Turn this one on, or weekly_report_schedule (report only), not both."))
def weekly_schedule(context: dg.ScheduleEvaluationContext):
    return per_symbol("weekly", context.scheduled_execution_time.strftime("%Y%m%d"))
