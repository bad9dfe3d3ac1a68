"""Root of the `cointrader` command. Each sub-command lives in its own module exposing `register(subparsers)`."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from typing import NoReturn

from trader_runtime.errors import ConfigError, DataError

#: sub-command modules; each defines `register(subparsers) -> None` and sets `func` on its parsers
COMMAND_MODULES = (
    "trader_runtime.cli.data",
    "trader_runtime.cli.backtest",
    "trader_runtime.cli.demo",
    "trader_runtime.cli.model",
    "trader_runtime.cli.ml",
    "trader_runtime.cli.report",
    "trader_runtime.cli.strategy",
    "trader_runtime.cli.trader",
)


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line (`error: ...`, exit 2) instead of usage + message."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {self.prog}: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
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
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)  # one line, whatever the message holds
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `cointrader trader status | head -1`: the reader left, nothing is wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
