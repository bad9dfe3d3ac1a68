"""Research assets (spec 20 §5-§6): the strategy sweep as a browsable table, the symbol comparison, and robust
Monte-Carlo position sizing. Each is one call into `reporting` plus files (strict JSON + a self-contained HTML page
with plots) logged to MLflow; the tables are attached as Dagster table metadata. Not part of the weekly job:
materialise them when a decision needs them (which symbols to trade, how much to risk)."""

import datetime as dt
from pathlib import Path
from typing import Any, Optional

import dagster as dg
import pandas as pd

from trader_runtime.backtest.serialization import to_jsonable, write_json
from trader_runtime.backtest.sweep import SweepResult, run_sweep
from trader_runtime.config import BacktestConfig, StrategyParams, WalkForwardConfig
from trader_runtime.errors import DataError
from trader_runtime.strategy.pipeline import prepare_market

from cointrader_pipelines.context_lineage import run_links
from cointrader_pipelines.defs.code_versions import code_version, strategy_code_version
from cointrader_pipelines.partitions import symbol_partitions
from cointrader_pipelines.reporting.compare import compare_symbols, comparison_markdown
from cointrader_pipelines.reporting.research_html import render_comparison_html, render_sizing_html
from cointrader_pipelines.reporting.sizing import SizingParams, sizing_for_market
from cointrader_pipelines.reporting.sweep_table import COLUMNS, display_value, sweep_markdown, sweep_records
from cointrader_pipelines.resources.mlflow_tracker import MlflowResource
from cointrader_pipelines.resources.strategy import StrategyResource
from cointrader_pipelines.tracking import reports
from cointrader_pipelines.tracking.asset_runs import asset_run
from cointrader_pipelines.tracking.lineage import bytes_digest

GROUP = "research"
ALL = dg.AllPartitionMapping()
MARKDOWN_ROWS = 20


class ResearchConfig(dg.Config):
    """Walk-forward geometry of the research backtests (train 3 / test 1 months, ML off) and where files go."""

    train_months: int = 3
    test_months: int = 1
    min_trades: int = 20
    workers: Optional[int] = None  # None = 1, more only when the sweep is long enough to pay for starting them
    n_sims: int = 10_000
    out_dir: Optional[str] = None  # None = results/research

    def walk_forward(self) -> WalkForwardConfig:
        return WalkForwardConfig(train_months=self.train_months, test_months=self.test_months)

    def folder(self) -> Path:
        return Path(self.out_dir or "results/research")


def table(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> dg.TableMetadataValue:
    """Rows as Dagster table metadata (∞ shown as text, floats rounded)."""
    kinds = {"symbol": "string", "meets_min_trades": "bool", "current": "bool", "rank": "int", "trades": "int"}
    schema = dg.TableSchema(columns=[dg.TableColumn(c, kinds.get(c, "float")) for c in columns])
    return dg.MetadataValue.table(
        [dg.TableRecord({c: display_value(r.get(c)) for c in columns}) for r in rows], schema=schema
    )


def _today() -> str:
    return dt.datetime.now(dt.timezone.utc).date().isoformat()


def _publish(context: dg.AssetExecutionContext, mlflow: MlflowResource, name: str, payload: Any, html: str,
             folder: Path, params: dict[str, Any], metrics: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    """Write `<name>_<date>.json/.html`, log both to MLflow; metadata links to the files and the run."""
    stamp = _today()
    json_path = write_json(folder / f"{name}_{stamp}.json", payload)
    html_path = folder / f"{name}_{stamp}.html"
    html_path.write_text(html, encoding="utf-8")
    digest = bytes_digest(json_path.read_bytes())
    with asset_run(context, mlflow, reports.RESEARCH_EXPERIMENT, digest, run_name=name) as run:
        reports.log_research(name, params, metrics, [json_path, html_path])
    return {"html_page": dg.MetadataValue.path(str(html_path.resolve())),
            "json_file": dg.MetadataValue.path(str(json_path.resolve())), **run_links(run)}  # fmt: skip


@dg.asset(partitions_def=symbol_partitions, group_name=GROUP, code_version=code_version(__file__), kinds={"numba"})
def strategy_sweep_results(context: dg.AssetExecutionContext, config: ResearchConfig,
                           combined_15m: pd.DataFrame) -> dg.Output[SweepResult]:  # fmt: skip
    """All 324 grid combinations walk-forward (ML off), ranked by profit factor (fewer than the
    minimum number of trades rank last); the whole table is in the metadata."""
    symbol = context.partition_key
    result = run_sweep(prepare_market(combined_15m, symbol), BacktestConfig(symbol=symbol), config.walk_forward(),
                       workers=config.workers, min_trades=config.min_trades, progress=False)  # fmt: skip
    rows = sweep_records(result.rows)
    best = next((r for r in result.rows if r["meets_min_trades"]), None)
    return dg.Output(result, metadata={
        "results": table(rows, COLUMNS),
        f"top_{MARKDOWN_ROWS}": dg.MetadataValue.md(sweep_markdown(rows[:MARKDOWN_ROWS])),
        "best_params": dg.MetadataValue.json(best["params"] if best else {}),
        "combinations": len(rows), "qualified": sum(r["meets_min_trades"] for r in rows), "folds": result.folds,
    })  # fmt: skip


@dg.asset(group_name=GROUP, code_version=code_version(__file__), kinds={"numba"},
          ins={"combined_15m": dg.AssetIn(partition_mapping=ALL)})  # fmt: skip
def portfolio_sweep_results(context: dg.AssetExecutionContext, config: ResearchConfig,
                            combined_15m: dict[str, pd.DataFrame]) -> dg.Output[SweepResult]:  # fmt: skip
    """All 324 grid combinations walk-forward (ML off) with every configured symbol trading on one shared
    account, as the trader runs them; ranked on the account's figures (its trades, equity, liquidations and
    funding). Combinations below the minimum number of trades rank last; the whole table is in the metadata."""
    symbols = sorted(combined_15m)
    if not symbols:
        raise DataError("the portfolio sweep needs market data for at least one symbol")
    markets = [prepare_market(combined_15m[s], s) for s in symbols]
    cfg = BacktestConfig(symbol=symbols[0], symbols=tuple(symbols) if len(symbols) > 1 else ())
    result = run_sweep(markets, cfg, config.walk_forward(), workers=config.workers, min_trades=config.min_trades,
                       progress=False)  # fmt: skip
    rows = sweep_records(result.rows)
    best = next((r for r in result.rows if r["meets_min_trades"]), None)
    context.log.info(f"portfolio sweep over {', '.join(symbols)}: {len(rows)} combinations, {result.folds} folds")
    return dg.Output(result, metadata={
        "symbols": ", ".join(symbols),
        "results": table(rows, COLUMNS),
        f"top_{MARKDOWN_ROWS}": dg.MetadataValue.md(sweep_markdown(rows[:MARKDOWN_ROWS])),
        "best_params": dg.MetadataValue.json(best["params"] if best else {}),
        "combinations": len(rows), "qualified": sum(r["meets_min_trades"] for r in rows), "folds": result.folds,
    })  # fmt: skip


@dg.asset(group_name=GROUP, code_version=code_version(__file__), kinds={"html", "mlflow"},
          ins={"strategy_sweep_results": dg.AssetIn(partition_mapping=ALL)})  # fmt: skip
def symbol_comparison(context: dg.AssetExecutionContext, config: ResearchConfig, mlflow: MlflowResource,
                      strategy_sweep_results: dict[str, SweepResult]) -> dg.Output[list]:  # fmt: skip
    """The best combination of every symbol side by side (a combination needs the minimum trade
    count to be "best")."""
    rows = to_jsonable(compare_symbols(strategy_sweep_results))
    flat = [{"symbol": r["symbol"], **(r["best_params"] or {}), **(r["summary"] or {})} for r in rows]
    columns = ("symbol", "atr_sl_mult", "atr_tp_mult", "signal_threshold", "adx_threshold", "volume_multiplier",
               "total_trades", "win_rate", "payoff_ratio", "max_consecutive_losses", "profit_factor", "return_pct",
               "max_drawdown_pct")  # fmt: skip
    html = render_comparison_html(rows, _today())
    metrics = {f"{r['symbol']}.profit_factor": r["summary"]["profit_factor"] for r in rows if r["summary"]}
    links = _publish(context, mlflow, "symbol_comparison", rows, html, config.folder(),
                     {"symbols": ",".join(r["symbol"] for r in rows), "min_trades": config.min_trades}, metrics)  # fmt: skip
    return dg.Output(rows, metadata={"comparison": table(flat, columns),
                                     "summary": dg.MetadataValue.md(comparison_markdown(rows)), **links})  # fmt: skip


@dg.asset(group_name=GROUP, code_version=strategy_code_version(__file__), kinds={"html", "mlflow"},
          ins={"combined_15m": dg.AssetIn(partition_mapping=ALL)})  # fmt: skip
def position_sizing(context: dg.AssetExecutionContext, config: ResearchConfig, mlflow: MlflowResource,
                    symbol_comparison: list, combined_15m: dict[str, pd.DataFrame],
                    strategy: StrategyResource) -> dg.Output[dict]:  # fmt: skip
    """Robust Monte-Carlo risk per trade for each symbol's best combination, with its own leverage and stop-loss."""
    leverage = strategy.leverage
    analyses: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for row in symbol_comparison:
        symbol = row["symbol"]
        if row["best_params"] is None or symbol not in combined_15m:
            errors[symbol] = row["reason"] or f"no market data for {symbol}"
            continue
        cfg = BacktestConfig(symbol=symbol, params=StrategyParams(**row["best_params"]), leverage=leverage)
        try:
            analyses[symbol] = to_jsonable(sizing_for_market(prepare_market(combined_15m[symbol], symbol), cfg,
                                                             config.walk_forward(), SizingParams(n_sims=config.n_sims)))  # fmt: skip
        except DataError as exc:
            errors[symbol] = str(exc)
    flat = [{"symbol": s, "recommended_risk_pct": a["recommended_risk"] * 100,
             "kelly_pct": a["kelly"]["observed"] * 100, "worst_case_kelly_pct": a["kelly"]["worst_case"] * 100,
             "trades": a["observed"]["trades"]} for s, a in analyses.items()]  # fmt: skip
    html = render_sizing_html(analyses, errors, _today())
    links = _publish(context, mlflow, "position_sizing", {"analyses": analyses, "errors": errors}, html,
                     config.folder(), {"n_sims": config.n_sims, "leverage": leverage},
                     {f"{r['symbol']}.recommended_risk_pct": r["recommended_risk_pct"] for r in flat})  # fmt: skip
    columns = ("symbol", "recommended_risk_pct", "kelly_pct", "worst_case_kelly_pct", "trades")
    return dg.Output({"analyses": analyses, "errors": errors},
                     metadata={"recommendations": table(flat, columns), "errors": dg.MetadataValue.json(errors), **links})
