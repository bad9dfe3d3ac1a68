"""`cointrader demo` argument handling; the full run is tests/cointrader_pipelines/test_demo.py."""

from __future__ import annotations

import subprocess
import sys

import pytest

from trader_runtime.cli.main import main


@pytest.mark.parametrize("argv, message", [
    (["demo", "--days", "30"], "--days=30"),
    (["demo", "--trials", "0"], "--trials=0"),
    # the default market ends 2026-01-01: 2 + 1 calendar months from the first candle need 93 days, 3 + 1 need 123
    (["demo", "--days", "92"], "needs --days 93 or more"),
    (["demo", "--days", "122", "--train-months", "3"], "needs --days 123 or more"),
])
def test_bad_options_are_refused_before_anything_runs(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # no instance, warehouse or MLflow store was created


def test_the_pipeline_command_modules_import_neither_dagster_nor_mlflow():
    code = ("import sys, trader_runtime.cli.main as m; m.build_parser(); "
            "assert {'demo', 'model', 'report'} <= set(m.plugin_commands()); "
            "print(sorted(x for x in ('dagster', 'mlflow') if x in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
