"""Notify (Discord, no-op when unset) whenever a run of this code location fails."""

import dagster as dg

from cointrader_pipelines.automation import SENSOR_STATUS
from cointrader_pipelines.resources.notifier import NotifierResource
from cointrader_pipelines.settings import get_settings

MAX_ERROR_CHARS = 600


def failure_message(job_name: str, run_id: str, partition: str | None, error: str, ui_url: str) -> str:
    where = f" [{partition}]" if partition else ""
    return (f"CoinTrader pipeline failure: job `{job_name}`{where} run {run_id[:8]} failed\n"
            f"{error[:MAX_ERROR_CHARS]}\n{ui_url.rstrip('/')}/runs/{run_id}")


@dg.run_failure_sensor(default_status=SENSOR_STATUS, description=(
    "Sends a chat message (Discord webhook, when configured) for every failed pipeline run: job, symbol, the error "
    "and a link to the run in the Dagster UI."))
def run_failure_sensor(context: dg.RunFailureSensorContext, notifier: NotifierResource):
    run = context.dagster_run
    error = context.failure_event.message or "no error message"
    notifier.send(failure_message(run.job_name, run.run_id, run.tags.get("dagster/partition"), error,
                                  get_settings().dagster_ui_url))
