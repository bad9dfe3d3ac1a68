"""Fixtures of the fault suite: a fake Binance venue replaying the synthetic market, a journal in tmp_path, and
the real trading service (demo/live mode) pointed at the fake by base URLs. See `harness.py` for the mechanics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest

from tests.integration.faults.harness import TradingRun, build_run

MakeRun = Callable[..., TradingRun]


@pytest.fixture
def make_run(tmp_path: Path) -> Iterator[MakeRun]:
    """`make_run(**kw)` → a started `TradingRun` (see `harness.build_run` for the knobs); all are closed at teardown."""
    runs: list[TradingRun] = []

    def make(**kw: Any) -> TradingRun:
        run = build_run(tmp_path / f"run{len(runs)}", **kw)
        runs.append(run)
        return run

    yield make
    for run in runs:
        try:
            run.close()
        finally:
            run.fx.stop()


FAULTS_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A scenario that hangs fails after 3 minutes with every thread's stack (pytest-timeout), not at the 15-minute
    suite limit."""
    for item in items:
        if FAULTS_DIR in Path(str(item.fspath)).resolve().parents and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(180, method="thread"))
