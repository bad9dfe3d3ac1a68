"""One log format across the project's own logs, including the libraries that bring their own handler."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (INFO|WARNING) +[\w.]+: .+$")

SCRIPT = """
import logging
from trader_runtime.logs import configure_logging
configure_logging(logging.INFO)
import mlflow  # configures its own handler and format unless told not to
from trader_runtime.ml import tuning  # imports optuna, which adds its own handler on first use
import optuna
logging.getLogger("trader_runtime.service").info("service line")
logging.getLogger("mlflow.store.db.utils").warning("mlflow line")
optuna.logging.get_logger("optuna.study").warning("optuna line")
"""


def test_every_line_has_the_project_format(tmp_path: Path):
    proc = subprocess.run([sys.executable, "-c", SCRIPT], cwd=REPO, capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(tmp_path)})  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert [line.rsplit(": ", 1)[-1] for line in lines] == ["service line", "mlflow line", "optuna line"], lines
    for line in lines:
        assert LINE.match(line), line
