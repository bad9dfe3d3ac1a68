"""The L/S schedule asks for one run per symbol every quarter hour, keyed by the tick."""

import datetime as dt

import dagster as dg

from cointrader_pipelines.defs.ls_ratio.schedules import ls_ratio_schedule


def test_one_run_per_symbol_per_tick():
    tick = dt.datetime(2026, 3, 22, 13, 16, tzinfo=dt.timezone.utc)
    requests = list(ls_ratio_schedule(dg.build_schedule_context(scheduled_execution_time=tick)))
    assert [(r.partition_key, r.run_key) for r in requests] == [("XRPUSDT", "ls-XRPUSDT-20260322T1316")]
    assert ls_ratio_schedule.cron_schedule == "1,16,31,46 * * * *"
