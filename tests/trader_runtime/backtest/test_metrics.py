"""Trade statistics (spec 20 §2), D13 equity figures and the reference per-trade figures."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from trader_runtime.backtest.serialization import dumps
from trader_runtime.backtest.metrics import equity_metrics, legacy_trade_metrics, summarize, trade_stats


def test_no_trades_gives_zeros():
    s = summarize(np.array([]), np.array([]), [], np.array([]), np.array([], dtype=np.int64), 1000.0)
    assert s["total_trades"] == 0 and s["profit_factor"] == 0.0 and s["payoff_ratio"] == 0.0
    assert s["close_reasons"] == {} and s["max_drawdown_pct"] == 0.0 and s["sharpe"] == 0.0
    assert s["legacy_metrics"] == {"max_drawdown_pct": 0.0, "sharpe_ratio": 0.0}


def test_no_losses_gives_infinite_profit_factor_and_payoff():
    s = trade_stats(np.array([10.0, 5.0]), np.array([1.0, 1.0]), ["TP", "TP"], 1000.0)
    assert math.isinf(s["profit_factor"]) and math.isinf(s["payoff_ratio"])
    assert s["win_rate"] == 100.0 and s["max_consecutive_losses"] == 0


def test_no_loss_summary_serialises_with_the_one_rule():
    s = summarize(np.array([10.0, 5.0]), np.ones(2), ["TP", "TP"], np.array([1010.0, 1015.0]), np.array([0, 1]), 1000.0)
    data = json.loads(dumps({"summary": s}))["summary"]
    assert data["profit_factor"] is None and data["profit_factor_infinite"] is True
    assert data["payoff_ratio"] is None and data["payoff_ratio_infinite"] is True
    assert data["total_trades"] == 2


def test_break_even_counts_as_a_loss():
    s = trade_stats(np.array([10.0, 0.0, -5.0, 0.0]), np.zeros(4), ["TP", "REVERSE", "SL", "REVERSE"], 1000.0)
    assert s["win_rate"] == 25.0
    assert s["avg_loss"] == pytest.approx(-5.0 / 3, abs=1e-4)
    assert s["profit_factor"] == 2.0
    assert s["max_consecutive_losses"] == 3
    assert s["close_reasons"] == {"TP": 1, "REVERSE": 2, "SL": 1}  # order of first appearance


def test_only_zero_pnl_trades():
    s = trade_stats(np.array([0.0, 0.0]), np.zeros(2), ["REVERSE", "REVERSE"], 1000.0)
    assert s["profit_factor"] == 0.0 and s["win_rate"] == 0.0


def test_return_and_rounding():
    s = trade_stats(np.array([100.123456, -40.0]), np.array([1.5, 1.25]), ["TP", "SL"], 1000.0)
    assert s["total_pnl"] == 60.1235 and s["return_pct"] == 6.01 and s["total_fees"] == 2.75
    assert s["profit_factor"] == 2.5 and s["payoff_ratio"] == 2.5


def test_legacy_mdd_peak_starts_at_first_trade_not_initial_balance():
    # a first-trade loss below the initial balance is not a drawdown in the reference (BT-04)
    m = legacy_trade_metrics(np.array([-100.0, 50.0, -90.0]), 1000.0)
    assert m["max_drawdown_pct"] == pytest.approx(round(90 / 950 * 100, 2))
    net = np.array([10.0, -5.0, 7.0])
    assert legacy_trade_metrics(net, 1000.0)["sharpe_ratio"] == pytest.approx(
        round(net.mean() / net.std() * math.sqrt(35040), 2)
    )


def test_d13_mdd_on_equity_with_peak_from_initial_balance():
    equity = np.array([990.0, 900.0, 1100.0, 1045.0])
    day = np.array([0, 0, 1, 1])
    m = equity_metrics(equity, day, 1000.0)
    assert m["max_drawdown_pct"] == 10.0  # 1000 → 900 (the first bar's dip counts)


def test_d13_sharpe_on_daily_returns():
    day = np.repeat(np.arange(4), 2)
    equity = np.array([1000, 1010, 1010, 1030, 1030, 1020, 1020, 1050], dtype=float)
    m = equity_metrics(equity, day, 1000.0)
    closes = np.array([1000, 1010, 1030, 1020, 1050], dtype=float)
    rets = np.diff(closes) / closes[:-1]
    assert m["sharpe"] == pytest.approx(round(rets.mean() / rets.std(ddof=1) * math.sqrt(365), 2))


def test_flat_equity_has_zero_sharpe_and_drawdown():
    m = equity_metrics(np.full(10, 1000.0), np.repeat(np.arange(5), 2), 1000.0)
    assert m == {"max_drawdown_pct": 0.0, "sharpe": 0.0}
