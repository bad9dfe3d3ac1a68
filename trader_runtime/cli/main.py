"""Root of the `cointrader` command. Each sub-command lives in its own module exposing `register(subparsers)`.

The runtime's own commands are listed below. Other installed packages (the Dagster pipelines: `demo`, `model`,
`report`) add theirs through the `cointrader.commands` entry point group, so this package names none of their
modules and runs alone on a trading host where they are not installed.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import logging
import os
import sys
from collections.abc import Callable
from typing import NoReturn

from trader_runtime.errors import ConfigError, DataError, ModelUnavailable

#: sub-command modules; each defines `register(subparsers) -> None` and sets `func` on its parsers
COMMAND_MODULES = (
    "trader_runtime.cli.data",
    "trader_runtime.cli.backtest",
    "trader_runtime.cli.ml",
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
    "ml": ("trader_runtime.cli.ml", "research the ML entry filter"),
    "strategy": ("trader_runtime.cli.strategy",
                 "list the strategies and check one for look-ahead and warm-up effects"),
    "trader": ("trader_runtime.cli.trader", "the always-on trading service (replay, paper, demo, live)"),
}


#: entry point group of commands other packages add; each entry point names a `register(subparsers)` function
PLUGIN_GROUP = "cointrader.commands"

#: commands the pipelines package adds, with their one-line help as they register it (a test keeps the two equal):
#: `cointrader --help` lists them without reading the installed metadata, and without the package they say so
PIPELINE_COMMANDS: dict[str, str] = {
    "demo": "run the whole pipeline (data -> dataset -> training -> ONNX -> MLflow registry) offline",
    "model": "list, promote or roll back filter-model versions in the MLflow registry",
    "report": "weekly strategy report",
}
NOT_INSTALLED = "needs the pipelines package (cointrader-platform with its Dagster code location), not installed here"


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line (`error: ...`, exit 2) instead of usage + message."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {self.prog}: {message} (see --help)\n")


def build_parser(modules: tuple[str, ...] | None = None) -> argparse.ArgumentParser:
    """The full parser (every command module and installed plugin command, or just `modules`)."""
    parser, sub = _root()
    for name in COMMAND_MODULES if modules is None else modules:
        importlib.import_module(name).register(sub)
    if modules is None:
        for command, register in plugin_commands().items():
            _register_plugin(sub, command, register)
    return parser


@functools.cache
def plugin_commands() -> dict[str, Callable[[argparse._SubParsersAction], None] | None]:
    """Commands other installed packages declare under `PLUGIN_GROUP`: name -> register function (None when its
    module cannot be imported). Read from the installed metadata; importing the modules is cheap by contract."""
    from importlib.metadata import entry_points

    found: dict[str, Callable[[argparse._SubParsersAction], None] | None] = {}
    for point in entry_points(group=PLUGIN_GROUP):
        if point.name in COMMANDS:
            continue  # the runtime's own command wins over a plugin of the same name
        try:
            found[point.name] = point.load()
        except ImportError:
            found[point.name] = None
    return found


def _register_plugin(sub: argparse._SubParsersAction, command: str,
                     register: Callable[[argparse._SubParsersAction], None] | None) -> None:
    if register is None:
        sub.add_parser(command, help=NOT_INSTALLED)  # listed only; main() refuses it before parsing
    else:
        register(sub)


def _listing_parser() -> argparse.ArgumentParser:
    """Root parser whose commands are placeholders from `COMMANDS` and `PIPELINE_COMMANDS`: enough for --help and
    for naming a bad command, with no command module imported and no entry point looked up."""
    parser, sub = _root()
    for name, (_module, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text)
    for name, help_text in PIPELINE_COMMANDS.items():
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
    if command is not None and command not in COMMANDS:
        register = plugin_commands().get(command)
        if register is not None:
            parser, sub = _root()
            register(sub)
            return parser
    return _listing_parser()


def _missing_plugin(argv: list[str]) -> str | None:
    """The pipeline command named in `argv` when its package is not installed (None otherwise)."""
    command = next((a for a in argv if not a.startswith("-")), None)
    if command in PIPELINE_COMMANDS and command not in COMMANDS and plugin_commands().get(command) is None:
        return command
    return None


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
    missing = _missing_plugin(argv)
    if missing is not None:
        print(f"error: cointrader {missing} {NOT_INSTALLED}", file=sys.stderr)
        return 2
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
    except ModelUnavailable as exc:  # not bad input: a model could not be built, exported or served
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `cointrader trader status | head -1`: the reader left, nothing is wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
