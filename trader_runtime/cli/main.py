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


#: the top-level commands with their module and one-line help, so `cointrader --help` (and a command's own run)
#: imports only what it needs — the command modules pull in pandas, numba, DuckDB and pydantic (about 2 CPU-s);
#: a test keeps this table equal to what the modules register
COMMANDS: dict[str, tuple[str, str]] = {
    "data": ("trader_runtime.cli.data", "import, synthesise and check 15m market data"),
    "backtest": ("trader_runtime.cli.backtest", "backtest the rule strategy (single run or walk-forward)"),
    "sweep": ("trader_runtime.cli.backtest",
              "sweep a strategy's parameter grid (weighted signal: 324 combinations walk-forward; MTF pullback: 162)"),
    "demo": ("trader_runtime.cli.demo",
             "run the whole pipeline (data -> dataset -> training -> ONNX -> MLflow registry) offline"),
    "model": ("trader_runtime.cli.model", "list, promote or roll back filter-model versions in the MLflow registry"),
    "ml": ("trader_runtime.cli.ml", "research the ML entry filter"),
    "report": ("trader_runtime.cli.report", "weekly strategy report"),
    "strategy": ("trader_runtime.cli.strategy",
                 "list the strategies and check one for look-ahead and warm-up effects"),
    "trader": ("trader_runtime.cli.trader", "the always-on trading service (replay, paper, demo, live)"),
}


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line (`error: ...`, exit 2) instead of usage + message."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {self.prog}: {message} (see --help)\n")


def build_parser(modules: tuple[str, ...] | None = None) -> argparse.ArgumentParser:
    """The full parser (every command module, or just `modules`)."""
    parser, sub = _root()
    for name in COMMAND_MODULES if modules is None else modules:
        importlib.import_module(name).register(sub)
    return parser


def _listing_parser() -> argparse.ArgumentParser:
    """Root parser whose commands are placeholders from `COMMANDS`: enough for --help and for naming a bad command."""
    parser, sub = _root()
    for name, (_module, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text)
    return parser


def _parser_for(argv: list[str]) -> argparse.ArgumentParser:
    """Import only the module of the command named in `argv`; the listing parser when there is none."""
    if not set(COMMAND_MODULES) <= {module for module, _ in COMMANDS.values()}:
        return build_parser()  # a command module the table does not know yet: build everything
    command = next((a for a in argv if not a.startswith("-")), None)
    entry = COMMANDS.get(command or "")
    if entry is not None and entry[0] in COMMAND_MODULES:
        return build_parser((entry[0],))
    return _listing_parser()


def _root() -> tuple[argparse.ArgumentParser, argparse._SubParsersAction]:
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
    return parser, sub


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = _parser_for(argv)
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
