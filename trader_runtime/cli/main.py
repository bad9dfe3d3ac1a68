"""Root of the `cointrader` command. Each sub-command lives in its own module exposing `register(subparsers)`."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from trader_runtime.errors import ConfigError, DataError

#: sub-command modules; each defines `register(subparsers) -> None` and sets `func` on its parsers
COMMAND_MODULES = (
    "trader_runtime.cli.data",
    "trader_runtime.cli.backtest",
    "trader_runtime.cli.demo",
    "trader_runtime.cli.model",
    "trader_runtime.cli.report",
    "trader_runtime.cli.trader",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cointrader",
        description=(
            "CoinTrader Platform: research, backtest and trade a Binance USD-M futures strategy. "
            "Everything runs offline on a deterministic synthetic market unless you point it at real data."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from trader_runtime.logs import configure_logging

    configure_logging(logging.DEBUG if args.verbose else logging.INFO)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (ConfigError, DataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
