"""The main job as users launch it: `dagster job execute -j main_job` (the code location's multiprocess executor,
forkserver with the code location preloaded), on the real XRP year when present, else the synthetic market.

Prints wall time, the sum of the steps' own time (STEP_START -> STEP_SUCCESS from the run's event log), their
ratio (target <= 1.5) and the slowest steps. Before the forkserver executor the real year took 154 s wall for
about 37 s of step work (each step started a fresh interpreter: ~6 s).

    python bench/bench_main_job.py [--symbol XRPUSDT] [--trials 6] [--keep FOLDER]

`--keep` runs in FOLDER and leaves the instance there (DAGSTER_HOME=FOLDER/home) to read the run's events.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import REAL  # noqa: E402
from _timing import timed  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def step_times(home: Path) -> tuple[dict[str, float], float]:
    """Per-step seconds and the run's own wall (first to last event) from the instance in `home`."""
    import dagster as dg
    from dagster._core.events import DagsterEventType

    os.environ["DAGSTER_HOME"] = str(home)
    with dg.DagsterInstance.get() as instance:
        run = instance.get_runs(limit=1)[0]
        logs = instance.all_logs(run.run_id)
        starts: dict[str, float] = {}
        steps: dict[str, float] = {}
        for entry in logs:
            event = entry.dagster_event
            if event is None:
                continue
            if event.event_type == DagsterEventType.STEP_START:
                starts[event.step_key] = entry.timestamp
            elif event.event_type == DagsterEventType.STEP_SUCCESS:
                steps[event.step_key] = entry.timestamp - starts[event.step_key]
        return steps, logs[-1].timestamp - logs[0].timestamp


PR_SET_CHILD_SUBREAPER = 36


def adopt_orphans() -> None:
    """Become the reaper of the command's descendants (Linux): the executor's forkserver outlives the command and
    reaps the step processes, so only once this process reaps it do the steps' CPU seconds count as its children's."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def run_and_reap(cmd: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    while True:  # the forkserver, adopted when the command ended
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return proc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbol", default="XRPUSDT")
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--keep", type=Path, help="run in this (new) folder and keep it: instance, warehouse, MLflow")
    args = parser.parse_args()
    real = (REAL / f"{args.symbol.lower()}_combined_15m.parquet").exists()
    with tempfile.TemporaryDirectory(prefix="bench-main-job-") as tmp:
        work = args.keep or Path(tmp)
        (work / "home").mkdir(parents=True)
        (work / "home" / "dagster.yaml").write_text((ROOT / "deploy" / "dagster" / "dagster.yaml").read_text())
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "COINTRADER_", "DAGSTER_"))}
        env.update({
            "DAGSTER_HOME": str(work / "home"), "SYMBOLS": args.symbol,
            "COINTRADER_WAREHOUSE": str(work / "market.duckdb"),
            "MLFLOW_TRACKING_URI": f"sqlite:///{work}/mlflow.db", "COINTRADER_MLFLOW_ARTIFACT_ROOT": str(work / "art"),
            "COINTRADER_OPTUNA_STORAGE": f"sqlite:///{work}/optuna.db", "COINTRADER_REPORT_DIR": str(work / "weekly"),
            "MLFLOW_DISABLE_TELEMETRY": "true", "DAGSTER_DISABLE_TELEMETRY": "true",
        })
        if real:
            env.update({"COINTRADER_MARKET_SOURCE": "parquet", "COINTRADER_PARQUET_DIR": str(REAL),
                        "COINTRADER_WF_TRAIN_MONTHS": "3"})
        config = {"ops": {"tuned_params": {"config": {"n_trials": args.trials}},
                          "weekly_report": {"config": {"notify": False}}}}
        (work / "run.yaml").write_text(json.dumps(config))
        cmd = [str(Path(sys.executable).parent / "dagster"), "job", "execute", "-m", "cointrader_pipelines.definitions",
               "-j", "main_job", "--tags", json.dumps({"dagster/partition": args.symbol}), "-c", str(work / "run.yaml")]
        adopt_orphans()
        run = timed(lambda: run_and_reap(cmd, env, work), children=True)
        proc, wall, children_cpu = run.result, run.min_wall, run.min_cpu
        if proc.returncode != 0:
            print("\n".join(proc.stdout.splitlines()[-20:] + proc.stderr.splitlines()[-20:]))
            print(f"main job failed (exit {proc.returncode})")
            return 1
        steps, run_wall = step_times(work / "home")
    work_s = sum(steps.values())
    print(f"main job for {args.symbol} on the {'real year' if real else 'synthetic market'} "
          f"({len(steps)} steps, {args.trials} trials), multiprocess executor with forkserver:")
    print(f"  command wall {wall:.1f} s, run wall {run_wall:.1f} s, sum of step time {work_s:.1f} s, "
          f"CPU of the command and every process it started {children_cpu:.1f} s")
    print(f"  command wall / step work = {wall / work_s:.2f} (target <= 1.5; was 154 s / 37 s = 4.2)")
    for key, seconds in sorted(steps.items(), key=lambda kv: -kv[1])[:6]:
        print(f"    {key:45s} {seconds:6.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
