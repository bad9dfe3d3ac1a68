"""The candle checks run inside the step that stores the candles and still gate the graph: a broken OHLC candle in
the warehouse fails `klines` after it is stored, with the check result recorded, and nothing downstream runs;
gaps only warn."""

from __future__ import annotations

import duckdb
import dagster as dg

from cointrader_pipelines.defs.market_data.assets import klines, open_interest
from tests.cointrader_pipelines.conftest import tmp_resources, tmp_settings


def _evaluations(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {e.event_specific_data.check_name: e.event_specific_data.passed
            for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}


def test_a_broken_candle_fails_klines_and_blocks_what_depends_on_it(tmp_path):
    settings = tmp_settings(tmp_path, synthetic_days=30)
    resources = tmp_resources(settings, tmp_path)
    instance = dg.DagsterInstance.ephemeral()
    first = dg.materialize([klines, open_interest], resources=resources, instance=instance, partition_key="XRPUSDT")
    assert first.success
    assert _evaluations(first) == {"klines_no_gaps": True, "klines_utc_closed": True, "klines_ohlc_sane": True}

    with duckdb.connect(str(settings.warehouse_path)) as con:  # an old candle (not refetched) with high < low
        con.execute("UPDATE candles_15m SET high = low * 0.5 WHERE symbol = 'XRPUSDT' AND timestamp = "
                    "(SELECT min(timestamp) + INTERVAL 1 DAY FROM candles_15m WHERE symbol = 'XRPUSDT')")
        con.execute("DELETE FROM candles_15m WHERE symbol = 'XRPUSDT' AND timestamp = "
                    "(SELECT min(timestamp) + INTERVAL 2 DAY FROM candles_15m WHERE symbol = 'XRPUSDT')")
    second = dg.materialize([klines, open_interest], resources=resources, instance=instance, partition_key="XRPUSDT",
                            raise_on_error=False)
    assert not second.success
    assert _evaluations(second) == {"klines_no_gaps": False, "klines_utc_closed": True, "klines_ohlc_sane": False}
    steps = {e.step_key: e.event_type_value for e in second.all_events if e.is_step_event and e.event_type_value in (
        "STEP_SUCCESS", "STEP_FAILURE")}
    assert steps == {"klines": "STEP_FAILURE"}  # open_interest never started
    failure = next(e for e in second.all_events if e.event_type_value == "STEP_FAILURE")
    assert "klines_ohlc_sane" in failure.event_specific_data.error.message
    materialized = {e.asset_key.to_user_string() for e in second.all_events if e.event_type_value == "ASSET_MATERIALIZATION"}
    assert materialized == {"klines"}  # the candles were stored before the check ran on them
