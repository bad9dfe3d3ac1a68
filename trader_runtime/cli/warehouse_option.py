"""The `--warehouse` option of the `data` commands: one help text and one resolution (the flag, else
COINTRADER_WAREHOUSE or the default), checked before anything is written. Light imports: it is read for --help."""

from __future__ import annotations

import argparse
from pathlib import Path

from trader_runtime.cli import validation as check

HELP = "DuckDB warehouse file (default: $COINTRADER_WAREHOUSE or warehouse/market.duckdb)"


def add_warehouse_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--warehouse", type=Path, help=HELP)


def warehouse_path(args: argparse.Namespace, *, must_exist: bool) -> Path:
    """The checked warehouse file; an error names where the path came from (the flag or the setting)."""
    if args.warehouse is not None:
        return check.warehouse("--warehouse", Path(args.warehouse), must_exist=must_exist)
    from trader_runtime.config import load_runtime_settings

    return check.warehouse("COINTRADER_WAREHOUSE", load_runtime_settings().warehouse_path, must_exist=must_exist)
