"""`cointrader demo` end to end in a subprocess, offline, every store in tmp: the whole graph materialises, the
summary is printed, and the lineage links Dagster, the MLflow runs (dataset inputs) and the model version."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import mlflow
import pytest
from mlflow.tracking import MlflowClient

from cointrader_pipelines.tracking.registry import LINEAGE_TAGS
from fixtures.mlflow_store import fresh_store, mlflow_template  # noqa: F401  (fixture)

REPO = Path(__file__).resolve().parents[2]
#: a smaller market than the command's default (150 days) that still holds a walk-forward fold of 2 train + 1 test
#: calendar months, so every asset, check and gate rule runs (at 90 days the strategy sweep finds no fold)
DAYS = 95
MODEL = "cointrader-filter-XRPUSDT"
LINEAGE_ASSETS = ("klines", "correlation_klines", "open_interest", "funding_rate", "ls_ratio", "correlation_ls_ratio",
                  "combined_15m", "ml_dataset", "tuned_params", "walk_forward_validation", "filter_model",
                  "onnx_model", "strategy_sweep", "ml_comparison", "registered_model")


@pytest.fixture(scope="module")
def demo(tmp_path_factory, mlflow_template) -> tuple[Path, subprocess.CompletedProcess]:
    root = tmp_path_factory.mktemp("demo")
    fresh_store(mlflow_template, root)  # an initialised store at the default relative path mlruns/mlflow.db
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COINTRADER_", "MLFLOW_", "DAGSTER_"))}
    env.update(PYTHONPATH=str(REPO), DAGSTER_HOME=str(root / ".dagster_home"), SYMBOLS="XRPUSDT")
    cmd = [sys.executable, "-m", "trader_runtime.cli.main", "demo", "--days", str(DAYS), "--trials", "2"]
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return root, proc


@pytest.fixture(scope="module")
def instance(demo):
    root, _ = demo
    with dg.DagsterInstance.from_ref(dg._core.instance.ref.InstanceRef.from_dir(str(root / ".dagster_home"))) as inst:
        yield inst


def _data_version(instance, asset: str) -> str:
    record = instance.get_latest_data_version_record(dg.AssetKey(asset), partition_key="XRPUSDT")
    return record.asset_materialization.tags["dagster/data_version"]


def _materialization(instance, asset: str):
    event = instance.get_latest_materialization_event(dg.AssetKey(asset))
    assert event is not None, asset
    return event.asset_materialization


def test_every_asset_is_reported_as_it_materialises(demo):
    out = demo[1].stdout
    for asset in LINEAGE_ASSETS:
        assert f"materialized {asset}\n" in out
    assert "check onnx_parity: passed" in out and "FAILED" not in out
    assert "check registered_version_is_documented: passed" in out and "check weekly_report_files_readable: passed" in out
    assert f"Model {MODEL} version 1 -> alias challenger" in out
    for part in ("walk-forward (5 folds): AUC signal rows", "ML off:", "ML on:", "make ui", "make mlflow-ui"):
        assert part in out
    # the gate with every rule's value and threshold, and a last line that names the champion or how to get one
    assert "  promotion gate: passed\n" in out or "  promotion gate: failed\n" in out
    for rule in ("fold_signals", "ablation_drop", "pf_gain", "validation_trades", "champion_improvement"):
        assert any(line.startswith(("    passed  " + rule + ": ", "    failed  " + rule + ": ")) for line in out.splitlines())
    assert "need >= 100" in out  # thresholds are shown, not only rule names
    last = out.strip().splitlines()[-1]
    assert last.startswith("Champion: ") or (
        last.startswith("No champion yet") and f"cointrader model promote --symbol XRPUSDT --version 1" in last), last


def test_model_version_carries_lineage_signature_and_metadata(demo, instance):
    root, _ = demo
    client = MlflowClient(tracking_uri=f"sqlite:///{root}/mlruns/mlflow.db", registry_uri=f"sqlite:///{root}/mlruns/mlflow.db")
    mv = client.get_model_version_by_alias(MODEL, "challenger")
    assert str(mv.version) == "1"
    assert all(mv.tags.get(tag) for tag in LINEAGE_TAGS)
    assert mv.tags["dagster.data_version"] == _data_version(instance, "ml_dataset")
    assert mv.tags["dagster.asset_key"] == "registered_model" and mv.tags["gate.passed"] in ("true", "false")
    run = client.get_run(mv.run_id)
    assert run.data.tags["cointrader.kind"] == "filter_model"
    logged = client.get_logged_model(mv.source.removeprefix("models:/"))
    assert logged.name == "filter_model" and logged.source_run_id == mv.run_id
    info = mlflow.models.Model.load(logged.artifact_location.removeprefix("file://"))
    assert info.signature is not None and "onnx" in info.flavors
    assert len(info.metadata["feature_columns"]) == 30 and 0 < info.metadata["threshold"] < 1


def test_every_training_run_logs_the_dataset_with_the_dagster_data_version(demo, instance):
    root, _ = demo
    client = MlflowClient(tracking_uri=f"sqlite:///{root}/mlruns/mlflow.db", registry_uri=f"sqlite:///{root}/mlruns/mlflow.db")
    digest = _data_version(instance, "ml_dataset")
    exp = client.get_experiment_by_name(MODEL)
    runs = client.search_runs([exp.experiment_id])
    kinds = {r.data.tags["cointrader.kind"]: r for r in runs}
    parent = kinds.pop("pipeline_run")  # one parent groups this Dagster run's training runs in the MLflow UI
    assert {"tuned_params", "walk_forward_validation", "filter_model", "ml_comparison"} <= set(kinds)
    assert {r.data.tags["mlflow.parentRunId"] for r in kinds.values()} == {parent.info.run_id}
    assert exp.tags["mlflow.experimentKind"] == "custom_model_development"
    for run in kinds.values():
        (inp,) = run.inputs.dataset_inputs
        assert inp.dataset.digest == digest and inp.dataset.name == "ml_dataset/XRPUSDT"
        assert run.data.tags["dagster.run_url"].endswith(run.data.tags["dagster.run_id"])


def test_dagster_materialisations_link_to_mlflow(demo, instance):
    reg = _materialization(instance, "registered_model").metadata
    assert reg["model_version"].value == "1"
    assert reg["model_version_url"].value.endswith(f"/#/models/{MODEL}/versions/1")
    for asset in ("tuned_params", "walk_forward_validation", "filter_model", "ml_comparison"):
        assert "/#/experiments/" in _materialization(instance, asset).metadata["mlflow_run_url"].value


def test_market_data_landed_in_the_demo_store_not_the_warehouse(demo):
    root, _ = demo
    assert not (root / "warehouse" / "market.duckdb").exists()  # the user's warehouse is never touched
    with duckdb.connect(str(root / "warehouse" / "demo.duckdb"), read_only=True) as con:
        counts = dict(con.execute("SELECT symbol, count(*) FROM candles_15m GROUP BY symbol").fetchall())
        ls = con.execute("SELECT count(*), count(DISTINCT timestamp) FROM ls_ratio_15m WHERE symbol='XRPUSDT'").fetchone()
        sources = {r[0] for r in con.execute("SELECT DISTINCT source FROM candles_15m").fetchall()}
    assert counts == {"XRPUSDT": DAYS * 96, "BTCUSDT": DAYS * 96, "ETHUSDT": DAYS * 96}
    assert ls[0] == ls[1] > 0
    assert sources == {"synthetic"}


def test_a_real_import_after_the_demo_has_no_synthetic_row_beside_it(demo):
    from trader_runtime.market.synthetic import generate_market

    root, _ = demo
    real = root / "real.parquet"  # stands in for a real file: any Parquet import is tagged "parquet"
    generate_market("XRPUSDT", 10, 3).combined.to_parquet(real)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COINTRADER_", "MLFLOW_", "DAGSTER_"))}
    env.update(PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-m", "trader_runtime.cli.main", "data", "import", str(real), "--symbol", "XRPUSDT"]
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with duckdb.connect(str(root / "warehouse" / "market.duckdb"), read_only=True) as con:
        sources = dict(con.execute("SELECT source, count(*) FROM candles_15m GROUP BY source").fetchall())
    assert sources == {"parquet": 10 * 96}
