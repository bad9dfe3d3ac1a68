from __future__ import annotations

import math

import pandas as pd

from cointrader_pipelines.reporting.journal_trades import read_closed_trades
from cointrader_pipelines.reporting.live import kill_switch_view, live_statistics
from cointrader_pipelines.reporting.weekly import report_window
from trader_runtime.config import RiskLimits


def _frame(nets: list[float], symbol: str = "XRPUSDT") -> pd.DataFrame:
    times = pd.date_range("2025-01-01", periods=len(nets), freq="h", tz="UTC")
    return pd.DataFrame(
        {
            "symbol": symbol,
            "side": "LONG",
            "entry_time": times,
            "exit_time": times + pd.Timedelta(minutes=30),
            "gross_pnl": nets,
            "entry_fee": 0.0,
            "exit_fee": 0.0,
            "net_pnl": nets,
            "close_reason": "SL",
        }
    )


def test_week_and_cumulative_count_each_trade_once(make_journal, known_trades, report_date):
    trades = read_closed_trades(make_journal(known_trades))
    w = report_window(report_date)
    stats = live_statistics(trades[trades["exit_time"] < w.end], w.start, w.end)
    week, cum = stats["week"], stats["cumulative"]
    assert (week["total_trades"], week["total_pnl"], week["win_rate"], week["profit_factor"]) == (3, 12.0, 33.33, 2.5)
    assert week["total_fees"] == 2.4
    assert week["per_symbol"]["XRPUSDT"]["total_trades"] == 2
    assert week["per_symbol"]["XRPUSDT"]["profit_factor"] == 4.0
    assert week["per_symbol"]["SOLUSDT"]["profit_factor"] == 0.0
    assert (cum["total_trades"], cum["total_pnl"], cum["win_rate"], cum["profit_factor"]) == (5, 22.0, 40.0, 3.75)


def test_week_window_is_half_open():
    trades = _frame([1.0, 2.0, 3.0])
    start, end = trades["exit_time"].iloc[0], trades["exit_time"].iloc[2]
    stats = live_statistics(trades, start, end)
    assert stats["week"]["total_trades"] == 2
    assert stats["cumulative"]["total_trades"] == 2


def test_fast_kill_after_eight_consecutive_net_losses():
    view = kill_switch_view(_frame([5.0] + [-1.0] * 8), ["XRPUSDT"], RiskLimits())["XRPUSDT"]
    assert view["consec_loss"] == 8
    assert view["killed"] is True and view["reason"] == "fast"
    assert view["recent_pf"] is None  # fewer than 15 trades


def test_break_even_breaks_the_streak_like_the_live_rule():
    view = kill_switch_view(_frame([-1.0] * 4 + [0.0] + [-1.0] * 4), ["XRPUSDT"], RiskLimits())["XRPUSDT"]
    assert view["consec_loss"] == 4
    assert view["killed"] is False


def test_slow_kill_on_last_fifteen_profit_factor():
    nets = [10.0] * 3 + [-2.0] * 4 + [0.0] * 4 + [1.0] * 7  # last 15: GP 7, GL 8 -> 0.875
    view = kill_switch_view(_frame(nets), [], RiskLimits())["XRPUSDT"]
    assert view["recent_pf"] == 0.88 and view["killed"] is False
    nets2 = [1.0] * 5 + [-2.0] * 5 + [1.0] * 2 + [-1.0] * 3  # GP 7, GL 13 -> 0.54
    view2 = kill_switch_view(_frame(nets2), [], RiskLimits())["XRPUSDT"]
    assert view2["recent_pf"] == 0.54
    assert view2["killed"] is True and view2["reason"] == "slow"


def test_recent_pf_is_infinite_without_losses_and_symbols_without_trades_are_listed():
    view = kill_switch_view(_frame([1.0] * 15), ["SOLUSDT"], RiskLimits())
    assert math.isinf(view["XRPUSDT"]["recent_pf"])
    assert view["SOLUSDT"]["total_trades"] == 0 and view["SOLUSDT"]["recent_pf"] is None
    assert view["SOLUSDT"]["killed"] is False
