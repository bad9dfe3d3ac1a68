"""Sortino, Calmar, SQN, longest drawdown and the breakdowns, on series small enough to check by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from trader_runtime.backtest.figures import figure_lines, longest_drawdown, risk_figures, sortino


def test_sortino_uses_only_the_downside():
    daily = np.array([1010.0, 1000.0, 1020.0])  # returns +1 %, −0.990 %, +2 %
    rets = np.array([0.01, -10 / 1010, 0.02])
    expected = rets.mean() / math.sqrt(np.mean(np.minimum(rets, 0) ** 2)) * math.sqrt(365)
    assert sortino(daily, 1000.0) == pytest.approx(expected)
    assert sortino(np.array([1010.0, 1020.0]), 1000.0) is None  # no losing day: undefined, not infinite


def test_longest_drawdown_dates_and_recovery():
    dates = ["d1", "d2", "d3", "d4", "d5"]
    assert longest_drawdown(dates, np.array([1010, 990, 1000, 1020, 1000.0]), 1000.0) == {
        "days": 3, "start": "d1", "end": "d4", "recovered": True}
    assert longest_drawdown(dates[:3], np.array([990, 980, 995.0]), 1000.0) == {
        "days": 3, "start": "before d1", "end": "d3", "recovered": False}


def test_risk_figures_and_breakdowns():
    trades = pd.DataFrame({"net_pnl": [10.0, -5.0, 20.0, -5.0], "close_reason": ["TP", "SL", "TP", "SL"],
                           "symbol": ["XRPUSDT", "XRPUSDT", "SOLUSDT", "SOLUSDT"]})  # fmt: skip
    equity = [{"date": f"2025-01-0{i}", "equity": v} for i, v in enumerate([1010.0, 1005.0, 1025.0, 1020.0], start=1)]
    f = risk_figures(trades, equity, 1000.0)
    net = trades["net_pnl"].to_numpy()
    assert f["sqn"] == round(2 * net.mean() / net.std(ddof=1), 2)
    annual = (1020 / 1000) ** (365 / 4) - 1
    assert f["calmar"] == round(annual / (5 / 1010), 2)
    assert f["by_exit_reason"]["SL"] == {"trades": 2, "win_rate": 0.0, "net_pnl": -10.0, "profit_factor": 0.0}
    assert f["by_exit_reason"]["TP"]["profit_factor"] == math.inf
    assert f["by_symbol"]["SOLUSDT"] == {"trades": 2, "win_rate": 50.0, "net_pnl": 15.0, "profit_factor": 4.0}
    assert dict(figure_lines(f))["longest drawdown"] == "2 days, 2025-01-01 → 2025-01-03"
