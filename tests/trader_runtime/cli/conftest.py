"""Run `cointrader` in-process with only the `data` command group registered (other groups have their own tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from trader_runtime.cli import main as cli_main


@pytest.fixture()
def real_xrp_path() -> Path:
    """The shipped XRP file beside the repository (may be absent; callers fall back to synthetic data)."""
    return Path(__file__).resolve().parents[4] / "shared" / "data" / "binance-um-15m" / "xrpusdt_combined_15m.parquet"


@pytest.fixture()
def run_cli(monkeypatch):
    monkeypatch.setattr(cli_main, "COMMAND_MODULES", ("trader_runtime.cli.data",))

    def run(*argv: str) -> int:
        return cli_main.main([str(a) for a in argv])

    return run
