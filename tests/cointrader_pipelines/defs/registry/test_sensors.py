"""The retrain sensor starts one retrain per symbol when the newest weekly checklist recommends it, once."""

from __future__ import annotations

import json

import dagster as dg

from cointrader_pipelines.definitions import defs
from cointrader_pipelines.defs.registry.sensors import retrain_recommended_sensor
from cointrader_pipelines.resources.reports import ReportsResource


def _write_report(folder, date: str, recommend: bool, met: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    report = {"report_date": date, "schema_version": 1,
              "ml_trigger": {"conditions": {"cumulative_trades_enough": met >= 1, "pf_below_1": met >= 2,
                                            "pf_declining_3w": met >= 3},
                             "met_count": met, "recommend": recommend, "cumulative_trades": 10, "threshold": 150}}
    (folder / f"report_{date}.json").write_text(json.dumps(report))


def _evaluate(folder, cursor=None):
    with dg.build_sensor_context(cursor=cursor, definitions=defs(),
                                 resources={"reports": ReportsResource(report_dir=str(folder))}) as ctx:
        result = retrain_recommended_sensor.evaluate_tick(ctx)
    return result, ctx.cursor


def test_no_report_is_a_skip(tmp_path):
    result, _ = _evaluate(tmp_path / "weekly")
    assert not result.run_requests and "no weekly report" in result.skip_message


def test_one_condition_is_not_enough(tmp_path):
    _write_report(tmp_path, "2026-03-22", recommend=False, met=1)
    result, _ = _evaluate(tmp_path)
    assert not result.run_requests and "1 of 3" in result.skip_message


def test_recommendation_starts_retraining_once_per_report(tmp_path):
    _write_report(tmp_path, "2026-03-15", recommend=False, met=0)
    _write_report(tmp_path, "2026-03-22", recommend=True, met=2)
    result, cursor = _evaluate(tmp_path)
    assert [(r.partition_key, r.run_key) for r in result.run_requests] == [("XRPUSDT", "retrain-XRPUSDT-2026-03-22")]
    assert cursor == "2026-03-22"
    again, _ = _evaluate(tmp_path, cursor=cursor)
    assert not again.run_requests and "already requested" in again.skip_message
