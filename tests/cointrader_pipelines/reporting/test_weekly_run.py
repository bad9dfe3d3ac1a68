from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from cointrader_pipelines.reporting.weekly import build_weekly_report, report_window
from cointrader_pipelines.reporting.weekly_run import (
    default_journal_path,
    load_live_trades,
    prepare_weekly_inputs,
    publish_weekly_report,
)
from trader_runtime.config import PRODUCTION_PARAMS, RuntimeSettings


def test_default_journal_follows_the_trader(monkeypatch):
    monkeypatch.delenv("COINTRADER_JOURNAL", raising=False)
    monkeypatch.setenv("COINTRADER_MODE", "paper")
    assert default_journal_path(RuntimeSettings(_env_file=None)) == Path("journal/trader-paper.sqlite")
    monkeypatch.setenv("COINTRADER_JOURNAL", "/srv/j.sqlite")
    assert default_journal_path(RuntimeSettings(_env_file=None)) == Path("/srv/j.sqlite")


def test_load_live_trades_reports_why_it_has_none(tmp_path):
    assert load_live_trades(None) == (None, "no runtime journal is configured (COINTRADER_JOURNAL)")
    trades, error = load_live_trades(tmp_path / "none.sqlite")
    assert trades is None and "does not exist" in error


def test_inputs_read_previous_reports_before_the_date_and_files_are_published(tmp_path, synthetic, make_journal,
                                                                               known_trades, report_date):  # fmt: skip
    out = tmp_path / "reports"
    out.mkdir()
    for date, pf in (("2025-12-21", 1.2), ("2025-12-28", 9.9), ("2026-01-04", 0.1)):
        (out / f"report_{date}.json").write_text(json.dumps({"report_date": date, "backtest": {"summary": {"profit_factor": pf}}}))
    window = report_window(report_date)
    journal = make_journal(known_trades)
    inputs = prepare_weekly_inputs(window, {"XRPUSDT": synthetic.combined}, {"XRPUSDT": PRODUCTION_PARAMS}, out,
                                   journal, sweep=False)  # fmt: skip
    assert [r["report_date"] for r in inputs.previous_reports] == ["2025-12-21"]
    assert inputs.live_trades is not None and inputs.live_source == f"runtime journal {journal}" and not inputs.sweep
    report = build_weekly_report(inputs, pd.Timestamp("2025-12-28", tz="UTC"))
    outputs = publish_weekly_report(report, out, link="https://mlflow.invalid/run/1")
    assert outputs.json_path == out / "report_2025-12-28.json" and outputs.html_path == out / "report_2025-12-28.html"
    assert json.loads(outputs.json_path.read_text())["trend"]["points"][0]["profit_factor"] == 1.2
    assert outputs.html_path.read_text().startswith("<!DOCTYPE html>")
    assert outputs.summary_text.endswith("Full report: https://mlflow.invalid/run/1")
    assert sorted(p.name for p in out.iterdir() if p.name.endswith(".tmp")) == []
