from __future__ import annotations

import math

from cointrader_pipelines.reporting.sweep_table import COLUMNS, display_value, sweep_markdown, sweep_records
from trader_runtime.backtest.sweep import SweepResult, rank_rows
from trader_runtime.config import StrategyParams


def _sweep(pfs: list[float]) -> SweepResult:
    rows = [{"grid_index": i, "params": StrategyParams(adx_threshold=float(i)).as_dict(),
             "summary": {"total_trades": 30, "profit_factor": pf, "win_rate": 50.0, "total_pnl": 10.0 * i,
                         "max_drawdown_pct": 5.0, "sharpe": 1.0, "payoff_ratio": 1.2}}
            for i, pf in enumerate(pfs)]  # fmt: skip
    return SweepResult(rank_rows(rows, 20), 20, folds=3, workers=1)


def test_sweep_records_flatten_and_display_infinity():
    sweep = _sweep([math.inf, 1.1])
    records = sweep_records(sweep.rows)
    assert tuple(records[0]) == COLUMNS and records[0]["rank"] == 1 and math.isinf(records[0]["profit_factor"])
    assert display_value(records[0]["profit_factor"]) == "∞" and display_value(1.234) == 1.23
    assert sweep_markdown(records).count("\n") == 3
