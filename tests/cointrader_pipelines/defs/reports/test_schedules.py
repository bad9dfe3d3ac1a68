from __future__ import annotations

import datetime as dt

import dagster as dg

from cointrader_pipelines.defs.reports.schedules import weekly_report_job, weekly_report_schedule


def test_schedule_runs_sunday_0300_report_timezone_for_the_week_that_ended():
    assert weekly_report_schedule.cron_schedule == "0 3 * * 0"
    assert weekly_report_schedule.execution_timezone == "Asia/Seoul"
    assert weekly_report_schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    tick = dt.datetime(2025, 12, 28, 3, 0, tzinfo=dt.timezone(dt.timedelta(hours=9)))
    request = weekly_report_schedule(dg.build_schedule_context(scheduled_execution_time=tick))
    assert request.run_key == "weekly-report-2025-12-28"
    assert request.run_config == {"ops": {"weekly_report": {"config": {"report_date": "2025-12-28"}}}}
    assert weekly_report_job.name == "weekly_report_job"


def test_weekly_job_and_report_job_both_end_with_the_report():
    from cointrader_pipelines.definitions import defs

    d = defs()
    for job in ("weekly_job", "weekly_report_job"):
        keys = d.resolve_job_def(job).asset_layer.selected_asset_keys
        assert dg.AssetKey("weekly_report") in keys
