"""`cointrader report weekly` (cointrader_pipelines/cli/report.py). Kept beside the reporting tests it drives."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from trader_runtime.cli.main import main


def test_the_report_command_module_is_light():
    """`cointrader --help` registers this module; it must not pull in Dagster, MLflow or pandas."""
    code = (
        "import sys, argparse, cointrader_pipelines.cli.report as r\n"
        "r.register(argparse.ArgumentParser().add_subparsers())\n"
        "print(sorted(n for n in ('dagster', 'mlflow', 'pandas') if n in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_weekly_report_on_the_synthetic_market_with_a_journal(tmp_path, make_journal, known_trades, capsys):
    journal = make_journal(known_trades)
    code = main(["report", "weekly", "--days", "200", "--seed", "7", "--out", str(tmp_path / "out"),
                 "--journal", str(journal), "--date", "2025-12-28", "--no-sweep"])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0
    assert "📊 **Weekly strategy report (2025-12-28)**" in printed
    assert "3 trades | net +12.00 USDT | win rate 33.3% | cumulative 5" in printed
    data = json.loads((tmp_path / "out" / "report_2025-12-28.json").read_text())
    assert data["schema_version"] == 1 and data["sweep"]["reason"] == "parameter sweep disabled for this run"
    assert data["live"]["source"] == f"runtime journal {journal}"
    assert (tmp_path / "out" / "report_2025-12-28.html").read_text().startswith("<!DOCTYPE html>")


def test_default_date_is_the_latest_week_the_data_covers(tmp_path, capsys):
    code = main(["report", "weekly", "--days", "120", "--seed", "3", "--out", str(tmp_path), "--no-sweep",
                 "--journal", str(tmp_path / "none.sqlite")])  # fmt: skip
    assert code == 0 and "(2025-12-28)" in capsys.readouterr().out  # synthetic data ends 2026-01-01 00:00 UTC


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--data", "missing.parquet"], "not found"),
        (["--data", "a.parquet", "--warehouse", "w.duckdb"], "alternatives"),
        (["--warehouse", "missing.duckdb"], "does not exist"),
        (["--symbol", "not a symbol!"], "not a valid ticker"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, extra, message):
    out = tmp_path / "out"
    assert main(["report", "weekly", "--out", str(out), *extra]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_real_xrp_year(tmp_path, xrp_real, capsys):
    data_file = tmp_path / "xrp.parquet"
    xrp_real.to_parquet(data_file)
    code = main(["report", "weekly", "--data", str(data_file), "--production-params", "--out", str(tmp_path / "out"),
                 "--journal", str(tmp_path / "none.sqlite"), "--no-sweep"])  # fmt: skip
    assert code == 0 and "(2026-03-15)" in capsys.readouterr().out
    report = json.loads((tmp_path / "out" / "report_2026-03-15.json").read_text())
    assert report["config"]["params"]["XRPUSDT"] == {"atr_sl_mult": 1.5, "atr_tp_mult": 4.0, "signal_threshold": 3,
                                                      "adx_threshold": 25.0, "volume_multiplier": 2.5}  # fmt: skip
    assert report["backtest"]["per_symbol"]["XRPUSDT"]["data"]["last_time"] == "2026-03-14T17:45:00+00:00"
    assert len(report["backtest"]["per_symbol"]["XRPUSDT"]["folds"]) == 9
