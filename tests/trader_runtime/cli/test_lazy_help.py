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


def test_the_pipeline_commands_come_through_the_entry_points():
    """pyproject.toml declares them; `pip install -e .` (make setup) puts them in the installed metadata."""
    import tomllib
    from pathlib import Path

    declared = tomllib.loads((Path(__file__).parents[3] / "pyproject.toml").read_text())
    points = declared["project"]["entry-points"][cli_main.PLUGIN_GROUP]
    assert set(points) == set(cli_main.PIPELINE_COMMANDS)
    installed = cli_main.plugin_commands()
    assert set(installed) == set(points), "entry points missing: run `make setup` (pip install -e .) again"
    for name, register in installed.items():
        sub = argparse.ArgumentParser().add_subparsers(dest="command")
        register(sub)
        assert {a.dest: a.help for a in sub._choices_actions} == {name: cli_main.PIPELINE_COMMANDS[name]}


def test_without_the_pipelines_their_commands_say_so_in_one_line():
    code = ("import sys; sys.modules['cointrader_pipelines'] = None  # as on a host without the package\n"
            "import trader_runtime.cli.main as m\n"
            "sys.exit(m.main(sys.argv[1:]))\n")
    for argv in (["demo"], ["report", "weekly", "--date", "2025-12-28"], ["-v", "model", "--help"]):
        out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=120)
        assert out.returncode == 2 and out.stdout == ""
        assert out.stderr.count("\n") == 1 and "needs the pipelines package" in out.stderr
    listing = subprocess.run([sys.executable, "-c", code, "--help"], capture_output=True, text=True, timeout=120)
    assert listing.returncode == 0 and "trader" in listing.stdout and "report" in listing.stdout


def test_help_imports_no_heavy_library():
    code = ("import sys, trader_runtime.cli.main as m\n"
            "try:\n    m.main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = sorted({'pandas', 'numpy', 'numba', 'duckdb', 'pydantic_settings', 'mlflow', 'importlib.metadata',\n"
            "                'cointrader_pipelines'} & set(sys.modules))\n"
            "print('HEAVY', heavy)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "HEAVY []" in out.stdout
    for name in (*cli_main.COMMANDS, *cli_main.PIPELINE_COMMANDS):
        assert name in out.stdout


def test_a_command_parses_with_only_its_module():
    argv = ["-v", "report", "weekly"]
    args = cli_main._parser_for(argv).parse_args(argv)
    assert args.command == "report" and callable(args.func)
