"""MLflow runs: lineage tags, dataset input with the Dagster data version as digest, secrets redacted."""

from __future__ import annotations

import math

import mlflow
import pandas as pd

from cointrader_pipelines.tracking.lineage import frame_digest
from cointrader_pipelines.tracking.runs import MlflowTracker, flat_metrics, latest_run_tag
from trader_runtime.logs import register_secret


def test_run_carries_lineage_and_its_input_dataset(tracker, lineage):
    frame = pd.DataFrame({"timestamp": pd.date_range("2025-01-01", periods=4, freq="15min", tz="UTC"),
                          "rsi": [1.0, 2.0, 3.0, 4.0], "label": [0, 1, 0, 1]})
    digest = frame_digest(frame)
    with tracker.start_run("exp", "walk_forward_validation", lineage, tags={"cointrader.kind": "wf"}) as run:
        MlflowTracker.log_dataset(frame, "ml_dataset/XRPUSDT", digest, "http://127.0.0.1:3000/assets/ml_dataset",
                                  "training", targets="label")
        MlflowTracker.log_metrics({"auc": 0.6, "nested": {"x": 1}, "bad": float("nan"), "text": "no"})
    got = tracker.client.get_run(run.run_id)
    assert got.data.tags["dagster.run_id"] == "run-1234"
    assert got.data.tags["dagster.data_version"] == lineage.data_version
    assert got.data.metrics == {"auc": 0.6, "nested.x": 1.0}
    (inp,) = got.inputs.dataset_inputs
    assert inp.dataset.digest == digest and inp.dataset.name == "ml_dataset/XRPUSDT"
    assert run.url.endswith(f"/#/experiments/{run.experiment_id}/runs/{run.run_id}")


def test_a_failing_block_marks_the_run_failed(tracker, lineage):
    try:
        with tracker.start_run("exp", "boom", lineage) as run:
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert tracker.client.get_run(run.run_id).info.status == "FAILED"


def test_registered_secrets_never_reach_the_store(tracker, lineage):
    secret = "https://discord.example/api/webhooks/123/SECRET-TOKEN"
    register_secret(secret)
    with tracker.start_run("exp", "leak", lineage) as run:
        MlflowTracker.log_params({"webhook": secret})
        MlflowTracker.set_tags({"note": f"posted to {secret}"})
    data = tracker.client.get_run(run.run_id).data
    assert secret not in str(data.params) and secret not in str(data.tags)


def test_latest_run_tag_reads_the_newest_finished_run_of_a_kind(tracker, lineage):
    assert latest_run_tag(tracker, "exp", "tuned_params", "cointrader.active_params") is None
    for value in ("first", "second"):
        with tracker.start_run("exp", "tuned_params", lineage, tags={"cointrader.kind": "tuned_params",
                                                                    "cointrader.active_params": value}):
            pass
    assert latest_run_tag(tracker, "exp", "tuned_params", "cointrader.active_params") == "second"


def test_flat_metrics_drops_non_finite_and_text():
    assert flat_metrics({"a": 1, "b": True, "c": math.inf, "d": "x", "e": {"f": 2.5}}) == {"a": 1.0, "b": 1.0, "e.f": 2.5}


def test_tracker_leaves_no_global_run_open(tracker, lineage):
    with tracker.start_run("exp", "r", lineage):
        pass
    assert mlflow.active_run() is None


def test_experiments_open_on_runs_and_one_pipeline_run_nests_its_runs(tracker, lineage):
    """Typed as model development (the UI's runs view, not the GenAI traces overview); the runs of one Dagster
    run hang under one parent per experiment and partition; another Dagster run gets its own parent."""
    from dataclasses import replace

    from cointrader_pipelines.tracking.runs import EXPERIMENT_KIND, EXPERIMENT_KIND_TAG

    children = []
    for name in ("tuned_params", "walk_forward_validation"):
        with tracker.start_run("exp", name, lineage, tags={"cointrader.kind": name}) as run:
            children.append(run.run_id)
    with tracker.start_run("exp", "tuned_params", replace(lineage, dagster_run_id="run-5678"),
                           tags={"cointrader.kind": "tuned_params"}) as other:
        pass
    client = tracker.client
    exp = client.get_experiment_by_name("exp")
    assert exp.tags[EXPERIMENT_KIND_TAG] == EXPERIMENT_KIND
    parents = {client.get_run(r).data.tags["mlflow.parentRunId"] for r in children}
    assert len(parents) == 1
    parent = client.get_run(parents.pop())
    assert parent.data.tags["cointrader.kind"] == "pipeline_run" and parent.info.status == "FINISHED"
    assert parent.info.run_name == "pipeline run run-1234 XRPUSDT"
    assert client.get_run(other.run_id).data.tags["mlflow.parentRunId"] != parent.info.run_id
    assert latest_run_tag(tracker, "exp", "tuned_params", "dagster.run_id") == "run-5678"  # parents never match a kind
