"""The distributed profile brought up for real (PostgreSQL, Redis, MLflow server, Dagster daemon, two Celery
workers) on free loopback ports in a throw-away folder, and torn down afterwards.

Needs the Debian packages postgresql and redis-server (`.ci/run` installs them) and the `[stack]` extra. Without
them the tests skip on a developer machine and FAIL under CI=true, where they must run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from cointrader_pipelines.testing.stack import ROOT, loopback_env, stack_command

PG_BINS = [Path(os.environ["COINTRADER_PG_BIN"])] if os.environ.get("COINTRADER_PG_BIN") else \
    sorted(Path("/usr/lib/postgresql").glob("*/bin"))
SYMBOLS = ("XRPUSDT", "DOGEUSDT", "SOLUSDT")
SYNTHETIC_DAYS = "150"


def _missing() -> list[str]:
    missing = [] if any((b / "initdb").exists() for b in PG_BINS) else ["postgresql"]
    missing += [] if shutil.which("redis-server") else ["redis-server"]
    for module in ("dagster_celery", "dagster_postgres", "psycopg2"):
        try:
            __import__(module)
        except ImportError:
            missing.append(f"python module {module} (pip install -e '.[stack]')")
    return missing


@dataclass
class Stack:
    state: Path
    env: dict[str, str]  # the profile's environment (secrets included: never print it)

    def ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(stack_command(*args), env=self.env, cwd=ROOT, capture_output=True, text=True,
                              check=check, timeout=600)


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    missing = _missing()
    if missing:
        message = "the distributed profile needs " + ", ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    # /var/tmp, not pytest's 0700 tmp: the database runs as the `postgres` user when we are root
    state = Path(tempfile.mkdtemp(prefix="cointrader-stack-", dir="/var/tmp"))
    state.chmod(0o711)
    base = loopback_env(state, SYMBOLS, tuning_workers=2, COINTRADER_SYNTHETIC_DAYS=SYNTHETIC_DAYS)
    handle = Stack(state, base)
    try:
        up = handle.ctl("up", "--workers", "2", check=False)
        if up.returncode != 0:
            pytest.fail(f"stack up failed: {up.stderr.strip() or up.stdout.strip()}\n{_logs(state)}")
        handle.env = {**base, **json.loads(handle.ctl("env").stdout)}
        yield handle
    finally:
        handle.ctl("down", check=False)
        if os.environ.get("COINTRADER_STACK_KEEP"):  # keep the logs and stores for a look after a failure
            print(f"stack state kept in {state}")
        else:
            shutil.rmtree(state, ignore_errors=True)


def _logs(state: Path) -> str:
    out = []
    for log in sorted((state / "log").glob("*.log")):
        out.append(f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-15:]))
    return "\n".join(out)
