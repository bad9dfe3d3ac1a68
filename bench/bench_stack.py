"""The distributed profile's scaling figures, on a throw-away loopback stack (deploy/stack/stack.py):

1. Optuna trials per minute on one study in PostgreSQL with one vs two processes (`tune_params(n_workers=...)`,
   the real XRP year's dataset when present, else a synthetic year);
2. four symbols retrained (`retrain_job`, one queued run per symbol on the synthetic market) with one vs two
   Celery workers: wall time and speed-up.

Needs postgresql, redis-server and the [stack] extra. Prints figures; asserts nothing.

    python bench/bench_stack.py [--part optuna|retrain|all] [--trials 8]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import load_year  # noqa: E402
from _timing import timed  # noqa: E402

from cointrader_pipelines.testing.stack import ROOT, loopback_env, stack_command, stack_instance  # noqa: E402

RETRAIN_SYMBOLS = ("XRPUSDT", "DOGEUSDT", "SOLUSDT", "TRXUSDT")


class Stack:
    """A stack in its own folder on free ports (the test's `tests/stack/conftest.py` brings up the same)."""

    def __init__(self, workers: int) -> None:
        self.state = Path(tempfile.mkdtemp(prefix="cointrader-bench-stack-", dir="/var/tmp"))
        self.state.chmod(0o711)
        self.base = loopback_env(self.state, RETRAIN_SYMBOLS, tuning_workers=1)
        self.workers = workers
        self.env: dict[str, str] = {}

    def ctl(self, *args: str) -> str:
        out = subprocess.run(stack_command(*args), env=self.base, cwd=ROOT, capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"stack {args[0]} failed: {out.stderr.strip()}")
        return out.stdout

    def __enter__(self) -> "Stack":
        self.ctl("up", "--workers", str(self.workers))
        self.env = {**self.base, **json.loads(self.ctl("env"))}
        return self

    def __exit__(self, *exc: object) -> None:
        self.ctl("down")
        shutil.rmtree(self.state, ignore_errors=True)


def bench_optuna(trials: int) -> None:
    from trader_runtime.ml.params import resolve_params
    from trader_runtime.ml.tuning import tune_params
    from trader_runtime.strategy.dataset import DatasetParams, build_dataset
    from trader_runtime.strategy.pipeline import prepare_market

    df, source = load_year()
    dataset = build_dataset(prepare_market(df, "XRPUSDT"), DatasetParams())
    base = resolve_params(num_threads=1).params
    with Stack(workers=1) as stack:
        storage = stack.env["COINTRADER_OPTUNA_STORAGE"]
        rates = {}
        for n_workers in (1, 2):
            run = timed(lambda: tune_params(dataset, study_name=f"bench-{uuid.uuid4().hex[:8]}", storage=storage,
                                            n_trials=trials, n_folds=5, baseline_params=base, n_workers=n_workers))
            result, wall = run.result, run.min_wall
            rates[n_workers] = trials / wall * 60
            print(f"optuna, {n_workers} process(es) on one PostgreSQL study: {trials} trials "
                  f"({result.n_complete} complete, {result.n_pruned} pruned) + baseline in {wall:.1f} s "
                  f"-> {rates[n_workers]:.1f} trials/min")
    print(f"optuna on {source}, dataset {len(dataset)} rows: two processes = {rates[2] / rates[1]:.2f}x "
          "the trials per minute of one")


def _retrain(stack: Stack) -> float:
    config = {"loggers": {"console": {"config": {"log_level": "WARNING"}}},
              "ops": {"tuned_params": {"config": {"n_trials": 4}},
                      "strategy_sweep": {"config": {"train_months": 2, "test_months": 1}},
                      "ml_comparison": {"config": {"train_months": 2, "test_months": 1}}}}
    import dagster as dg

    run_ids = {sym: str(uuid.uuid4()) for sym in RETRAIN_SYMBOLS}
    started = time.perf_counter()
    launches = [subprocess.Popen(
        [str(Path(sys.executable).parent / "dagster"), "job", "launch", "-w", stack.env["COINTRADER_STACK_WORKSPACE"],
         "-j", "retrain_job", "--run-id", rid, "--tags", json.dumps({"dagster/partition": sym}),
         "--config-json", json.dumps(config)], env=stack.env, cwd=ROOT, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL) for sym, rid in run_ids.items()]
    for proc in launches:
        proc.wait()
    done = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}
    with stack_instance(stack.env) as instance:
        while True:
            runs = [instance.get_run_by_id(rid) for rid in run_ids.values()]
            if all(r is not None and r.status in done for r in runs):
                break
            time.sleep(1.0)
    wall = time.perf_counter() - started
    failed = [r.run_id for r in runs if r.status != dg.DagsterRunStatus.SUCCESS]
    if failed:
        raise SystemExit(f"retrain runs failed: {failed}")
    return wall


def bench_retrain() -> None:
    walls = {}
    for workers in (1, 2):
        with Stack(workers=workers) as stack:
            walls[workers] = _retrain(stack)
        print(f"retrain_job for {len(RETRAIN_SYMBOLS)} symbols (synthetic 150 days, 4 trials) on {workers} "
              f"Celery worker(s): {walls[workers]:.1f} s wall (run launch included)")
    print(f"speed-up with two workers: {walls[1] / walls[2]:.2f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description="distributed profile scaling figures")
    parser.add_argument("--part", choices=("optuna", "retrain", "all"), default="all")
    parser.add_argument("--trials", type=int, default=8)
    args = parser.parse_args()
    if args.part in ("optuna", "all"):
        bench_optuna(args.trials)
    if args.part in ("retrain", "all"):
        bench_retrain()
    return 0


if __name__ == "__main__":
    sys.exit(main())
