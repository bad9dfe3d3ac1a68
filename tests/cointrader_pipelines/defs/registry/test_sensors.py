"""The retrain sensor reacts to weekly_report materialisations: one retrain per symbol when the report's checklist
recommends it, each report once."""

from __future__ import annotations

import dagster as dg

from cointrader_pipelines.definitions import defs
from cointrader_pipelines.defs.registry.sensors import retrain_recommended_sensor


def _report(instance: dg.DagsterInstance, date: str, recommend: bool, met: int) -> None:
    instance.report_runless_asset_event(dg.AssetMaterialization(
        "weekly_report", metadata={"report_date": date, "retrain_recommended": recommend,
                                   "retrain_conditions_met": met}))


def _evaluate(instance: dg.DagsterInstance, cursor: str | None = None):
    with dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs()) as ctx:
        result = retrain_recommended_sensor.evaluate_tick(ctx)
    return result, result.cursor


def test_no_report_starts_nothing():
    with dg.DagsterInstance.ephemeral() as instance:
        result, _ = _evaluate(instance)
    assert not result.run_requests


def test_one_condition_is_not_enough():
    with dg.DagsterInstance.ephemeral() as instance:
        _report(instance, "2026-03-22", recommend=False, met=1)
        result, _ = _evaluate(instance)
    assert not result.run_requests and "1 of 3" in result.skip_message


def test_recommendation_starts_retraining_once_per_report():
    with dg.DagsterInstance.ephemeral() as instance:
        _report(instance, "2026-03-15", recommend=False, met=0)
        _report(instance, "2026-03-22", recommend=True, met=2)
        result, cursor = _evaluate(instance)
        assert [(r.partition_key, r.run_key) for r in result.run_requests] == [("XRPUSDT", "retrain-XRPUSDT-2026-03-22")]
        again, _ = _evaluate(instance, cursor=cursor)
        assert not again.run_requests  # the same materialisation is not acted on twice
