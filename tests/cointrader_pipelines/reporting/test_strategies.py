"""The weekly report's "strategies" section: both strategies on the same test months, in bps, rendered."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from cointrader_pipelines.reporting.html import render_weekly_html
from cointrader_pipelines.reporting.strategies import strategy_comparison
from cointrader_pipelines.reporting.weekly import WeeklyInputs, build_weekly_report, report_window
from trader_runtime.backtest.walk_forward import walk_forward_windows
from trader_runtime.config import PRODUCTION_PARAMS, BacktestConfig, WalkForwardConfig
from trader_runtime.strategy.mtf_pullback import MTFParams, MTFRules, prepare_mtf
from trader_runtime.strategy.mtf_pullback.metrics import bps_stats
from trader_runtime.strategy.mtf_pullback.research import period_returns


def test_section_compares_both_strategies_on_the_same_test_months(synthetic, report_date):
    inputs = WeeklyInputs(window=report_window(report_date), markets={"XRPUSDT": synthetic.combined},
                          params={"XRPUSDT": PRODUCTION_PARAMS}, sweep=False)  # fmt: skip
    report = build_weekly_report(inputs, pd.Timestamp("2025-12-28", tz="UTC"))
    part = report.data["strategies"]["per_symbol"]["XRPUSDT"]
    assert part["error"] is None
    weighted, mtf = part["weighted-signal"], part["mtf-pullback"]
    backtest = report.data["backtest"]["summary"]
    assert weighted["trades"] == backtest["total_trades"]  # every walk-forward trade, same test months
    # the MTF figures are the strategy's own walk-forward on those months
    known = synthetic.combined[synthetic.combined.index + pd.Timedelta(minutes=15) <= inputs.window.end]
    market = prepare_mtf(known, "XRPUSDT")
    wins = walk_forward_windows(market.index[0], market.index[-1], WalkForwardConfig())
    rules = MTFRules(fee_rate=BacktestConfig().fee_pct / 100)
    rets = np.concatenate([period_returns(market, MTFParams(), rules, w.test_start, w.test_end)[1] for w in wins])
    assert mtf == bps_stats(rets) and mtf["trades"] > 0
    page = render_weekly_html(json.loads(json.dumps(report.to_json_dict())))
    assert 'id="strategies"' in page and "MTF pullback" in page and "weighted signal" in page


def test_a_symbol_without_a_fold_gets_a_reason():
    idx = pd.date_range("2025-01-01", periods=96 * 20, freq="15min", tz="UTC", name="timestamp")
    frame = pd.DataFrame({"open": 1.0, "high": 1.1, "low": 0.9, "close": 1.0, "volume": 10.0}, index=idx)
    out = strategy_comparison({"XRPUSDT": frame}, {"XRPUSDT": None}, BacktestConfig(), WalkForwardConfig())
    assert "walk-forward fold" in out["per_symbol"]["XRPUSDT"]["error"]
