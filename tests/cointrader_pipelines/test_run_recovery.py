"""A run killed with -9 while it holds the warehouse pool's only slot: the next in-process run (what `cointrader
demo` does) marks it failed, frees the slot and proceeds; while the holder is alive, a new run is refused in one line
instead of waiting in a loop."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from cointrader_pipelines.run_recovery import PID_TAG, prepare_in_process_run, refuse_busy_pools
from trader_runtime.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
POOL = "duckdb_warehouse"

JOB = '''
import os, sys, time
from pathlib import Path
import dagster as dg
from cointrader_pipelines.run_recovery import prepare_in_process_run

@dg.op(pool="duckdb_warehouse")
def write_warehouse() -> None:
    Path(sys.argv[1]).write_text("in the step")
    time.sleep(float(sys.argv[2]))

@dg.job
def warehouse_job():
    write_warehouse()

instance = dg.DagsterInstance.get()
tags, recovered = prepare_in_process_run(instance)
print("\\n".join(recovered.lines()), flush=True)
result = warehouse_job.execute_in_process(instance=instance, tags=tags)
print("success" if result.success else "failure", flush=True)
'''


def _run_job(home: Path, marker: Path, seconds: float, **kw: object) -> subprocess.Popen[str]:
    env = {**os.environ, "DAGSTER_HOME": str(home), "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-c", JOB, str(marker), str(seconds)], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)  # type: ignore[call-overload]


def _instance(home: Path) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_ref(dg._core.instance.ref.InstanceRef.from_dir(str(home)))


def test_killed_run_is_failed_and_its_slot_freed_by_the_next_run(tmp_path: Path) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "dagster" / "dagster.yaml", home / "dagster.yaml")
    marker = tmp_path / "step-started"
    first = _run_job(home, marker, 300)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the first run never reached its step"
            time.sleep(0.1)
        with _instance(home) as instance:
            info = instance.event_log_storage.get_concurrency_info(POOL)
            assert info.active_slot_count == 1
            (dead_run,) = info.active_run_ids
            with pytest.raises(ConfigError, match=f"pool {POOL} is held by run {dead_run}"):
                refuse_busy_pools(instance)  # a live holder: refused, not waited on
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            run = instance.get_run_by_id(dead_run)
            assert run is not None and run.status == dg.DagsterRunStatus.STARTED and run.tags[PID_TAG] == str(first.pid)
    finally:
        if first.poll() is None:
            first.kill()

    marker.unlink()
    second = _run_job(home, marker, 0)
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err[-2000:]
    assert f"marked run {dead_run} failed" in out and out.strip().endswith("success"), out
    with _instance(home) as instance:
        assert instance.get_run_by_id(dead_run).status == dg.DagsterRunStatus.FAILURE
        assert instance.event_log_storage.get_concurrency_info(POOL).active_slot_count == 0
        tags, recovered = prepare_in_process_run(instance)  # nothing left to recover
        assert recovered.failed_runs == [] and recovered.freed_runs == [] and tags[PID_TAG] == str(os.getpid())
