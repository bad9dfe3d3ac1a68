"""A failed run is reported to the webhook with job, partition, error and a link to the run."""

from __future__ import annotations

import dagster as dg

from cointrader_pipelines.defs.alerts.sensors import run_failure_sensor
from cointrader_pipelines.partitions import symbol_partitions
from cointrader_pipelines.resources.notifier import NotifierResource
from fixtures.webhook import webhook_server


@dg.asset(partitions_def=symbol_partitions)
def broken_asset() -> None:
    raise ValueError("exchange said no")


def test_run_failure_is_notified():
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([broken_asset], instance=instance, partition_key="XRPUSDT", raise_on_error=False)
    assert not result.success
    (record,) = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    failure = record.dagster_event
    run = instance.get_run_by_id(result.run_id)
    with webhook_server() as (url, received):
        context = dg.build_run_status_sensor_context(
            sensor_name="run_failure_sensor", dagster_event=failure, dagster_instance=instance, dagster_run=run,
            resources={"notifier": NotifierResource(webhook_url=url)},
        ).for_run_failure()
        run_failure_sensor(context)
    (message,) = received
    text = message["content"]
    assert "job `__ephemeral_asset_job__` [XRPUSDT]" in text and result.run_id in text
