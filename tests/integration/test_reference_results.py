"""Spec 20 §11 reference numbers on the bundled real data: the legacy rules must reproduce the original engine
(trade counts exact, PF within ±0.01); the platform default must keep R1's acceptance figures (27 trades, PF 1.57).
Skipped when ../shared/data is absent."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from tests.conftest import missing_reference_data, real_data_path
from trader_runtime.backtest.rules import EngineRules
from trader_runtime.backtest.walk_forward import run_walk_forward
from trader_runtime.config import BacktestConfig, StrategyParams, WalkForwardConfig
from trader_runtime.strategy.pipeline import PreparedMarket, prepare_market

WF = WalkForwardConfig(train_months=3, test_months=1, step_months=3)
_MARKETS: dict[str, PreparedMarket] = {}


def market(symbol: str) -> PreparedMarket:
    path = real_data_path(symbol)
    if not path.exists():
        missing_reference_data(path)
    if symbol not in _MARKETS:
        _MARKETS[symbol] = prepare_market(pd.read_parquet(path), symbol)
    return _MARKETS[symbol]


# id, symbol, SL/TP/signal/ADX/vol, trades, PF, PnL, legacy MDD, legacy Sharpe, trades per fold, return %
CASES = [
    ("R1", "XRPUSDT", (2.0, 2.0, 3, 25.0, 2.5), 27, 1.57, 217.60, 12.03, 40.13, (9, 10, 8), None),
    ("R2", "XRPUSDT", (1.5, 4.0, 3, 30.0, 2.5), 19, 2.39, 469.95, 7.02, 73.56, (9, 5, 5), None),
    ("R3", "XRPUSDT", (1.5, 4.0, 3, 25.0, 2.5), 28, 1.75, 381.07, 13.11, None, None, None),
    ("R4", "XRPUSDT", (1.5, 3.0, 3, 0.0, 1.5), 47, 0.71, -286.23, 33.35, None, (15, 15, 17), None),
    ("R5", "XRPUSDT", (1.5, 3.0, 2, 15.0, 1.5), 53, 1.16, 121.66, 25.63, None, None, 12.17),
    ("R7", "SOLUSDT", (1.0, 4.0, 3, 20.0, 2.5), 31, 2.82, None, 10.77, None, None, 90.56),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_legacy_rules_reproduce_the_original(case):
    rid, symbol, p, trades, pf, pnl, mdd, sharpe, folds, ret = case
    cfg = BacktestConfig(symbol=symbol, params=StrategyParams(*p), rules=EngineRules.legacy())
    r = run_walk_forward(market(symbol), cfg, WF)
    s = r.summary
    assert s["total_trades"] == trades
    assert abs(s["profit_factor"] - pf) <= 0.01 + 1e-9
    if pnl is not None:
        assert s["total_pnl"] == pytest.approx(pnl, abs=0.01)
    assert s["legacy_metrics"]["max_drawdown_pct"] == pytest.approx(mdd, abs=0.01)
    if sharpe is not None:
        assert s["legacy_metrics"]["sharpe_ratio"] == pytest.approx(sharpe, abs=0.01)
    if folds is not None:
        assert tuple(f.summary["total_trades"] for f in r.folds) == folds
    if ret is not None:
        assert s["return_pct"] == pytest.approx(ret, abs=0.01)


def test_r4_kill_switch_fires_in_every_fold():
    cfg = BacktestConfig(params=StrategyParams(1.5, 3.0, 3, 0.0, 1.5), rules=EngineRules.legacy())
    r = run_walk_forward(market("XRPUSDT"), cfg, WF)
    assert [h["kill_switch"] for h in r.halts] == ["slow", "slow", "fast"]  # fold 3: 8 losses in a row at trade 17
    fold1 = r.trades[r.trades["fold"] == 1]
    assert fold1["exit_time"].max().date().isoformat() == "2025-06-16"  # fold 1 stops trading on 2025-06-16


def test_platform_default_acceptance_r1():
    """R1 keeps its 27 trades on the continuous account (D18); sizes follow the carried balance, so PF 1.56."""
    cfg = BacktestConfig(params=StrategyParams(2.0, 2.0, 3, 25.0, 2.5))
    r = run_walk_forward(market("XRPUSDT"), cfg, WF)
    assert r.summary["total_trades"] == 27 and abs(r.summary["profit_factor"] - 1.57) <= 0.01 + 1e-9
    assert r.validation["overall"] == "PASS"  # BT-12: frequency over tested months (9/month), not FAIL
    per_fold = run_walk_forward(market("XRPUSDT"), replace(cfg, rules=replace(EngineRules(), continuous_walk_forward=False)), WF)
    assert per_fold.summary["profit_factor"] == 1.57 and per_fold.summary["total_trades"] == 27


def test_platform_default_differs_from_legacy_only_by_documented_rules():
    """R5 with folds restarting: the 12 extra trades come from D2 (the day-start loss base); on the continuous
    account (D18) fold 1's slow kill stays tripped (no reset policy), so only fold 1's 15 trades remain."""
    base = BacktestConfig(params=StrategyParams(1.5, 3.0, 2, 15.0, 1.5))
    m = market("XRPUSDT")
    restart = replace(EngineRules(), continuous_walk_forward=False)
    assert run_walk_forward(m, replace(base, rules=replace(restart, daily_loss_base="initial")), WF).summary["total_trades"] == 53
    assert run_walk_forward(m, replace(base, rules=restart), WF).summary["total_trades"] == 65
    cont = run_walk_forward(m, base, WF)
    kills = [h for h in cont.halted_periods if h["kind"].startswith("kill_switch")]
    assert cont.summary["total_trades"] == 15 and [h["kind"] for h in kills] == ["kill_switch_slow"]
    assert kills[0]["end"] == cont.folds[-1].test_end
