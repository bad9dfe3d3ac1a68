"""The MLflow run of one asset materialisation: every asset that logs to MLflow opens it here.

One place decides what such a run carries — its lineage (Dagster run, asset, partition, code version, input data
version, link back to the Dagster run) and its kind tag — so the assets only say which experiment and what to log.
Dagster objects are used by attribute only; this package does not import Dagster.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from cointrader_pipelines.tracking.lineage import Lineage
from cointrader_pipelines.tracking.records import KIND_TAG
from cointrader_pipelines.tracking.runs import MlflowTracker, RunRef

if TYPE_CHECKING:
    from cointrader_pipelines.resources.mlflow_tracker import MlflowResource


def asset_lineage(context: Any, mlflow: MlflowResource, data_version: str) -> Lineage:
    """Lineage of the asset `context` is materialising; `data_version` is the Dagster data version of its input."""
    key = context.asset_key
    return Lineage(
        dagster_run_id=context.run_id,
        asset_key=key.to_user_string(),
        partition_key=context.partition_key if context.has_partition_key else None,
        code_version=context.assets_def.code_versions_by_key.get(key) or "unversioned",
        data_version=data_version,
        dagster_run_url=mlflow.dagster_run_url(context.run_id),
    )


@contextmanager
def asset_run(
    context: Any,
    mlflow: MlflowResource,
    experiment: str,
    data_version: str,
    run_name: str | None = None,
    kind: str | None = None,
    tracker: MlflowTracker | None = None,
) -> Iterator[RunRef]:
    """A new MLflow run for the asset being materialised, tagged with its lineage and `kind` (default: the run
    name, itself defaulting to the asset's name); ended FAILED if the block raises."""
    name = run_name or context.asset_key.to_user_string()
    with (tracker or mlflow.tracker()).start_run(
        experiment, name, asset_lineage(context, mlflow, data_version), tags={KIND_TAG: kind or name}
    ) as run:
        yield run


def log_asset_input(
    mlflow: MlflowResource,
    frame: Any,
    asset: str,
    partition: str,
    digest: str,
    context: str = "training",
    targets: str | None = None,
) -> None:
    """Record the upstream asset's frame as the active run's input dataset, with its Dagster data version as the
    digest and a link to its page in the Dagster UI."""
    url = f"{mlflow.dagster_ui_url.rstrip('/')}/assets/{asset}?partition={partition}"
    mlflow.tracker().log_dataset(frame, f"{asset}/{partition}", digest, url, context, targets=targets)
