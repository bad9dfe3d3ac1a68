"""MTF pullback research assets (group `research`, on demand): the parameter sweep over the documented grid and
a walk-forward evaluation that picks parameters on each training period and trades them on the next test months.
Each asset is one call into `trader_runtime.strategy.mtf_pullback.research`; the tables go to the metadata."""

from typing import Any

import dagster as dg
import pandas as pd

from trader_runtime.config import WalkForwardConfig
from trader_runtime.strategy.mtf_pullback import prepare_mtf
from trader_runtime.strategy.mtf_pullback.params import SWEEP_GRID
from trader_runtime.strategy.mtf_pullback.research import (
    MTFSweepResult,
    MTFWalkForward,
    run_mtf_sweep,
    run_mtf_walk_forward,
)

from cointrader_pipelines.defs.code_versions import code_version
from cointrader_pipelines.partitions import symbol_partitions
from cointrader_pipelines.reporting.sweep_table import display_value

GROUP = "research"
SWEEP_COLUMNS = ("rank", "sl_mult", "tp_mult", "adx_threshold", "dry_ratio", "trigger_ema", "trades", "win_rate",
                 "profit_factor", "pnl_bps", "max_dd_bps")  # fmt: skip
FOLD_COLUMNS = ("fold", "test_start", "sl_mult", "tp_mult", "adx_threshold", "dry_ratio", "trigger_ema",
                "train_pf", "test_trades", "test_pf", "test_bps", "default_pf", "default_bps")  # fmt: skip
TEXT = {"test_start"}
INTS = {"rank", "trades", "fold", "trigger_ema", "test_trades"}


class MTFResearchConfig(dg.Config):
    """Walk-forward geometry in calendar months and the minimum trades for a combination to rank first."""

    train_months: int = 3
    test_months: int = 1
    min_trades: int = 20
    fold_min_trades: int = 10


def _table(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> dg.TableMetadataValue:
    def kind(c: str) -> str:
        return "string" if c in TEXT else "int" if c in INTS else "float"

    schema = dg.TableSchema(columns=[dg.TableColumn(c, kind(c)) for c in columns])
    return dg.MetadataValue.table([dg.TableRecord({c: display_value(r.get(c)) for c in columns}) for r in rows], schema=schema)


def sweep_rows(result: MTFSweepResult) -> list[dict[str, Any]]:
    return [{"rank": r["rank"], **{k: r["params"][k] for k in SWEEP_GRID}, **r["summary"]} for r in result.rows]


def fold_rows(result: MTFWalkForward) -> list[dict[str, Any]]:
    return [
        {"fold": f.fold, "test_start": f"{f.test_start:%Y-%m-%d}", **{k: f.chosen[k] for k in SWEEP_GRID},
         "train_pf": f.train["profit_factor"], "test_trades": f.test["trades"], "test_pf": f.test["profit_factor"],
         "test_bps": f.test["pnl_bps"], "default_pf": f.default_test["profit_factor"], "default_bps": f.default_test["pnl_bps"]}
        for f in result.folds
    ]  # fmt: skip


@dg.asset(partitions_def=symbol_partitions, group_name=GROUP, code_version=code_version(__file__), kinds={"numba"})
def mtf_sweep_results(context: dg.AssetExecutionContext, config: MTFResearchConfig,
                      combined_15m: pd.DataFrame) -> dg.Output[MTFSweepResult]:  # fmt: skip
    """Every combination of the MTF pullback grid (stop, target, ADX, dry-volume ratio, trigger EMA; 162 in
    all) over the whole history after the warm-up, ranked by profit factor in basis points per unit traded."""
    market = prepare_mtf(combined_15m, context.partition_key)
    result = run_mtf_sweep(market, min_trades=config.min_trades)
    rows = sweep_rows(result)
    best = result.best()
    return dg.Output(result, metadata={
        "results": _table(rows, SWEEP_COLUMNS), "combinations": len(rows),
        "qualified": sum(r["meets_min_trades"] for r in result.rows),
        "best_params": dg.MetadataValue.json(best["params"] if best else {}),
        "best_profit_factor": display_value(best["summary"]["profit_factor"]) if best else None,
    })  # fmt: skip


@dg.asset(partitions_def=symbol_partitions, group_name=GROUP, code_version=code_version(__file__), kinds={"numba"})
def mtf_walk_forward(context: dg.AssetExecutionContext, config: MTFResearchConfig,
                     combined_15m: pd.DataFrame) -> dg.Output[MTFWalkForward]:  # fmt: skip
    """Walk-forward evaluation of the MTF pullback: in each fold the best grid combination of the training
    months trades the following test months, next to the default parameters on the same months."""
    market = prepare_mtf(combined_15m, context.partition_key)
    wf = WalkForwardConfig(train_months=config.train_months, test_months=config.test_months)
    result = run_mtf_walk_forward(market, wf, min_trades=config.fold_min_trades)
    return dg.Output(result, metadata={
        "folds": _table(fold_rows(result), FOLD_COLUMNS), "fold_count": len(result.folds),
        "chosen_params_pf": display_value(result.chosen_summary["profit_factor"]),
        "chosen_params_bps": result.chosen_summary["pnl_bps"],
        "default_params_pf": display_value(result.default_summary["profit_factor"]),
        "default_params_bps": result.default_summary["pnl_bps"],
        "test_trades": result.chosen_summary["trades"],
    })  # fmt: skip
