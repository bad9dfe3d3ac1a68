from __future__ import annotations

import math

from cointrader_pipelines.reporting.compare import (
    best_row,
    compare_symbols,
    comparison_markdown,
    rules_of_thumb,
    sweep_markets,
)
from trader_runtime.backtest.sweep import SweepResult, rank_rows
from trader_runtime.config import BacktestConfig, StrategyParams, WalkForwardConfig
from trader_runtime.strategy.pipeline import prepare_market


def _summary(trades: int, pf: float, wr: float = 50.0, streak: int = 3) -> dict:
    return {"total_trades": trades, "profit_factor": pf, "win_rate": wr, "total_pnl": pf * 10, "payoff_ratio": 1.2,
            "max_consecutive_losses": streak, "return_pct": pf, "max_drawdown_pct": 10.0, "sharpe": 1.0}  # fmt: skip


def _sweep(summaries: list[dict], min_trades: int = 20) -> SweepResult:
    rows = [{"grid_index": i, "params": StrategyParams(adx_threshold=float(i)).as_dict(), "summary": s}
            for i, s in enumerate(summaries)]  # fmt: skip
    return SweepResult(rank_rows(rows, min_trades), min_trades, folds=3, workers=1)


def test_best_combination_needs_the_minimum_trade_count():
    sweep = _sweep([_summary(16, 3.87), _summary(25, 1.4), _summary(40, 1.2)])  # the reference crowned PF 3.87/16
    assert best_row(sweep)["summary"]["profit_factor"] == 1.4
    rows = compare_symbols({"TRXUSDT": sweep, "DOGEUSDT": _sweep([_summary(5, math.inf)])}, {"SOLUSDT": "too short"})
    assert [r["symbol"] for r in rows] == ["TRXUSDT", "DOGEUSDT", "SOLUSDT"]
    assert rows[0]["best_params"]["adx_threshold"] == 1.0 and rows[0]["qualified_combos"] == 2
    assert rows[1]["best_params"] is None and rows[1]["reason"] == "no combination reached 20 trades"
    assert rows[2]["reason"] == "too short"
    text = comparison_markdown(rows)
    assert "| TRXUSDT | 2.0/2.0/3/1.0/2.5 | 25 | 50.0 | 1.20 | 3 | 1.40 |" in text
    assert "| DOGEUSDT | — (no combination reached 20 trades) |" in text


def test_rules_of_thumb():
    assert rules_of_thumb(_summary(20, 1.5, wr=50.0, streak=5)) == {"sustainable": True, "bearable": True, "meaningful": True}
    assert rules_of_thumb(_summary(19, 1.5, wr=49.9, streak=6)) == {"sustainable": False, "bearable": False, "meaningful": False}


def test_sweep_markets_on_synthetic_symbols(synthetic):
    market = prepare_market(synthetic.combined, "XRPUSDT")
    short = prepare_market(synthetic.combined.iloc[-96 * 30 :], "SOLUSDT")
    combos = [StrategyParams(adx_threshold=a, volume_multiplier=v) for a in (20.0, 30.0) for v in (1.5, 2.5)]
    sweeps, errors = sweep_markets({"XRPUSDT": market, "SOLUSDT": short}, BacktestConfig(), WalkForwardConfig(), combos, workers=1)
    assert list(sweeps) == ["XRPUSDT"] and "too short" in errors["SOLUSDT"]
    assert len(sweeps["XRPUSDT"].rows) == 4
