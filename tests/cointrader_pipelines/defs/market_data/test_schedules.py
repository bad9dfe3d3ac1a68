"""The daily refresh runs at 00:10 UTC, one run per symbol per day."""

import datetime as dt

import dagster as dg

from cointrader_pipelines.defs.market_data.schedules import market_data_schedule


def test_daily_refresh_requests():
    tick = dt.datetime(2026, 3, 22, 0, 10, tzinfo=dt.timezone.utc)
    requests = list(market_data_schedule(dg.build_schedule_context(scheduled_execution_time=tick)))
    assert [(r.partition_key, r.run_key) for r in requests] == [("XRPUSDT", "market-XRPUSDT-20260322")]
    assert (market_data_schedule.cron_schedule, market_data_schedule.execution_timezone) == ("10 0 * * *", "UTC")
