"""Retrain when a weekly report's retraining checklist says so (at least 2 of 3 conditions).

Reacts to `weekly_report` materialisations, not to files: the report asset records `retrain_recommended`,
`retrain_conditions_met` and `report_date` in its metadata, and this sensor reads them from the event. Each
materialisation is seen once (the asset sensor's cursor is the event's storage id) and run keys repeat the report
date, so one report triggers at most one retrain per symbol.
"""

import dagster as dg

from cointrader_pipelines.automation import SENSOR_STATUS, per_symbol, retrain_job


def _value(metadata: dict, key: str):
    item = metadata.get(key)
    return getattr(item, "value", item)


@dg.asset_sensor(asset_key=dg.AssetKey("weekly_report"), job=retrain_job, default_status=SENSOR_STATUS, description=(
    "Starts a retraining run for every symbol when a new weekly report's retraining checklist recommends it "
    "(at least 2 of 3 conditions: enough live trades, backtest profit factor below 1, profit factor falling three "
    "weeks in a row); reacts to each weekly_report materialisation once."))
def retrain_recommended_sensor(context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry):
    materialization = asset_event.asset_materialization
    metadata = dict(materialization.metadata) if materialization is not None else {}
    report_date = str(_value(metadata, "report_date"))
    met = _value(metadata, "retrain_conditions_met")
    if not _value(metadata, "retrain_recommended"):
        return dg.SkipReason(f"report {report_date}: {met} of 3 retraining conditions met (need 2)")
    return per_symbol("retrain", report_date)
