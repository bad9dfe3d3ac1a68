"""Report-only schedule: Sunday 03:00 in the report timezone (D14, default Asia/Seoul).

The weekly job (`defs/training/schedules.py`) already ends with `weekly_report`; this schedule is the alternative
for deployments that want the report without retraining, so it starts STOPPED — turn on one of the two. Each tick
reports exactly the week that just ended (its date is passed as `report_date`).
"""

import dagster as dg

from cointrader_pipelines.settings import get_settings

from cointrader_pipelines.defs.reports.assets import weekly_report

weekly_report_job = dg.define_asset_job(
    "weekly_report_job", selection=dg.AssetSelection.assets(weekly_report),
    description="The weekly strategy report alone (no data refresh, no retraining).",
)  # fmt: skip


@dg.schedule(job=weekly_report_job, cron_schedule="0 3 * * 0", execution_timezone=get_settings().weekly_timezone,
             default_status=dg.DefaultScheduleStatus.STOPPED, description=(
                 "Weekly run, option 2 of 2 (off by default): every Sunday 03:00 in the report timezone, only the "
                 "weekly report of the week that just ended — no data refresh, no retraining. Use it instead of "
                 "weekly_schedule when models are trained elsewhere."))  # fmt: skip
def weekly_report_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    date = context.scheduled_execution_time.date().isoformat()
    return dg.RunRequest(
        run_key=f"weekly-report-{date}",
        run_config={"ops": {"weekly_report": {"config": {"report_date": date}}}},
    )
