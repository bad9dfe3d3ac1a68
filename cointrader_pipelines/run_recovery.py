"""Crash-safe in-process runs: a run whose process died is marked failed and its pool slots are freed at start-up.

Why: `cointrader demo` executes the job in-process on the persistent instance. Killed with -9 during a warehouse
step, the run stayed "started" in the UI and kept the `duckdb_warehouse` pool's only slot; the next demo then waited
for that slot forever — in a busy loop at 100 % CPU that also swallowed SIGTERM. Dagster's run monitoring (enabled in
dagster.yaml) frees slots of ended runs and fails runs that never start, but it cannot see an in-process worker die:
the default launcher has no worker health check. So each in-process run carries its process identity in tags, and
before a new one starts, runs whose process is gone are failed (`report_run_failed`, as the monitoring daemon would)
and their slots freed. A pool still held by a *live* run is refused in one line instead of waited on.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from dagster._core.storage.dagster_run import IN_PROGRESS_RUN_STATUSES, DagsterRunStatus, RunsFilter

from trader_runtime.errors import ConfigError

PID_TAG = "cointrader/pid"
HOST_TAG = "cointrader/host"
STARTED_TAG = "cointrader/process_start"  # the process's start time in clock ticks: a reused PID is not the run's


def process_tags() -> dict[str, str]:
    """Tags naming this process, put on every in-process run so a later start-up can tell whether it still runs."""
    pid = os.getpid()
    tags = {PID_TAG: str(pid), HOST_TAG: socket.gethostname()}
    started = _process_start(pid)
    if started is not None:
        tags[STARTED_TAG] = started
    return tags


def _process_start(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22 (starttime), counted after the command name


def _alive(pid: int, started: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return started is None or _process_start(pid) in (None, started)


@dataclass
class RecoveryResult:
    failed_runs: list[str] = field(default_factory=list)
    freed_runs: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"marked run {r} failed: its process is gone (killed or crashed)" for r in self.failed_runs]
        out += [f"freed the pool slots still held by ended run {r}" for r in self.freed_runs]
        return out


def recover_dead_runs(instance: dg.DagsterInstance) -> RecoveryResult:
    """Fail in-progress runs of this host whose process died, and free every pool slot held by an ended run."""
    result = RecoveryResult()
    host = socket.gethostname()
    statuses = [*IN_PROGRESS_RUN_STATUSES, DagsterRunStatus.CANCELING]
    for record in instance.get_run_records(filters=RunsFilter(statuses=statuses)):
        run = record.dagster_run
        pid = run.tags.get(PID_TAG)
        if pid is None or run.tags.get(HOST_TAG) != host or _alive(int(pid), run.tags.get(STARTED_TAG)):
            continue  # not ours, another machine's, or still running
        instance.report_run_failed(run, f"the process running it (pid {pid}) died without finishing the run; "
                                        "marked failed at the next start-up")  # fmt: skip
        result.failed_runs.append(run.run_id)
    storage = instance.event_log_storage
    if storage.supports_global_concurrency_limits:
        for run_id in sorted(storage.get_concurrency_run_ids()):
            run = instance.get_run_by_id(run_id)
            if run is None or run.is_finished:
                storage.free_concurrency_slots_for_run(run_id)
                result.freed_runs.append(run_id)
    return result


def refuse_busy_pools(instance: dg.DagsterInstance) -> None:
    """ConfigError when a pool has no free slot (held by a live run): waiting would block without output."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return
    for key in sorted(storage.get_concurrency_keys()):
        info = storage.get_concurrency_info(key)
        if info.slot_count and info.active_slot_count >= info.slot_count:
            holders = ", ".join(sorted(info.active_run_ids))
            raise ConfigError(f"pool {key} is held by run {holders}, which is still running; wait for it to finish "
                              "or terminate it in the Dagster UI")  # fmt: skip


def prepare_in_process_run(instance: dg.DagsterInstance) -> tuple[dict[str, str], RecoveryResult]:
    """Recover from dead runs, refuse busy pools; returns the tags the new run must carry."""
    recovered = recover_dead_runs(instance)
    refuse_busy_pools(instance)
    return process_tags(), recovered
