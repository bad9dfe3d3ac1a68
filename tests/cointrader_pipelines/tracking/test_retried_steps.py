"""A step run again after its worker died leaves one MLflow run and one model version, not two."""

from __future__ import annotations

import mlflow
from mlflow.entities import ViewType

from cointrader_pipelines.tracking.lineage import Lineage
from cointrader_pipelines.tracking.runs import PIPELINE_KIND

NAME = "cointrader-filter-XRPUSDT"


def _active(tracker, lineage: Lineage) -> list:
    """The step runs of one Dagster run (the parent run grouping them is left out)."""
    exp = tracker.client.get_experiment_by_name(NAME)
    runs = tracker.client.search_runs([exp.experiment_id], f"tags.`dagster.run_id` = '{lineage.dagster_run_id}'")
    return [r for r in runs if r.data.tags.get("cointrader.kind") != PIPELINE_KIND]


def test_a_retried_step_supersedes_the_run_its_killed_attempt_left(tracker, lineage):
    tracker._activate()
    exp_id = tracker.experiment_id(NAME)
    # the killed attempt: a run opened and never ended (its process died), as the worker left it
    dangling = mlflow.MlflowClient(tracker.tracking_uri).create_run(
        exp_id, tags={**lineage.tags(), "mlflow.runName": "filter_model"}).info.run_id
    with tracker.start_run(NAME, "filter_model", lineage) as retry:
        mlflow.log_metric("auc", 0.6)
    runs = _active(tracker, lineage)
    assert [r.info.run_id for r in runs] == [retry.run_id]
    old = tracker.client.get_run(dangling)
    assert old.info.lifecycle_stage == "deleted" and old.info.status == "KILLED"
    assert old.data.tags["cointrader.superseded"] == "true"
    # another asset of the same Dagster run, or another run of the same asset, is left alone
    other = Lineage("run-9999", "filter_model", "XRPUSDT", "1", "d" * 32, "u")
    with tracker.start_run(NAME, "filter_model", other):
        pass
    with tracker.start_run(NAME, "walk_forward_validation", lineage):
        pass
    assert len(_active(tracker, lineage)) == 2
    exp = tracker.client.get_experiment_by_name(NAME)
    every = tracker.client.search_runs([exp.experiment_id], run_view_type=ViewType.ALL)
    assert len([r for r in every if r.data.tags.get("cointrader.kind") != PIPELINE_KIND]) == 4


def test_registering_the_same_training_run_twice_keeps_one_version(registry, tracker, lineage, onnx_bytes, bundle):
    with tracker.start_run(NAME, "filter_model", lineage) as run:
        pass
    first = registry.register_onnx(run.run_id, NAME, onnx_bytes, bundle, lineage.tags())
    again = registry.register_onnx(run.run_id, NAME, onnx_bytes, bundle, {**lineage.tags(), "retry": "yes"})
    assert first.version == again.version == "1"
    assert len(tracker.client.search_model_versions(f"name = '{NAME}'")) == 1
    assert tracker.client.get_model_version(NAME, "1").tags["retry"] == "yes"
