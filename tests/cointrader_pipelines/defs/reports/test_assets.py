from __future__ import annotations

import json

import dagster as dg
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from cointrader_pipelines.defs.reports.assets import WeeklyReportConfig, report_week, weekly_report
from cointrader_pipelines.reporting.weekly import load_latest_checklist
from cointrader_pipelines.resources.mlflow_tracker import MlflowResource
from cointrader_pipelines.resources.notifier import NotifierResource
from cointrader_pipelines.resources.strategy import StrategyResource
from cointrader_pipelines.resources.warehouse import WarehouseResource
from cointrader_pipelines.tracking.reports import WEEKLY_REPORT_EXPERIMENT
from trader_runtime.config import load_runtime_settings
from trader_runtime.errors import ConfigError
from fixtures.mlflow_store import fresh_store, mlflow_template  # noqa: F401  (fixture)


@pytest.fixture(autouse=True)
def _mlflow_store(tmp_path, mlflow_template) -> None:
    """The store `_resources` points at starts as a copy of an initialised one (no schema migrations per test)."""
    fresh_store(mlflow_template, tmp_path, "mlflow.db")


def _resources(tmp_path, warehouse_path, webhook_url: str = "") -> dict:
    return {
        "warehouse": WarehouseResource(path=str(warehouse_path)),
        "mlflow": MlflowResource(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}", artifact_root=str(tmp_path / "artifacts")),
        "notifier": NotifierResource(webhook_url=webhook_url),
        "strategy": StrategyResource.from_runtime(load_runtime_settings(), ["XRPUSDT"]),
    }


def _materialize(tmp_path, resources: dict, **config) -> dg.ExecuteInProcessResult:
    config = {"report_dir": str(tmp_path / "reports"), **config}
    return dg.materialize([weekly_report], resources=resources, instance=dg.DagsterInstance.ephemeral(),
                          run_config={"ops": {"weekly_report": {"config": config}}})  # fmt: skip


def test_weekly_report_materialises_files_mlflow_run_and_discord_summary(tmp_path, warehouse_path, journal_path, webhook):
    url, received = webhook
    result = _materialize(tmp_path, _resources(tmp_path, warehouse_path, url), journal_path=str(journal_path))
    assert result.success
    meta = result.asset_materializations_for_node("weekly_report")[0].metadata
    assert meta["report_date"].value == "2025-12-28"  # the latest week the synthetic market covers
    assert meta["live_trades_week"].value == 2 and meta["status"].value == "partial"  # first report: no trend yet
    html = meta["html_report"].value
    assert html.endswith("reports/report_2025-12-28.html") and "<!DOCTYPE html>" in open(html).read()
    data = json.loads(open(meta["json_report"].value).read())
    assert data["live"]["week"]["total_pnl"] == 15.0 and data["live"]["cumulative"]["total_trades"] == 3
    assert data["backtest"]["summary"]["total_trades"] == meta["total_trades"].value > 0

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}", registry_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    run = client.get_run(meta["mlflow_run_id"].value)
    assert run.data.params["report_date"] == "2025-12-28"
    assert run.data.metrics["live_week.total_trades"] == 2.0
    assert run.data.tags["dagster.asset_key"] == "weekly_report"
    assert run.info.experiment_id == client.get_experiment_by_name(WEEKLY_REPORT_EXPERIMENT).experiment_id
    artifacts = sorted(a.path for a in client.list_artifacts(run.info.run_id, "report"))
    assert artifacts == ["report/report_2025-12-28.html", "report/report_2025-12-28.json"]
    assert meta["mlflow_run_url"].value.endswith(run.info.run_id)

    assert meta["discord_sent"].value is True and len(received) == 1
    text = received[0]["content"]
    assert text.startswith("📊 **Weekly strategy report (2025-12-28)**") and run.info.run_id in text

    checklist = load_latest_checklist(tmp_path / "reports")
    assert checklist["cumulative_trades"] == 3 and checklist["recommend"] is False


def test_missing_journal_and_explicit_week_give_a_partial_report(tmp_path, warehouse_path):
    result = _materialize(tmp_path, _resources(tmp_path, warehouse_path), journal_path=str(tmp_path / "none.sqlite"),
                          report_date="2025-12-14", sweep=False, notify=False)  # fmt: skip
    meta = result.asset_materializations_for_node("weekly_report")[0].metadata
    assert meta["report_date"].value == "2025-12-14" and meta["status"].value == "partial"
    assert "does not exist" in meta["issues"].value and meta["live_trades_week"].value is None
    assert meta["discord_sent"].value is False


def test_empty_warehouse_gives_a_partial_report_not_a_failure(tmp_path):
    result = _materialize(tmp_path, _resources(tmp_path, tmp_path / "empty.duckdb"), report_date="2025-12-28",
                          journal_path=str(tmp_path / "none.sqlite"), notify=False)  # fmt: skip
    meta = result.asset_materializations_for_node("weekly_report")[0].metadata
    assert meta["status"].value == "partial" and meta["total_trades"].value is None
    assert "no candles closed before" in meta["issues"].value


def test_report_week_resolution():
    frame = pd.DataFrame(index=pd.date_range("2025-12-01", "2025-12-31 23:45", freq="15min", tz="UTC"))
    now = pd.Timestamp("2026-06-01", tz="UTC")
    assert report_week(WeeklyReportConfig(), {"XRPUSDT": frame}, now).report_date.isoformat() == "2025-12-28"
    assert report_week(WeeklyReportConfig(report_date="2025-12-07"), {}, now).end == pd.Timestamp("2025-12-06 18:00", tz="UTC")
    with pytest.raises(ConfigError, match="report_date"):
        report_week(WeeklyReportConfig(report_date="28.12.2025"), {}, now)


@pytest.mark.parametrize("report_date", ["2025-12-14", None])
def test_the_cli_and_the_asset_report_the_same_week_from_the_same_data(tmp_path, warehouse_path, report_date, capsys):
    """Both ask `resolve_report_window` for the week and read the same market (here: one warehouse)."""
    from trader_runtime.cli.main import main

    none = str(tmp_path / "none.sqlite")
    dated = {"report_date": report_date} if report_date else {}
    result = _materialize(tmp_path, _resources(tmp_path, warehouse_path), journal_path=none, sweep=False,
                          notify=False, **dated)  # fmt: skip
    asset = json.loads(open(result.asset_materializations_for_node("weekly_report")[0].metadata["json_report"].value).read())
    cli_out = tmp_path / "cli"
    argv = ["report", "weekly", "--warehouse", str(warehouse_path), "--journal", none, "--out", str(cli_out), "--no-sweep"]
    assert main(argv + (["--date", report_date] if report_date else [])) == 0
    capsys.readouterr()
    cli = json.loads((cli_out / f"report_{asset['report_date']}.json").read_text())
    assert asset["report_date"] == cli["report_date"] == (report_date or "2025-12-28")
    assert asset["week"] == cli["week"] and asset["config"] == cli["config"]
    assert asset["backtest"]["per_symbol"]["XRPUSDT"]["data"] == cli["backtest"]["per_symbol"]["XRPUSDT"]["data"]
    assert asset["backtest"]["summary"] == cli["backtest"]["summary"]
    assert asset["backtest"]["summary"]["total_trades"] > 0


def test_without_a_warehouse_the_cli_uses_the_pipelines_synthetic_market(tmp_path, monkeypatch, capsys):
    """The default market is the one the pipelines would store (COINTRADER_SYNTHETIC_DAYS/SEED), not another."""
    from cointrader_pipelines.settings import get_settings
    from trader_runtime.cli.main import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COINTRADER_SYNTHETIC_DAYS", "200")
    monkeypatch.setenv("COINTRADER_SYNTHETIC_SEED", "7")
    get_settings.cache_clear()
    assert main(["report", "weekly", "--journal", "none.sqlite", "--out", "cli", "--no-sweep", "--date", "2025-12-14"]) == 0
    assert main(["report", "weekly", "--journal", "none.sqlite", "--out", "explicit", "--no-sweep",
                 "--date", "2025-12-14", "--days", "200", "--seed", "7"]) == 0  # fmt: skip
    capsys.readouterr()
    get_settings.cache_clear()  # later tests read their own environment
    default = json.loads((tmp_path / "cli" / "report_2025-12-14.json").read_text())
    explicit = json.loads((tmp_path / "explicit" / "report_2025-12-14.json").read_text())
    assert default["backtest"]["summary"] == explicit["backtest"]["summary"]
    assert default["backtest"]["per_symbol"]["XRPUSDT"]["data"]["rows"] > 0
