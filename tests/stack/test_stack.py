"""Integration test of the distributed profile: the main job for three symbols as three queued runs whose steps run
on two Celery workers, a two-process Optuna study per run, models registered through the MLflow tracking server,
lineage identical to an embedded run, and a worker process killed in the middle of a step — the step is run again
on a worker and nothing is lost or doubled in MLflow, Optuna or the warehouse. Then the trader's model source pulls
the champion over HTTP and keeps it when the server goes away.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import optuna
import pytest
from dagster._core.events import DagsterEventType
from mlflow.entities import ViewType
from mlflow.tracking import MlflowClient

from cointrader_pipelines.testing.stack import stack_instance
from stack.conftest import ROOT, SYMBOLS, Stack

# the first test brings the stack up and runs the three symbols (a few minutes on a quiet 2-core machine)
pytestmark = [pytest.mark.timeout(3600), pytest.mark.slow]

N_TRIALS = 4
KILLED_STEP = "tuned_params"
RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}, "ops": {
    "tuned_params": {"config": {"n_trials": N_TRIALS}},
    "strategy_sweep": {"config": {"train_months": 2, "test_months": 1}},
    "ml_comparison": {"config": {"train_months": 2, "test_months": 1}},
    "registered_model": {"config": {"auto_promote": False}},
    "weekly_report": {"config": {"sweep": False, "notify": False}},
}}
TERMINAL = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


def engine_workers(instance: dg.DagsterInstance, run_id: str) -> list[tuple[str, str]]:
    """(step key, Celery worker) of every 'executing step in celery worker' event of the run, in order."""
    out = []
    for entry in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT):
        event = entry.dagster_event
        meta = event.engine_event_data.metadata if event.engine_event_data else {}
        if "Celery worker" in meta and event.step_key:
            out.append((event.step_key, str(meta["Celery worker"].value)))
    return out


def step_events(instance: dg.DagsterInstance, run_id: str, kind: DagsterEventType) -> Counter:
    return Counter(e.dagster_event.step_key for e in instance.all_logs(run_id, of_type=kind))


def data_versions(instance: dg.DagsterInstance, run_id: str) -> dict[str, str]:
    out = {}
    for entry in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION):
        mat = entry.dagster_event.event_specific_data.materialization
        out[mat.asset_key.to_user_string()] = mat.tags.get("dagster/data_version", "")
    return out


@dataclass
class StackRuns:
    run_ids: dict[str, str]  # symbol -> Dagster run id
    killed_run: str
    killed_worker: str
    workers_by_run: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    statuses: dict[str, Any] = field(default_factory=dict)
    succeeded: dict[str, Counter] = field(default_factory=dict)
    versions: dict[str, dict[str, str]] = field(default_factory=dict)
    wall_s: float = 0.0


def _launch(stack: Stack, symbol: str, run_id: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "dagster"), "job", "launch", "-w", stack.env["COINTRADER_STACK_WORKSPACE"],
         "-j", "main_job", "--run-id", run_id, "--tags", json.dumps({"dagster/partition": symbol}),
         "--config-json", json.dumps(RUN_CONFIG)],
        env=stack.env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _kill_during_step(stack: Stack, instance: dg.DagsterInstance, run_ids: dict[str, str],
                      timeout_s: float) -> tuple[str, str]:
    """Wait until a worker runs KILLED_STEP of some run, let it work a moment, then SIGKILL that worker's pool
    process. Returns (run id, worker name)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for run_id in run_ids.values():
            running = [w for step, w in engine_workers(instance, run_id) if step == KILLED_STEP]
            if running and KILLED_STEP not in step_events(instance, run_id, DagsterEventType.STEP_SUCCESS):
                time.sleep(3.0)  # inside the step: baseline evaluation and trials take longer than this
                if KILLED_STEP in step_events(instance, run_id, DagsterEventType.STEP_SUCCESS):
                    continue
                worker = running[0]
                index = worker.split("@")[0].removeprefix("worker")
                stack.ctl("kill-worker", index)
                return run_id, worker
        time.sleep(0.5)
    pytest.fail(f"no worker started {KILLED_STEP} within {timeout_s:.0f} s")


@pytest.fixture(scope="module")
def stack_runs(stack: Stack) -> StackRuns:
    started = time.monotonic()
    run_ids = {symbol: str(uuid.uuid4()) for symbol in SYMBOLS}
    launches = [_launch(stack, symbol, run_id) for symbol, run_id in run_ids.items()]
    for proc in launches:
        out, _ = proc.communicate(timeout=600)
        assert proc.returncode == 0, out[-2000:]
    with stack_instance(stack.env) as instance:
        killed_run, killed_worker = _kill_during_step(stack, instance, run_ids, timeout_s=900)
        deadline = time.monotonic() + 1500
        while time.monotonic() < deadline:
            runs = {rid: instance.get_run_by_id(rid) for rid in run_ids.values()}
            if all(r is not None and r.status in TERMINAL for r in runs.values()):
                break
            time.sleep(2.0)
        result = StackRuns(run_ids, killed_run, killed_worker, wall_s=time.monotonic() - started)
        for rid in run_ids.values():
            result.statuses[rid] = instance.get_run_by_id(rid).status
            result.workers_by_run[rid] = engine_workers(instance, rid)
            result.succeeded[rid] = step_events(instance, rid, DagsterEventType.STEP_SUCCESS)
            result.versions[rid] = data_versions(instance, rid)
    return result


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory, stack_runs: StackRuns) -> dict[str, Any]:
    """The same job for XRPUSDT in the embedded profile (in-process, sqlite MLflow, own DuckDB file)."""
    from cointrader_pipelines.demo import demo_definitions
    from cointrader_pipelines.settings import get_settings

    tmp = tmp_path_factory.mktemp("embedded")
    settings = get_settings().model_copy(update={
        "market_source": "synthetic", "synthetic_days": 150, "warehouse_path": tmp / "market.duckdb",
        "mlflow_tracking_uri": f"sqlite:///{tmp}/mlflow.db", "mlflow_artifact_root": str(tmp / "artifacts"),
        "optuna_storage": f"sqlite:///{tmp}/optuna.db", "report_dir": tmp / "weekly"})
    instance = dg.DagsterInstance.ephemeral()
    job = demo_definitions(settings).resolve_job_def("main_job")
    result = job.execute_in_process(partition_key="XRPUSDT", instance=instance, run_config=RUN_CONFIG)
    assert result.success
    return {"run_id": result.run_id, "tracking_uri": settings.mlflow_tracking_uri,
            "versions": data_versions(instance, result.run_id), "warehouse": settings.warehouse_path}


def _client(uri: str) -> MlflowClient:
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _key(run: Any) -> str:
    """A run's name, except the per-Dagster-run parent whose name carries the run id."""
    from cointrader_pipelines.tracking.runs import PIPELINE_KIND

    return "pipeline parent" if run.data.tags.get("cointrader.kind") == PIPELINE_KIND else run.info.run_name


def _runs_of(client: MlflowClient, symbol: str, run_id: str, view: int = ViewType.ACTIVE_ONLY) -> list:
    exp = client.get_experiment_by_name(f"cointrader-filter-{symbol}")
    assert exp is not None, f"no experiment for {symbol}"
    return client.search_runs([exp.experiment_id], filter_string=f"tags.`dagster.run_id` = '{run_id}'",
                              run_view_type=view)


# ------------------------------------------------------------------------------------------------------ tests

def test_three_symbol_runs_succeed_on_two_workers(stack_runs: StackRuns) -> None:
    assert set(stack_runs.statuses.values()) == {dg.DagsterRunStatus.SUCCESS}, stack_runs.statuses
    workers = {w for pairs in stack_runs.workers_by_run.values() for _, w in pairs}
    assert len(workers) == 2, workers
    for pairs in stack_runs.workers_by_run.values():  # every symbol's steps were spread over both workers
        assert len({w for _, w in pairs}) == 2
    print(f"\nstack: 3 symbols on 2 workers in {stack_runs.wall_s:.0f} s wall (worker kill included)")


def test_killed_worker_step_ran_again_once(stack_runs: StackRuns) -> None:
    pairs = stack_runs.workers_by_run[stack_runs.killed_run]
    attempts = [w for step, w in pairs if step == KILLED_STEP]
    assert len(attempts) == 2 and attempts[0] == stack_runs.killed_worker, attempts
    assert stack_runs.succeeded[stack_runs.killed_run][KILLED_STEP] == 1
    for rid, counts in stack_runs.succeeded.items():  # no step of any run succeeded twice
        assert max(counts.values()) == 1, (rid, counts)


def test_mlflow_holds_one_run_per_asset_and_one_model_version(stack: Stack, stack_runs: StackRuns) -> None:
    client = _client(stack.env["MLFLOW_TRACKING_URI"])
    for symbol, rid in stack_runs.run_ids.items():
        runs = _runs_of(client, symbol, rid)
        names = Counter(r.info.run_name for r in runs)
        assert names and max(names.values()) == 1, (symbol, names)
        assert {r.info.status for r in runs} == {"FINISHED"}
        for deleted in _runs_of(client, symbol, rid, ViewType.DELETED_ONLY):
            assert deleted.data.tags.get("cointrader.superseded") == "true"
        versions = client.search_model_versions(f"name = 'cointrader-filter-{symbol}'")
        assert len(versions) == 1 and versions[0].tags["dagster.run_id"] == rid
        # artifacts went through the server's proxy, not to a path on this host
        assert client.get_run(versions[0].run_id).info.artifact_uri.startswith("mlflow-artifacts:")


def test_optuna_study_shared_by_two_processes(stack: Stack, stack_runs: StackRuns) -> None:
    for symbol, rid in stack_runs.run_ids.items():
        study = optuna.load_study(study_name=f"{symbol}-{rid[:8]}", storage=stack.env["COINTRADER_OPTUNA_STORAGE"])
        trials = study.get_trials(deepcopy=False)
        assert len(trials) == N_TRIALS, (symbol, len(trials))  # the killed attempt's study was replaced
        assert all(t.state.is_finished() for t in trials)
        assert len({t.user_attrs["worker"] for t in trials}) == 2


def test_warehouse_has_no_duplicate_candles(stack: Stack, stack_runs: StackRuns, embedded: dict) -> None:
    from trader_runtime.storage.snapshots import SnapshotReader
    from trader_runtime.storage.warehouse import Warehouse

    shared = Warehouse(stack.env["COINTRADER_WAREHOUSE"])
    published = SnapshotReader(stack.env["COINTRADER_WAREHOUSE_SNAPSHOTS"])
    for symbol in SYMBOLS:
        frame = shared.read_candles(symbol)
        assert len(frame) > 0 and frame.index.is_unique
        assert published.read_candles(symbol).equals(frame)  # readers see what the writer stored
    assert len(shared.read_candles("XRPUSDT")) == len(Warehouse(embedded["warehouse"]).read_candles("XRPUSDT"))


def test_lineage_identical_to_embedded_run(stack: Stack, stack_runs: StackRuns, embedded: dict) -> None:
    rid = stack_runs.run_ids["XRPUSDT"]
    # the same data versions for everything upstream of tuning (tuning itself ran over two processes)
    for asset in ("klines", "correlation_klines", "open_interest", "funding_rate", "combined_15m", "ml_dataset"):
        assert stack_runs.versions[rid][asset] == embedded["versions"][asset], asset
    assert set(stack_runs.versions[rid]) == set(embedded["versions"])
    remote, local = _client(stack.env["MLFLOW_TRACKING_URI"]), _client(embedded["tracking_uri"])
    remote_runs = {_key(r): r for r in _runs_of(remote, "XRPUSDT", rid)}
    local_runs = {_key(r): r for r in _runs_of(local, "XRPUSDT", embedded["run_id"])}
    assert set(remote_runs) == set(local_runs)
    for name, run in local_runs.items():
        other = remote_runs[name]
        assert set(other.data.tags) >= {k for k in run.data.tags if not k.startswith("mlflow.")}, name
        assert other.data.tags["dagster.data_version"] == run.data.tags["dagster.data_version"], name
        assert [d.dataset.digest for d in other.inputs.dataset_inputs] == \
            [d.dataset.digest for d in run.inputs.dataset_inputs], name
    remote_mv = remote.search_model_versions("name = 'cointrader-filter-XRPUSDT'")[0]
    local_mv = local.search_model_versions("name = 'cointrader-filter-XRPUSDT'")[0]
    assert set(remote_mv.tags) == set(local_mv.tags)
    assert remote_mv.tags["dagster.data_version"] == local_mv.tags["dagster.data_version"]


def test_trader_pulls_champion_over_http_and_keeps_it_when_server_down(stack: Stack, stack_runs: StackRuns,
                                                                        tmp_path: Path) -> None:
    from trader_runtime.model_source import ModelHolder, ModelPoller, ModelSource

    from cointrader_pipelines.tracking.registry import Registry
    from cointrader_pipelines.tracking.runs import MlflowTracker

    uri, name = stack.env["MLFLOW_TRACKING_URI"], "cointrader-filter-DOGEUSDT"
    registry = Registry(MlflowTracker(uri, str(tmp_path / "unused"), uri))
    registry.promote(name, "1", reason="stack test", actor="test", evidence={})
    source = ModelSource(uri, name, cache_dir=tmp_path / "cache")
    holder = ModelHolder()
    poller = ModelPoller(source, holder, interval_s=0.1)
    staged = asyncio.run(poller.poll_once())
    assert staged is not None and staged.version == "1" and staged.source == "mlflow"
    assert holder.take() is staged
    stack.ctl("stop", "mlflow")
    try:
        assert asyncio.run(poller.poll_once()) is None
        assert poller.failures == 1 and holder.take() is staged  # last good model kept
        restarted = ModelSource(uri, name, cache_dir=tmp_path / "cache").load_cached()
        assert restarted is not None and restarted.version == "1" and restarted.source == "cache"
    finally:
        stack.ctl("up", "--workers", "2")  # bring the server back for any later test
