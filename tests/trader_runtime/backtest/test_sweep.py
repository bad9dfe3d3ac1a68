"""Strategy sweep: grid, BT-19 ranking, and equality with individual walk-forward runs."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from trader_runtime.backtest.rules import EngineRules
from trader_runtime.backtest.sweep import (
    CURRENT,
    PARAM_GRID,
    POOL_MIN_SERIAL_S,
    grid_combinations,
    pick_workers,
    rank_rows,
    run_sweep,
)
from trader_runtime.backtest.walk_forward import run_walk_forward
from trader_runtime.config import BacktestConfig, StrategyParams, WalkForwardConfig
from trader_runtime.errors import ConfigError

WF = WalkForwardConfig(3, 1)
COMBOS = [CURRENT, StrategyParams(1.5, 3.0, 2, 15.0, 1.5), StrategyParams(1.0, 4.0, 3, 0.0, 1.5), StrategyParams(2.0, 2.0, 5, 30.0, 2.5)]


def test_grid_has_324_combinations_in_product_order():
    grid = grid_combinations()
    assert len(grid) == 324 == math.prod(len(v) for v in PARAM_GRID.values())
    assert grid[0] == StrategyParams(1.0, 2.0, 3, 0.0, 1.5)
    assert grid[1] == StrategyParams(1.0, 2.0, 3, 0.0, 2.0)  # last key varies fastest
    assert grid[-1] == StrategyParams(2.0, 4.0, 5, 30.0, 2.5)
    assert grid.count(CURRENT) == 1


def _row(i, trades, pf, pnl):
    return {"grid_index": i, "summary": {"total_trades": trades, "profit_factor": pf, "total_pnl": pnl}}


def test_ranking_puts_enough_trades_first_then_pf_pnl_trades_grid_order():
    rows = [
        _row(0, 16, 3.87, 300.0),  # best PF but too few trades (the TRX case of BT-19)
        _row(1, 25, 1.5, 100.0),
        _row(2, 30, 1.5, 100.0),  # same PF and PnL, more trades
        _row(3, 40, 1.5, 150.0),
        _row(4, 21, math.inf, 80.0),
        _row(5, 0, 0.0, 0.0),
        _row(6, 25, 1.5, 100.0),  # exact tie with row 1: grid order
    ]
    ranked = rank_rows(rows, min_trades=20)
    assert [r["grid_index"] for r in ranked] == [4, 3, 2, 1, 6, 0, 5]
    assert [r["rank"] for r in ranked] == list(range(1, 8))
    assert [r["meets_min_trades"] for r in ranked] == [True] * 5 + [False, False]


@pytest.mark.parametrize("rules", [EngineRules(), EngineRules.legacy()])
def test_sweep_rows_equal_individual_walk_forward_runs(synthetic_market, rules):
    cfg = BacktestConfig(rules=rules)
    result = run_sweep(synthetic_market, cfg, WF, combos=COMBOS, workers=1, progress=False)
    assert len(result.rows) == len(COMBOS) and result.folds == 3
    by_index = {r["grid_index"]: r for r in result.rows}
    for i, params in enumerate(COMBOS):
        single = run_walk_forward(synthetic_market, replace(cfg, params=params), WF).summary
        row = by_index[i]
        assert row["params"] == params.as_dict() and row["current"] == (params == CURRENT)
        for key in ("total_trades", "profit_factor", "total_pnl", "win_rate", "max_drawdown_pct", "sharpe", "close_reasons", "legacy_metrics"):
            assert row["summary"][key] == single[key], key


def test_two_workers_give_the_same_rows(synthetic_market):
    cfg = BacktestConfig()
    one = run_sweep(synthetic_market, cfg, WF, combos=COMBOS, workers=1, progress=False)
    two = run_sweep(synthetic_market, cfg, WF, combos=COMBOS, workers=2, progress=False)
    assert one.rows == two.rows and two.workers == 2


def test_the_default_worker_count_follows_the_work_size(synthetic_market):
    # a short sweep runs in-process: starting workers would cost more than it saves
    auto = run_sweep(synthetic_market, BacktestConfig(), WF, combos=COMBOS, progress=False)
    one = run_sweep(synthetic_market, BacktestConfig(), WF, combos=COMBOS, workers=1, progress=False)
    assert auto.workers == 1 and auto.rows == one.rows
    assert pick_workers(0.5 * POOL_MIN_SERIAL_S, cpus=8) == 1
    assert pick_workers(1.5 * POOL_MIN_SERIAL_S, cpus=8) == 2
    assert pick_workers(100 * POOL_MIN_SERIAL_S, cpus=2) == 2  # never more than the machine's CPUs


def test_bad_sweep_arguments(synthetic_market):
    with pytest.raises(ConfigError):
        run_sweep(synthetic_market, BacktestConfig(), WF, combos=COMBOS, workers=0)
    with pytest.raises(ConfigError):
        run_sweep(synthetic_market, BacktestConfig(), WF, combos=COMBOS, min_trades=-1)
