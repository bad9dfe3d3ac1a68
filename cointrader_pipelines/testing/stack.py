"""A throw-away distributed profile on loopback (`deploy/stack/stack.py`), as the stack integration test and the
stack benchmark bring it up: its environment on free ports, the command that drives it, and its Dagster instance.

Works from a source checkout (the stack script lives in `deploy/`, beside the package).
"""

from __future__ import annotations

import os
import socket
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Mapping, Sequence

import dagster as dg

ROOT = Path(__file__).resolve().parents[2]
STACK_SCRIPT = ROOT / "deploy" / "stack" / "stack.py"
#: settings of this process that must not leak into the stack (it writes its own)
_OWN_PREFIXES = ("MLFLOW_", "DAGSTER_", "COINTRADER_", "SYMBOLS")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loopback_env(state: Path, symbols: Sequence[str], tuning_workers: int, **extra: str) -> dict[str, str]:
    """This process's environment without its own platform settings, plus a stack kept in `state` whose services
    listen on free loopback ports; `extra` adds settings (e.g. COINTRADER_SYNTHETIC_DAYS)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_PREFIXES)}
    env.update({
        "COINTRADER_STACK_DIR": str(state), "SYMBOLS": ",".join(symbols),
        "COINTRADER_STACK_PG_PORT": str(free_port()), "COINTRADER_STACK_REDIS_PORT": str(free_port()),
        "COINTRADER_STACK_MLFLOW_PORT": str(free_port()), "COINTRADER_STACK_UI_PORT": str(free_port()),
        "COINTRADER_STACK_CODE_PORT": str(free_port()), "COINTRADER_TUNING_WORKERS": str(tuning_workers), **extra,
    })  # fmt: skip
    return env


def stack_command(*args: str) -> list[str]:
    """`stack.py ARGS` with this interpreter (up, env, down, ...)."""
    return [sys.executable, str(STACK_SCRIPT), *args]


@contextmanager
def stack_instance(env: Mapping[str, str]) -> Iterator[dg.DagsterInstance]:
    """The profile's Dagster instance (PostgreSQL); its yaml reads the connection from the DAGSTER_* variables of
    `env`, which are set only while the instance is built."""
    saved = dict(os.environ)
    os.environ.update({k: v for k, v in env.items() if k.startswith("DAGSTER_")})
    try:
        instance = dg.DagsterInstance.from_config(env["DAGSTER_HOME"])
    finally:
        os.environ.clear()
        os.environ.update(saved)
    try:
        yield instance
    finally:
        instance.dispose()
