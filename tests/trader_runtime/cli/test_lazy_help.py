"""`cointrader --help` lists the commands without importing the heavy libraries; the table it uses stays in sync."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

from trader_runtime.cli import main as cli_main


def test_command_table_matches_what_the_modules_register():
    registered = {}
    for module in cli_main.COMMAND_MODULES:
        sub = argparse.ArgumentParser().add_subparsers(dest="command")
        importlib.import_module(module).register(sub)
        registered.update({a.dest: (module, a.help) for a in sub._choices_actions})
    assert registered == cli_main.COMMANDS


def test_help_imports_no_heavy_library():
    code = ("import sys, trader_runtime.cli.main as m\n"
            "try:\n    m.main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = sorted({'pandas', 'numpy', 'numba', 'duckdb', 'pydantic_settings', 'mlflow'} & set(sys.modules))\n"
            "print('HEAVY', heavy)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "HEAVY []" in out.stdout
    for name in cli_main.COMMANDS:
        assert name in out.stdout


def test_a_command_parses_with_only_its_module():
    argv = ["-v", "report", "weekly"]
    args = cli_main._parser_for(argv).parse_args(argv)
    assert args.command == "report" and callable(args.func)
