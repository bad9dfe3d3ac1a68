"""Every asset's MLflow run goes through `tracking.asset_runs.asset_run`: lineage tags, kind, input dataset."""

import ast
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

import cointrader_pipelines
from cointrader_pipelines.resources.mlflow_tracker import MlflowResource
from cointrader_pipelines.tracking.asset_runs import asset_run, log_asset_input
from fixtures.mlflow_store import fresh_store, mlflow_template  # noqa: F401  (fixture)

PARTS = dg.StaticPartitionsDefinition(["XRPUSDT"])


@dg.asset(partitions_def=PARTS, code_version="7")
def probe(context: dg.AssetExecutionContext, mlflow: MlflowResource) -> dg.MaterializeResult:
    frame = pd.DataFrame({"x": [1.0, 2.0]}, index=pd.date_range("2025-01-01", periods=2, freq="15min", tz="UTC"))
    with asset_run(context, mlflow, "probe-experiment", "digest-1") as run:
        log_asset_input(mlflow, frame, "ml_dataset", context.partition_key, "digest-1", "evaluation")
        mlflow.tracker().log_metrics({"score": 0.5})
    return dg.MaterializeResult(metadata={"run_id": run.run_id})


@dg.asset(code_version="2")
def failing(context: dg.AssetExecutionContext, mlflow: MlflowResource) -> None:
    with asset_run(context, mlflow, "probe-experiment", "digest-2", run_name="failing try", kind="probe"):
        raise RuntimeError("the step broke")


def test_the_run_carries_the_assets_lineage_kind_and_input(tmp_path, mlflow_template):
    uri = fresh_store(mlflow_template, tmp_path, "mlflow.db")
    resources = {"mlflow": MlflowResource(tracking_uri=uri, artifact_root=str(tmp_path / "artifacts"))}
    result = dg.materialize([probe], partition_key="XRPUSDT", resources=resources,
                            instance=dg.DagsterInstance.ephemeral())  # fmt: skip
    run_id = result.asset_materializations_for_node("probe")[0].metadata["run_id"].value
    run = MlflowClient(tracking_uri=uri).get_run(run_id)
    assert run.info.run_name == "probe" and run.info.status == "FINISHED"
    tags = run.data.tags
    assert tags["cointrader.kind"] == "probe" and tags["dagster.asset_key"] == "probe"
    assert tags["dagster.partition"] == "XRPUSDT" and tags["dagster.code_version"] == "7"
    assert tags["dagster.data_version"] == "digest-1" and tags["dagster.run_id"] == result.run_id
    assert run.data.metrics["score"] == 0.5
    (dataset,) = run.inputs.dataset_inputs
    assert dataset.dataset.name == "ml_dataset/XRPUSDT" and dataset.dataset.digest == "digest-1"

    failed = dg.materialize([failing], resources=resources, instance=dg.DagsterInstance.ephemeral(),
                            raise_on_error=False)  # fmt: skip
    assert not failed.success
    runs = MlflowClient(tracking_uri=uri).search_runs(
        [MlflowClient(tracking_uri=uri).get_experiment_by_name("probe-experiment").experiment_id],
        filter_string="attributes.run_name = 'failing try'",
    )
    assert [(r.info.status, r.data.tags["cointrader.kind"]) for r in runs] == [("FAILED", "probe")]


def _start_run_calls(path: Path) -> list[int]:
    tree = ast.parse(path.read_text())
    return [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute) and n.func.attr == "start_run"]  # fmt: skip


@pytest.mark.parametrize("folder", ["defs"])
def test_no_asset_opens_an_mlflow_run_by_itself(folder):
    root = Path(cointrader_pipelines.__file__).parent / folder
    found = {str(p.relative_to(root)): lines for p in sorted(root.rglob("*.py")) if (lines := _start_run_calls(p))}
    assert found == {}
