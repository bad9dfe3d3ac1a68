"""Step processes that open a new sqlite MLflow store at the same moment all succeed: without the lock each of
them ran MLflow's schema migrations and all but one failed ('table spans already exists', 'duplicate column')."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from mlflow.tracking import MlflowClient

#: imports first, says it is ready, then opens the store the moment the test says go
OPENER = """
import os, sys, time
from pathlib import Path
from cointrader_pipelines.tracking.runs import MlflowTracker
folder = Path(sys.argv[1])
(folder / f"ready-{os.getpid()}").touch()
while not (folder / "go").exists():
    time.sleep(0.002)
print(MlflowTracker(f"sqlite:///{folder}/store/mlflow.db", str(folder / "art"), "http://ui").experiment_id("shared"))
"""
OPENERS = 2


def test_processes_opening_a_new_store_at_once_all_succeed(tmp_path: Path):
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    openers = [subprocess.Popen([sys.executable, "-c", OPENER, str(tmp_path)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env) for _ in range(OPENERS)]
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("ready-*"))) < OPENERS and time.monotonic() < deadline:
        if any(p.poll() is not None for p in openers):
            break
        time.sleep(0.01)
    (tmp_path / "go").touch()
    results = [p.communicate(timeout=300) for p in openers]
    assert [p.returncode for p in openers] == [0] * OPENERS, [err[-800:] for _, err in results]
    assert len({out.strip() for out, _ in results}) == 1  # the one experiment, created by one, found by the others
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path}/store/mlflow.db")
    assert sorted(e.name for e in client.search_experiments()) == ["Default", "shared"]
