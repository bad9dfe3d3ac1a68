from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cointrader_pipelines.reporting.performance import (
    closed_trade_equity,
    combined_equity,
    combined_summary,
    daily_equity,
    pooled_trades,
    run_symbol_walk_forwards,
)
from trader_runtime.backtest.walk_forward import run_walk_forward
from trader_runtime.config import BacktestConfig, PRODUCTION_PARAMS, WalkForwardConfig
from trader_runtime.strategy.pipeline import prepare_market


def _trades(nets: list[float], days: list[int], symbol: str = "XRPUSDT") -> pd.DataFrame:
    exit_time = [pd.Timestamp("2025-01-01 12:00", tz="UTC") + pd.Timedelta(days=d) for d in days]
    return pd.DataFrame(
        {
            "symbol": symbol, "exit_time": exit_time, "entry_time": [t - pd.Timedelta(hours=1) for t in exit_time],
            "net_pnl": nets, "entry_fee": 1.0, "exit_fee": 1.0, "close_reason": ["TP" if n > 0 else "SL" for n in nets],
        }
    )  # fmt: skip


def test_combined_summary_from_hand_built_trades_is_exact():
    # given out of exit-time order: sorted to +30, -10, -25, +5 (days 1..4)
    s = combined_summary(_trades([-25.0, 30.0, 5.0, -10.0], [3, 1, 4, 2]), 1000.0)
    assert s["total_trades"] == 4 and s["total_pnl"] == 0.0 and s["return_pct"] == 0.0
    assert s["win_rate"] == 50.0 and s["profit_factor"] == 1.0 and s["payoff_ratio"] == 1.0
    assert s["avg_win"] == 17.5 and s["avg_loss"] == -17.5
    assert s["max_consecutive_losses"] == 2 and s["total_fees"] == 8.0
    assert s["close_reasons"] == {"TP": 2, "SL": 2} and list(s["close_reasons"]) == ["TP", "SL"]
    assert s["max_drawdown_pct"] == 3.4  # (1030 - 995) / 1030, peak starting at the base
    rets = np.diff([1000.0, 1030.0, 1020.0, 995.0, 1000.0]) / np.array([1000.0, 1030.0, 1020.0, 995.0])
    assert s["sharpe"] == round(rets.mean() / rets.std(ddof=1) * math.sqrt(365), 2)
    assert s["legacy_metrics"]["max_drawdown_pct"] == 3.4
    assert s["equity_basis"] == "closed_trades" and s["initial_balance"] == 1000.0


def test_first_trade_loss_is_a_drawdown_from_the_base():
    s = combined_summary(_trades([-50.0, 20.0], [1, 2]), 1000.0)
    assert s["max_drawdown_pct"] == 5.0  # BT-04: the reference would report 0
    assert s["legacy_metrics"]["max_drawdown_pct"] == 0.0


def test_no_trades_gives_zero_figures():
    s = combined_summary(_trades([], []), 1000.0)
    assert s["total_trades"] == 0 and s["profit_factor"] == 0.0 and s["max_drawdown_pct"] == 0.0


def test_closed_trade_equity_is_indexed_by_exit_time():
    eq = closed_trade_equity(_trades([1.0, 2.0], [2, 1]), 100.0)
    assert eq.tolist() == [102.0, 103.0] and eq.index.is_monotonic_increasing


def test_single_symbol_combined_equals_its_walk_forward(synthetic):
    market = prepare_market(synthetic.combined, "XRPUSDT")
    cfg = BacktestConfig(symbol="XRPUSDT", params=PRODUCTION_PARAMS)
    wf = run_walk_forward(market, cfg, WalkForwardConfig())
    runs = run_symbol_walk_forwards({"XRPUSDT": market}, {"XRPUSDT": PRODUCTION_PARAMS}, cfg, WalkForwardConfig())
    results = {"XRPUSDT": runs["XRPUSDT"].result}
    s = combined_summary(pooled_trades(results), 1000.0, combined_equity(results, 1000.0))
    for key in ("total_trades", "total_pnl", "profit_factor", "win_rate", "max_drawdown_pct", "sharpe"):
        assert s[key] == wf.summary[key]
    assert daily_equity(wf.equity)[-1]["equity"] == round(float(wf.equity.iloc[-1]), 4)


def test_two_symbols_pool_trades_and_sum_equity(synthetic):
    market = prepare_market(synthetic.combined, "XRPUSDT")
    cfg = BacktestConfig(params=PRODUCTION_PARAMS)
    runs = run_symbol_walk_forwards(
        {"XRPUSDT": market, "ALTUSDT": market}, {"XRPUSDT": PRODUCTION_PARAMS, "ALTUSDT": PRODUCTION_PARAMS},
        cfg, WalkForwardConfig(),
    )  # fmt: skip
    results = {s: r.result for s, r in runs.items()}
    trades = pooled_trades(results)
    one = results["XRPUSDT"]
    assert len(trades) == 2 * len(one.trades) and trades["exit_time"].is_monotonic_increasing
    equity = combined_equity(results, 1000.0)
    assert equity.iloc[-1] == pytest.approx(2 * one.equity.iloc[-1])
    s = combined_summary(trades, 2000.0, equity)
    assert s["total_pnl"] == pytest.approx(2 * one.summary["total_pnl"], abs=1e-3)
    assert s["profit_factor"] == one.summary["profit_factor"]


def test_too_short_data_keeps_the_reason(synthetic):
    short = prepare_market(synthetic.combined.iloc[: 96 * 30], "XRPUSDT")
    runs = run_symbol_walk_forwards({"XRPUSDT": short}, {"XRPUSDT": PRODUCTION_PARAMS}, BacktestConfig(), WalkForwardConfig())
    assert runs["XRPUSDT"].result is None and "no walk-forward fold fits" in runs["XRPUSDT"].error
