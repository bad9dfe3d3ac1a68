"""Liquidation and ruin (D19): an isolated position closes at its maintenance-margin price, an account that can no
longer margin the minimum notional stops trading, and equity never goes below zero."""

from __future__ import annotations

import numpy as np
import pytest

from tests.trader_runtime.backtest.bars import make_bars, make_cfg, simulate
from trader_runtime.backtest import kernel as K
from trader_runtime.backtest.accounting import brackets_for
from trader_runtime.backtest.engine import run_backtest
from trader_runtime.config import BacktestConfig, RiskLimits, StrategyParams
from trader_runtime.strategy.decision import liquidation_price


def test_liquidation_price_follows_the_isolated_margin_formula():
    br = np.array([[1e12, 0.005, 0.0]])
    # LONG 10 units at 100 with 100 USDT margin (10×): (1000 − 100) / (10 × 0.995)
    assert liquidation_price(1, 100.0, 10.0, 100.0, br) == pytest.approx(900.0 / 9.95)
    assert liquidation_price(-1, 100.0, 10.0, 100.0, br) == pytest.approx(1100.0 / 10.05)
    assert liquidation_price(1, 100.0, 10.0, 1000.0, br) == 0.0  # 1× long: cannot be liquidated above zero


def test_brackets_derive_a_continuous_maintenance_amount():
    b = brackets_for("XRPUSDT")
    for (cap0, r0, c0), (_, r1, c1) in zip(b[:-1], b[1:]):
        assert cap0 * r0 - c0 == pytest.approx(cap0 * r1 - c1)  # same maintenance margin at the bracket edge
    assert brackets_for("NOSUCHUSDT").shape[1] == 3  # falls back to the default rows


def test_a_bar_through_the_liquidation_price_closes_there_with_the_margin_lost():
    # 10× long at 100: 1000 × 0.5 × 10 = 5000 notional, 50 units, margin 500; SL far away (20 × ATR 1)
    bars = make_bars([100, 100, 100], low=[100, 85, 100])
    out = simulate(bars, [1, 0, 0], make_cfg(leverage=10, params=StrategyParams(atr_sl_mult=20.0, atr_tp_mult=2.0)))
    ti, tf = out.ti[0], out.tf[0]
    assert ti[K.TI_REASON] == K.REASON_LIQUIDATION and ti[K.TI_EXIT_IDX] == 1
    assert tf[K.TF_EXIT_PRICE] == pytest.approx(tf[K.TF_LIQ_PRICE]) and 89 < tf[K.TF_LIQ_PRICE] < 91
    assert tf[K.TF_NET] == pytest.approx(-500.0)  # the whole isolated margin (no fees in this config)
    assert out.equity.tolist() == [1000.0, 500.0, 500.0]


def test_a_stop_inside_the_liquidation_price_still_exits_at_the_stop():
    bars = make_bars([100, 100, 100], low=[100, 85, 100])
    out = simulate(bars, [1, 0, 0], make_cfg(leverage=10, params=StrategyParams(atr_sl_mult=2.0, atr_tp_mult=2.0)))
    assert out.ti[0, K.TI_REASON] == K.REASON_SL and out.tf[0, K.TF_EXIT_PRICE] == 98.0


def test_high_leverage_drives_the_account_into_liquidations_and_ruin(synthetic_market):
    cfg = BacktestConfig(
        params=StrategyParams(atr_sl_mult=3.0, atr_tp_mult=3.0, signal_threshold=2, adx_threshold=15.0, volume_multiplier=1.5),
        leverage=100,
        min_notional=100.0,
        risk=RiskLimits(max_daily_loss_pct=1.0, kill_fast_streak=10_000, kill_slow_window=10_000),  # nothing else stops it
    )
    r = run_backtest(synthetic_market, cfg)
    t = r.trades
    liq = t[t["close_reason"] == "LIQUIDATION"]
    assert len(liq) >= 3
    np.testing.assert_allclose(liq["exit_price"], liq["liquidation_price"], atol=1e-6)  # exit rounded to 6 dp
    assert (liq["net_pnl"] < 0).all()
    ruin = [h for h in r.halted_periods if h["kind"] == "ruin"]
    assert len(ruin) == 1 and (t["entry_time"] < ruin[0]["start"]).all()  # nothing opens after ruin
    assert (r.equity >= 0).all() and r.summary["min_equity"] >= 0
    assert r.equity.iloc[-1] < cfg.min_notional / cfg.leverage  # less than one minimum notional's margin is left
    assert r.summary["liquidations"] == len(liq) and r.halts[0]["ruined"]
