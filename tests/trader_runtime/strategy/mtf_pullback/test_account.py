"""The MTF pullback on the account engine: decisions and account positions agree at the fixed point."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trader_runtime.config import BacktestConfig, RiskLimits, WalkForwardConfig
from trader_runtime.market.synthetic import generate_market
from trader_runtime.strategy.mtf_pullback import MTFParams, prepare_mtf
from trader_runtime.strategy.mtf_pullback.account import _positions, run_mtf_account

PARAMS = MTFParams(dry_ratio=0.7)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return generate_market("XRPUSDT", 150, 13).combined


def _check_fixed_point(run, market):
    trades = run.result.trades
    view = run.views[0]
    held = _positions(trades, "XRPUSDT", market.index)
    entries = set(market.index.searchsorted(trades["entry_time"]))
    dec = view.decisions
    for g in np.flatnonzero(dec):
        assert not held[g]  # a decision is only taken while flat
    assert entries <= set(np.flatnonzero(dec))  # every entry comes from a decision of that candle


def test_a_tight_kill_switch_refuses_entries_and_the_strategy_keeps_deciding(frame):
    loose = run_mtf_account({"XRPUSDT": frame}, BacktestConfig(symbol="XRPUSDT"), PARAMS)
    tight_cfg = BacktestConfig(symbol="XRPUSDT", risk=RiskLimits(kill_fast_streak=2, kill_slow_window=4, kill_slow_min_pf=2.0))
    tight = run_mtf_account({"XRPUSDT": frame}, tight_cfg, PARAMS)
    market = prepare_mtf(frame, "XRPUSDT")
    for run in (loose, tight):
        _check_fixed_point(run, market)
    assert len(tight.result.trades) < len(loose.result.trades)
    assert tight.result.halts[0]["kill_switch"] is not None and tight.result.halts[0]["entries_blocked_by_halt"] > 0
    assert (tight.views[0].decisions != 0).sum() > len(tight.result.trades)
    assert loose.result.config.params.atr_sl_mult == PARAMS.sl_mult


def test_walk_forward_and_two_symbols_on_one_account(frame):
    wf = run_mtf_account({"XRPUSDT": frame}, BacktestConfig(symbol="XRPUSDT"), PARAMS, wf=WalkForwardConfig(1, 1))
    assert len(wf.result.folds) >= 2 and wf.result.summary["total_trades"] > 0
    other = generate_market("DOGEUSDT", 150, 14).combined
    cfg = BacktestConfig(symbol="DOGEUSDT", symbols=("DOGEUSDT", "XRPUSDT"))
    both = run_mtf_account({"DOGEUSDT": other, "XRPUSDT": frame}, cfg, PARAMS)
    assert set(both.result.trades["symbol"]) == {"DOGEUSDT", "XRPUSDT"}
