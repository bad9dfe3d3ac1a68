from __future__ import annotations

import pytest

from cointrader_pipelines.reporting.alternatives import evaluate_pooled, live_signal_keys, sweep_alternatives
from trader_runtime.backtest.sweep import grid_combinations, signal_key
from trader_runtime.backtest.walk_forward import run_walk_forward
from trader_runtime.config import BacktestConfig, PRODUCTION_PARAMS, StrategyParams, WalkForwardConfig
from trader_runtime.strategy.pipeline import prepare_market


@pytest.fixture(scope="module")
def market(synthetic):
    return prepare_market(synthetic.combined, "XRPUSDT")


def test_dead_signal_settings_are_pruned(market):
    combos = grid_combinations()
    alive = live_signal_keys({"XRPUSDT": market}, WalkForwardConfig(), combos)
    assert all(k[0] == 3 for k in alive)  # thresholds 4 and 5 never fire on this market
    assert signal_key(PRODUCTION_PARAMS) in alive


def test_account_summary_of_one_symbol_equals_its_walk_forward(market):
    cfg = BacktestConfig(symbol="XRPUSDT")
    params = StrategyParams(atr_sl_mult=1.0, atr_tp_mult=2.0, signal_threshold=3, adx_threshold=30.0, volume_multiplier=2.0)
    wf = run_walk_forward(market, BacktestConfig(symbol="XRPUSDT", params=params), WalkForwardConfig())
    assert evaluate_pooled({"XRPUSDT": market}, cfg, WalkForwardConfig(), params) == wf.summary


def test_alternatives_rank_account_level_figures_of_all_symbols(market, synthetic):
    from trader_runtime.market.synthetic import generate_market

    doge = prepare_market(generate_market("DOGEUSDT", 200, 9).combined, "DOGEUSDT")
    markets = {"XRPUSDT": market, "DOGEUSDT": doge}
    combos = [p for p in grid_combinations() if p.signal_threshold == 3 and p.adx_threshold == 30.0][:4]
    out = sweep_alternatives(markets, BacktestConfig(), WalkForwardConfig(), None, {"profit_factor": 0.5}, combos)
    best = out["alternatives"][0]
    shared = evaluate_pooled(markets, BacktestConfig(), WalkForwardConfig(), StrategyParams(**best["params"]))
    assert best["summary"]["total_trades"] == shared["total_trades"] and best["summary"]["profit_factor"] == shared["profit_factor"]


def test_top_three_alternatives_are_ranked_suggestions(market):
    combos = [p for p in grid_combinations() if p.signal_threshold == 3 and p.atr_sl_mult != 2.0]
    current = combos[5]
    wf = run_walk_forward(market, BacktestConfig(symbol="XRPUSDT", params=current), WalkForwardConfig())
    out = sweep_alternatives({"XRPUSDT": market}, BacktestConfig(), WalkForwardConfig(), current, wf.summary, combos)
    alts = out["alternatives"]
    assert out["ran"] is True and out["applied"] is False and len(alts) == 3
    assert out["evaluated"] == len(combos) - 1 - out["pruned_dead"]
    assert all(a["params"] != current.as_dict() for a in alts)
    assert [a["rank"] for a in alts] == [1, 2, 3]
    keys = [(not a["meets_min_trades"], -a["summary"]["profit_factor"]) for a in alts]
    assert keys == sorted(keys)  # BT-19: enough trades first, then PF
    assert all(a["pf_delta"] == round(a["summary"]["profit_factor"] - wf.summary["profit_factor"], 2) for a in alts)
    assert out["current"] == {"params": current.as_dict(), "summary": {k: wf.summary[k] for k in out["current"]["summary"]}}
