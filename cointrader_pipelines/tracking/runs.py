"""MLflow runs: one run per training-side materialisation, with its input dataset, params, metrics and artifacts.

This package is the platform's only MLflow writer (STYLE 2.2); the core returns *Result objects and never imports
mlflow. Every run carries the lineage tags of `lineage.Lineage` (Dagster run id/URL, asset key, partition, code and
data version, git commit), and its input dataset is logged with `mlflow.data` using the Dagster data version as
its digest. Values pass through `clean_text` so a registered secret can never reach the store (D17).
"""

from __future__ import annotations

import json
import math
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from trader_runtime.backtest.serialization import to_jsonable
from trader_runtime.logs import redact

from cointrader_pipelines.tracking.lineage import Lineage
from cointrader_pipelines.tracking.local_store import prepare_local_store

MAX_PARAM_LENGTH = 6000


def clean_text(value: Any) -> str:
    return redact(str(value))


def flat_metrics(values: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """Finite numeric entries (bools as 0/1), nested keys joined with '.', everything else dropped."""
    out: dict[str, float] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flat_metrics(value, f"{name}."))
        elif isinstance(value, (bool, int, float)) and math.isfinite(float(value)):
            out[name] = float(value)
    return out


@dataclass(frozen=True)
class RunRef:
    """An MLflow run and where to see it."""

    run_id: str
    experiment_id: str
    url: str


#: the MLflow UI's experiment type: model development opens on runs (unknown types open on GenAI traces)
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
EXPERIMENT_KIND = "custom_model_development"
PIPELINE_RUN_TAG = "cointrader.pipeline_run"
PIPELINE_KIND = "pipeline_run"


class MlflowTracker:
    """Tracking/registry URIs and the artifact root; all writes go through here or `registry.py`."""

    def __init__(self, tracking_uri: str, artifact_root: str, ui_url: str) -> None:
        self.tracking_uri = tracking_uri
        self.artifact_root = artifact_root
        self.ui_url = ui_url.rstrip("/")
        prepare_local_store(tracking_uri)

    @property
    def client(self) -> MlflowClient:
        return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)

    def _activate(self) -> None:
        mlflow.set_tracking_uri(self.tracking_uri)
        mlflow.set_registry_uri(self.tracking_uri)

    def experiment_id(self, name: str) -> str:
        """Get or create the experiment; artifacts go under `<artifact_root>/<name>`.

        Every experiment is typed as model development, so the MLflow UI opens it on its runs rather than on the
        GenAI traces overview it shows for experiments of unknown type."""
        client = self.client
        found = client.get_experiment_by_name(name)
        if found is not None:
            if found.tags.get(EXPERIMENT_KIND_TAG) != EXPERIMENT_KIND:
                client.set_experiment_tag(found.experiment_id, EXPERIMENT_KIND_TAG, EXPERIMENT_KIND)
            return found.experiment_id
        # with a tracking server, artifacts go through its proxy (mlflow-artifacts:/ under its destination)
        location = None if self.is_server else (Path(self.artifact_root).resolve() / name).as_uri()
        try:
            return client.create_experiment(name, artifact_location=location,
                                            tags={EXPERIMENT_KIND_TAG: EXPERIMENT_KIND})
        except MlflowException:  # created meanwhile by a step of another run (parallel workers)
            found = client.get_experiment_by_name(name)
            if found is None:
                raise
            return found.experiment_id

    def pipeline_parent(self, exp_id: str, lineage: Lineage) -> str | None:
        """The parent run that groups one Dagster run's runs of this experiment (created on first use)."""
        if not lineage.dagster_run_id:
            return None
        client = self.client
        key = f"{lineage.dagster_run_id}/{lineage.partition_key or ''}"
        found = client.search_runs([exp_id], filter_string=f"tags.`{PIPELINE_RUN_TAG}` = '{key}' and "
                                                           f"tags.`cointrader.kind` = '{PIPELINE_KIND}'", max_results=1)
        if found:
            return found[0].info.run_id
        name = f"pipeline run {lineage.dagster_run_id[:8]}" + (f" {lineage.partition_key}" if lineage.partition_key else "")
        tags = {**{k: clean_text(v) for k, v in lineage.tags().items()}, PIPELINE_RUN_TAG: key,
                "cointrader.kind": PIPELINE_KIND, "mlflow.runName": name,
                "mlflow.note.content": "One Dagster run of the pipeline; its training and evaluation runs are nested "
                                       "below. Open the Dagster run from the dagster.run_url tag."}  # fmt: skip
        run = client.create_run(exp_id, run_name=name, tags=tags)
        client.set_terminated(run.info.run_id, "FINISHED")
        # two steps of one run on two workers may both have created it: all keep the oldest, extras are deleted
        both = client.search_runs([exp_id], filter_string=f"tags.`{PIPELINE_RUN_TAG}` = '{key}' and "
                                                          f"tags.`cointrader.kind` = '{PIPELINE_KIND}'")
        keep = min(both, key=lambda r: (r.info.start_time, r.info.run_id)).info.run_id if both else run.info.run_id
        if keep != run.info.run_id:
            client.delete_run(run.info.run_id)
        return keep

    @property
    def is_server(self) -> bool:
        """Talking to an MLflow tracking server over HTTP (the distributed profile) rather than a local store."""
        return self.tracking_uri.startswith(("http://", "https://"))

    def run_url(self, experiment_id: str, run_id: str) -> str:
        return f"{self.ui_url}/#/experiments/{experiment_id}/runs/{run_id}"

    @contextmanager
    def start_run(
        self, experiment: str, run_name: str, lineage: Lineage, tags: Mapping[str, str] | None = None
    ) -> Iterator[RunRef]:
        """A new run tagged with its lineage; ended FAILED if the block raises."""
        self._activate()
        exp_id = self.experiment_id(experiment)
        self.supersede_attempts(exp_id, run_name, lineage)
        all_tags = {**lineage.tags(), **(tags or {})}
        parent = self.pipeline_parent(exp_id, lineage)
        if parent is not None:
            all_tags["mlflow.parentRunId"] = parent  # shown nested under the pipeline run in the MLflow UI
        with mlflow.start_run(experiment_id=exp_id, run_name=run_name,
                              tags={k: clean_text(v) for k, v in all_tags.items()}) as run:
            yield RunRef(run.info.run_id, exp_id, self.run_url(exp_id, run.info.run_id))

    def supersede_attempts(self, experiment_id: str, run_name: str, lineage: Lineage) -> list[str]:
        """Delete the runs an earlier attempt of the same step left (same Dagster run, asset, partition and run
        name): a step retried after its worker died must leave one run, not a finished one next to a dangling
        RUNNING one. Deleted runs stay restorable in MLflow; they are tagged `cointrader.superseded`."""
        tags = lineage.tags()
        found = self.client.search_runs(
            [experiment_id],
            filter_string=(f"tags.`dagster.run_id` = '{tags['dagster.run_id']}' and "
                           f"tags.`dagster.asset_key` = '{tags['dagster.asset_key']}' and "
                           f"attributes.run_name = '{run_name}'"),
        )
        stale = [r for r in found if r.data.tags.get("dagster.partition", "") == tags["dagster.partition"]]
        for run in stale:
            self.client.set_tag(run.info.run_id, "cointrader.superseded", "true")
            if run.info.status == "RUNNING":
                self.client.set_terminated(run.info.run_id, status="KILLED")
            self.client.delete_run(run.info.run_id)
        return [r.info.run_id for r in stale]

    @contextmanager
    def resume_run(self, run_id: str) -> Iterator[RunRef]:
        """Re-open a finished run (e.g. to log the exported model next to the training that produced it)."""
        self._activate()
        with mlflow.start_run(run_id=run_id) as run:
            exp_id = run.info.experiment_id
            yield RunRef(run_id, exp_id, self.run_url(exp_id, run_id))

    # ------------------------------------------------------------------------------------------ inside a run

    @staticmethod
    def log_dataset(frame: pd.DataFrame, name: str, digest: str, source_url: str, context: str,
                    targets: str | None = None) -> None:
        """Record `frame` as an input of the active run; `digest` is the Dagster data version, `source_url` links
        back to the Dagster asset page."""
        logged = frame.reset_index() if isinstance(frame.index, pd.DatetimeIndex) else frame.copy()
        for col in logged.columns:
            if isinstance(logged[col].dtype, pd.DatetimeTZDtype):
                logged[col] = logged[col].dt.tz_convert("UTC").dt.tz_localize(None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # mlflow's hint about integer columns
            dataset = mlflow.data.from_pandas(logged, source=source_url, name=name, digest=digest, targets=targets)
            mlflow.log_input(dataset, context=context)

    @staticmethod
    def log_step_metrics(rows: list[Mapping[str, Any]], step_key: str, prefix: str = "") -> None:
        """One metric series per numeric field, `step` = the row's `step_key` (e.g. fold number)."""
        for row in rows:
            step = int(row[step_key])
            for key, value in flat_metrics({k: v for k, v in row.items() if k != step_key}, prefix).items():
                mlflow.log_metric(key, value, step=step)

    @staticmethod
    def log_params(params: Mapping[str, Any], prefix: str = "") -> None:
        mlflow.log_params({f"{prefix}{k}": clean_text(v)[:MAX_PARAM_LENGTH] for k, v in params.items()})

    @staticmethod
    def log_metrics(metrics: Mapping[str, Any], prefix: str = "") -> None:
        mlflow.log_metrics(flat_metrics(metrics, prefix))

    @staticmethod
    def log_json(payload: Any, artifact_file: str) -> None:
        text = clean_text(json.dumps(to_jsonable(payload), indent=2, sort_keys=True))
        mlflow.log_text(text, artifact_file)

    @staticmethod
    def log_frame(frame: pd.DataFrame, artifact_file: str) -> None:
        mlflow.log_text(clean_text(frame.to_csv(index=False)), artifact_file)

    @staticmethod
    def set_tags(tags: Mapping[str, Any]) -> None:
        mlflow.set_tags({k: clean_text(v) for k, v in tags.items()})


def latest_run_tag(tracker: MlflowTracker, experiment: str, kind: str, tag: str) -> str | None:
    """`tag` of the newest finished run of `kind` (tag `cointrader.kind`) in `experiment`, or None."""
    exp = tracker.client.get_experiment_by_name(experiment)
    if exp is None:
        return None
    runs = tracker.client.search_runs(
        [exp.experiment_id], filter_string=f"tags.`cointrader.kind` = '{kind}' and attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"], max_results=1,
    )
    return runs[0].data.tags.get(tag) if runs else None
