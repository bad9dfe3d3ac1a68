from __future__ import annotations

import json

import dagster as dg
from mlflow.tracking import MlflowClient

from cointrader_pipelines.defs.research.assets import (
    ResearchConfig,
    portfolio_sweep_results,
    position_sizing,
    strategy_sweep_results,
    symbol_comparison,
)
from cointrader_pipelines.resources.mlflow_tracker import MlflowResource
from cointrader_pipelines.resources.strategy import StrategyResource
from cointrader_pipelines.tracking.reports import RESEARCH_EXPERIMENT


def _invoke(asset, folder=None, partition_key=None, **inputs):
    """Run an asset body directly with a real context (MLflow store in `folder`), disposing the context after."""
    resources = {}
    if folder is not None:
        resources["mlflow"] = MlflowResource(
            tracking_uri=f"sqlite:///{folder / 'mlflow.db'}", artifact_root=str(folder / "artifacts")
        )
        resources["strategy"] = StrategyResource(leverage=10)  # position sizing takes the account leverage here
    with dg.build_asset_context(partition_key=partition_key, resources=resources) as context:
        return asset(context, **inputs)


def test_sweep_table_then_comparison_then_sizing(tmp_path, frames, mlflow_dir):
    config = ResearchConfig(workers=1, n_sims=500, out_dir=str(tmp_path / "research"))
    sweeps = {}
    for symbol, frame in frames.items():
        out = _invoke(strategy_sweep_results, partition_key=symbol, config=config, combined_15m=frame)
        sweeps[symbol] = out.value
        table = out.metadata["results"]
        assert len(table.records) == 324 == len(out.value.rows)
        first = table.records[0].data
        assert first["rank"] == 1 and set(first) >= {"atr_sl_mult", "profit_factor", "meets_min_trades"}
        assert out.metadata["top_20"].value.count("\n") == 21

    comparison = _invoke(symbol_comparison, mlflow_dir, config=config, strategy_sweep_results=sweeps)
    rows = comparison.value
    assert [r["symbol"] for r in rows] == ["XRPUSDT", "SOLUSDT"]
    for row in rows:
        best = next(r for r in sweeps[row["symbol"]].rows if r["meets_min_trades"])
        assert row["best_params"] == best["params"] and row["summary"]["total_trades"] >= 20
    assert len(comparison.metadata["comparison"].records) == 2
    html = open(comparison.metadata["html_page"].value).read()
    assert 'id="plot-comparison"' in html and "data:image/png;base64," in html

    sizing = _invoke(position_sizing, mlflow_dir, config=config, symbol_comparison=rows, combined_15m=frames)
    analyses = sizing.value["analyses"]
    assert set(analyses) | set(sizing.value["errors"]) == {"XRPUSDT", "SOLUSDT"} and analyses
    for symbol, analysis in analyses.items():
        best = next(r for r in rows if r["symbol"] == symbol)["best_params"]
        assert analysis["params"] == best and analysis["margin_hint"]["sl_mult"] == best["atr_sl_mult"]
        assert analysis["margin_hint"]["leverage"] == 10 and 0.005 <= analysis["recommended_risk"] <= 0.05
    stored = json.loads(open(sizing.metadata["json_file"].value).read())
    assert set(stored["analyses"]) == set(analyses)
    page = open(sizing.metadata["html_page"].value).read()
    assert all(f'id="plot-sizing-{s.lower()}"' in page for s in analyses)

    client = MlflowClient(tracking_uri=f"sqlite:///{mlflow_dir / 'mlflow.db'}", registry_uri=f"sqlite:///{mlflow_dir / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(RESEARCH_EXPERIMENT).experiment_id
    for out, kind in ((comparison, "symbol_comparison"), (sizing, "position_sizing")):
        run = client.get_run(out.metadata["mlflow_run_id"].value)
        assert run.info.experiment_id == experiment and run.data.tags["cointrader.kind"] == kind
        files = sorted(a.path.rsplit(".", 1)[1] for a in client.list_artifacts(run.info.run_id, f"research/{kind}"))
        assert files == ["html", "json"]


def test_symbol_without_a_qualifying_combination_is_explained(tmp_path, frames, mlflow_dir):
    config = ResearchConfig(workers=1, min_trades=10_000, out_dir=str(tmp_path / "research"))
    sweep = _invoke(strategy_sweep_results, partition_key="XRPUSDT", config=config, combined_15m=frames["XRPUSDT"]).value
    rows = _invoke(symbol_comparison, mlflow_dir, config=config, strategy_sweep_results={"XRPUSDT": sweep}).value
    assert rows[0]["best_params"] is None and rows[0]["reason"] == "no combination reached 10000 trades"
    sizing = _invoke(position_sizing, mlflow_dir, config=config, symbol_comparison=rows, combined_15m=frames)
    assert sizing.value == {"analyses": {}, "errors": {"XRPUSDT": "no combination reached 10000 trades"}}


def test_portfolio_sweep_ranks_the_shared_account(tmp_path, frames):
    """The sweep over all configured symbols on one account equals the CLI's portfolio sweep, row for row."""
    from trader_runtime.backtest.sweep import run_sweep
    from trader_runtime.config import BacktestConfig
    from trader_runtime.strategy.pipeline import prepare_market

    config = ResearchConfig(workers=1, out_dir=str(tmp_path / "research"))
    out = _invoke(portfolio_sweep_results, config=config, combined_15m=frames)
    assert out.value.symbols == ["SOLUSDT", "XRPUSDT"] and out.metadata["symbols"].value == "SOLUSDT, XRPUSDT"
    assert len(out.metadata["results"].records) == 324 == len(out.value.rows)
    markets = [prepare_market(frames[s], s) for s in ("SOLUSDT", "XRPUSDT")]
    direct = run_sweep(markets, BacktestConfig(symbol="SOLUSDT", symbols=("SOLUSDT", "XRPUSDT")),
                       config.walk_forward(), workers=1, progress=False)  # fmt: skip
    assert [r["params"] for r in out.value.rows] == [r["params"] for r in direct.rows]
    assert [r["summary"]["total_trades"] for r in out.value.rows] == [r["summary"]["total_trades"] for r in direct.rows]
    single = _invoke(strategy_sweep_results, partition_key="XRPUSDT", config=config, combined_15m=frames["XRPUSDT"])
    by_params = {str(r["params"]): r["summary"]["total_trades"] for r in single.value.rows}
    assert any(r["summary"]["total_trades"] != by_params[str(r["params"])] for r in out.value.rows)
