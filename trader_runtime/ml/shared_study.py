"""Several processes working on one Optuna study through its database storage (Optuna's own parallel model).

Why: tuning is the longest training step and its trials are independent; with the study in PostgreSQL, every
process asks the storage for the next trial and the TPE sampler sees the others' results. The calling process runs
its share of the trials itself and starts `n_workers - 1` interpreters (`python -m trader_runtime.ml.shared_study`)
for the rest. Subprocesses rather than multiprocessing: the caller may be a daemonic pool process (a Celery or
Dagster step worker), which may not fork children of its own. The storage URL carries a password, so it goes to
the children through their environment, never their command line; they die with the caller (PR_SET_PDEATHSIG),
so a killed step leaves no orphan adding trials.
"""

from __future__ import annotations

import ctypes
import json
import os
import pickle
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Sequence

import optuna

STORAGE_ENV = "COINTRADER_SHARED_STUDY_STORAGE"
WORKER_ATTR = "worker"
_PR_SET_PDEATHSIG = 1


def trial_shares(n_trials: int, n_workers: int) -> list[int]:
    """How many trials each process runs (the first ones take the remainder); no process gets zero."""
    n_workers = max(1, min(n_workers, n_trials))
    return [n_trials // n_workers + (1 if i < n_trials % n_workers else 0) for i in range(n_workers)]


class TaggedObjective:
    """Records which process ran a trial (`user_attrs["worker"]`), then runs the objective."""

    def __init__(self, objective: Callable[[optuna.Trial], float]) -> None:
        self.objective = objective

    def __call__(self, trial: optuna.Trial) -> float:
        trial.set_user_attr(WORKER_ATTR, f"{socket.gethostname()}:{os.getpid()}")
        return self.objective(trial)


def _die_with_parent() -> None:
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:  # not Linux: the child then outlives a killed parent until its trials end
        pass


def optimize_shared(study: optuna.Study, objective: Callable[[optuna.Trial], float], storage: str, n_trials: int,
                    n_workers: int, seed: int, callbacks: Sequence[Callable[..., None]] = ()) -> None:
    """Run `n_trials` trials of `study` (already created in `storage`) over `n_workers` processes."""
    shares = trial_shares(n_trials, n_workers)
    with tempfile.TemporaryDirectory(prefix="cointrader-study-") as tmp:
        spec_dir = Path(tmp)
        (spec_dir / "objective.pkl").write_bytes(pickle.dumps(objective, protocol=pickle.HIGHEST_PROTOCOL))
        env = {**os.environ, STORAGE_ENV: storage}
        children = []
        for index, share in enumerate(shares[1:], start=1):
            spec = {"study_name": study.study_name, "n_trials": share, "seed": seed + index,
                    "pruner": {"n_startup_trials": study.pruner._n_startup_trials,  # noqa: SLF001 (same pruner)
                               "n_warmup_steps": study.pruner._n_warmup_steps}}  # noqa: SLF001
            path = spec_dir / f"worker{index}.json"
            path.write_text(json.dumps(spec))
            children.append(subprocess.Popen(
                [sys.executable, "-m", "trader_runtime.ml.shared_study", str(path), str(spec_dir / "objective.pkl")],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=_die_with_parent))
        try:
            study.optimize(TaggedObjective(objective), n_trials=shares[0], callbacks=list(callbacks), catch=())
        finally:
            errors = []
            for child in children:
                _, stderr = child.communicate()
                if child.returncode != 0:
                    lines = stderr.decode(errors="replace").strip().splitlines() or ["no output"]
                    errors.append(f"exit {child.returncode}: {lines[-1]}")
        if errors:
            raise RuntimeError("an Optuna worker process failed: " + "; ".join(errors))


def _worker(spec_path: str, objective_path: str) -> int:
    spec: dict[str, Any] = json.loads(Path(spec_path).read_text())
    objective = pickle.loads(Path(objective_path).read_bytes())
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(
        study_name=spec["study_name"], storage=os.environ[STORAGE_ENV],
        sampler=optuna.samplers.TPESampler(seed=spec["seed"]),
        pruner=optuna.pruners.MedianPruner(**spec["pruner"]),
    )
    study.optimize(TaggedObjective(objective), n_trials=spec["n_trials"], catch=())
    return 0


if __name__ == "__main__":
    sys.exit(_worker(sys.argv[1], sys.argv[2]))
