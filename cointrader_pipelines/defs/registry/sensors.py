"""Retrain when the weekly retraining checklist says so (20 §7: at least 2 of 3 conditions).

Contract with the weekly report: `ReportsResource.latest_checklist()` returns the `ml_trigger` section of the
newest `report_{date}.json` (`recommend`, `met_count`, `conditions`, `report_date`) or None. Each report triggers
at most one retrain per symbol: the cursor holds the last report date acted upon, and run keys repeat it.
"""

import dagster as dg

from cointrader_pipelines.automation import SENSOR_STATUS, per_symbol, retrain_job
from cointrader_pipelines.resources.reports import ReportsResource


@dg.sensor(job=retrain_job, minimum_interval_seconds=3600, default_status=SENSOR_STATUS, description=(
    "Starts a retraining run for every symbol when the newest weekly report's retraining checklist recommends it "
    "(at least 2 of 3 conditions: enough live trades, backtest profit factor below 1, profit factor falling three "
    "weeks in a row); at most once per report."))
def retrain_recommended_sensor(context: dg.SensorEvaluationContext, reports: ReportsResource):
    checklist = reports.latest_checklist()
    if checklist is None:
        return dg.SkipReason(f"no weekly report with a retraining checklist in {reports.report_dir}")
    report_date = str(checklist.get("report_date"))
    met = checklist.get("met_count")
    if not checklist.get("recommend"):
        return dg.SkipReason(f"report {report_date}: {met} of 3 retraining conditions met (need 2)")
    if context.cursor == report_date:
        return dg.SkipReason(f"retraining for report {report_date} was already requested")
    context.update_cursor(report_date)
    return per_symbol("retrain", report_date)
