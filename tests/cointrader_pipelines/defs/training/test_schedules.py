"""The weekly job fires Sundays 03:00 Asia/Seoul and selects every group of the lineage plus `reports`."""

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg

from cointrader_pipelines.automation import WEEKLY_GROUPS
from cointrader_pipelines.definitions import defs
from cointrader_pipelines.defs.training.schedules import weekly_schedule


def test_weekly_schedule_requests_and_time():
    tick = dt.datetime(2026, 3, 22, 3, 0, tzinfo=ZoneInfo("Asia/Seoul"))
    requests = list(weekly_schedule(dg.build_schedule_context(scheduled_execution_time=tick)))
    assert [(r.partition_key, r.run_key) for r in requests] == [("XRPUSDT", "weekly-XRPUSDT-20260322")]
    assert weekly_schedule.execution_timezone == "Asia/Seoul" and weekly_schedule.cron_schedule == "0 3 * * 0"


def test_weekly_job_covers_refresh_retrain_evaluate_and_report():
    graph = defs().resolve_asset_graph()
    job = defs().resolve_job_def("weekly_job")
    selected = {k.to_user_string() for k in job.asset_layer.selected_asset_keys}
    for name in ("klines", "combined_15m", "ml_dataset", "tuned_params", "filter_model", "onnx_model",
                 "ml_comparison", "registered_model"):
        assert name in selected
    groups = {graph.get(k).group_name for k in job.asset_layer.selected_asset_keys}
    assert groups <= set(WEEKLY_GROUPS)
