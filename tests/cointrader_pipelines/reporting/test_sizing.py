from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cointrader_pipelines.reporting.sizing import (
    SizingParams,
    best_risk,
    consecutive_loss_table,
    kelly,
    margin_hint,
    observed,
    r_multiples,
    recommend,
    simulate,
    sizing_analysis,
    sizing_for_market,
    uncertainty_box,
    worst_box,
)
from trader_runtime.config import BacktestConfig, StrategyParams, WalkForwardConfig
from trader_runtime.errors import DataError
from trader_runtime.strategy.pipeline import prepare_market


def _trades(nets: list[float], risk_usdt: float = 10.0) -> pd.DataFrame:
    n = len(nets)
    return pd.DataFrame({"entry_price": [100.0] * n, "sl": [99.0] * n, "quantity": [risk_usdt] * n, "net_pnl": nets})


def test_r_multiples_and_observed_statistics():
    trades = _trades([30.0, -10.0, 20.0, -12.0, 0.0])
    trades.loc[len(trades)] = [100.0, 100.0, 5.0, 7.0]  # no money at risk: skipped
    r = r_multiples(trades)
    assert r.tolist() == [3.0, -1.0, 2.0, -1.2, 0.0]
    obs = observed(r)
    assert obs["win_rate"] == 0.4 and obs["win_r"] == 2.5 and obs["loss_r"] == pytest.approx(-2.2 / 3)
    assert obs["kelly"] == pytest.approx(kelly(0.4, 2.5, 2.2 / 3))


@pytest.mark.parametrize(
    "wr, w, l, expected", [(0.5, 2.0, 1.0, 0.25), (0.3, 1.0, 1.0, 0.0), (0.5, 0.0, 1.0, 0.0), (0.387, 3.85, 1.18, 0.199119)]
)
def test_kelly(wr, w, l, expected):
    assert kelly(wr, w, l) == pytest.approx(expected, abs=1e-5)


def test_uncertainty_box_reference_bounds():
    box = uncertainty_box(0.387, 3.85, -1.18)  # spec 20 §11 R8 (SOLUSDT)
    assert box["win_rate"] == pytest.approx((0.287, 0.457))
    assert box["win_r"] == pytest.approx((2.85, 5.05))
    assert box["loss_r"] == pytest.approx((-1.48, -0.88))
    worst = worst_box(box, -1.18)
    assert worst["loss_r"] == pytest.approx((-1.48, -1.479))


def test_consecutive_loss_table():
    table = consecutive_loss_table((0.01, 0.05), (4, 10))
    assert table == [{"risk": 0.01, "4": 96.1, "10": 90.4}, {"risk": 0.05, "4": 81.5, "10": 59.9}]


def test_simulation_follows_the_reference_draw_order():
    p = SizingParams(n_sims=50, n_trades=20)
    box = uncertainty_box(0.4, 3.0, -1.0)
    out = simulate(box, 0.02, p)
    rng = np.random.default_rng(p.seed)  # one simulation at a time, as the reference loops
    finals = []
    for _ in range(p.n_sims):
        wr = rng.uniform(*box["win_rate"])
        w = rng.uniform(*box["win_r"])
        l_ = rng.uniform(*box["loss_r"])
        balance = p.start_balance
        for u in rng.random(p.n_trades):
            balance += balance * 0.02 * (w if u < wr else l_)
            if balance <= p.ruin_fraction * p.start_balance:
                balance = 0.0
                break
        finals.append((balance - p.start_balance) / p.start_balance * 100)
    assert out["median_return_pct"] == round(float(np.percentile(finals, 50)), 1)
    assert out["p95_return_pct"] == round(float(np.percentile(finals, 95)), 1)


def test_robust_simulation_reproduces_the_reference_sizing_figures():
    # spec 20 §11 R8: box from WR 38.7 %, +3.85 R / -1.18 R -> at 1 %: ruin 0, median ~ +290 %, p95 DD ~ 26 %
    p = SizingParams()
    rows = [simulate(uncertainty_box(12 / 31, 3.85, -1.18), r, p) for r in p.risks]
    one = rows[1]
    assert one["risk"] == 0.01 and one["ruin_pct"] == 0.0
    assert one["median_return_pct"] == pytest.approx(290.2, abs=2.0)
    assert one["p95_max_dd_pct"] == pytest.approx(25.9, abs=0.3)
    assert rows[2]["p95_max_dd_pct"] == pytest.approx(36.7, abs=0.3)
    assert best_risk(rows, p) == 0.01


def test_recommendation_rules():
    p = SizingParams()
    assert recommend([0.02, None, 0.03], p) == 0.02
    assert recommend([None, None, 0.0], p) == 0.01  # default
    assert recommend([0.001, None, None], p) == 0.005 and recommend([0.2], p) == 0.05  # clamped


def test_margin_hint_uses_symbol_leverage_and_stop_multiple():
    rows = margin_hint(0.01, 20, 1.5, [1.0, 0.5], cap=0.5)
    assert rows == [{"atr_pct": 1.0, "margin_max_ratio": round(0.01 / (20 * 1.5 * 0.01), 4)},
                    {"atr_pct": 0.5, "margin_max_ratio": round(0.01 / (20 * 1.5 * 0.005), 4)}]  # fmt: skip
    assert margin_hint(0.05, 1, 1.0, [0.1], cap=0.5)[0]["margin_max_ratio"] == 0.5


def test_too_few_trades_is_a_clear_error():
    with pytest.raises(DataError, match="needs at least 5"):
        sizing_analysis(_trades([1.0, -1.0]), "XRPUSDT", 10, 1.5, None)


def test_sizing_for_a_synthetic_market(synthetic):
    market = prepare_market(synthetic.combined, "XRPUSDT")
    params = StrategyParams(atr_sl_mult=1.0, atr_tp_mult=2.0, signal_threshold=3, adx_threshold=30.0, volume_multiplier=2.0)
    cfg = BacktestConfig(symbol="XRPUSDT", params=params, leverage=5)
    out = sizing_for_market(market, cfg, WalkForwardConfig(), SizingParams(n_sims=500, n_trades=50))
    assert out["symbol"] == "XRPUSDT" and out["observed"]["trades"] == out["backtest_summary"]["total_trades"]
    assert 0.005 <= out["recommended_risk"] <= 0.05
    assert out["margin_hint"]["leverage"] == 5 and out["margin_hint"]["sl_mult"] == 1.0
    assert 0 < out["margin_hint"]["observed_atr_pct"] < 5
    assert len(out["robust"]) == len(out["worst_case"]) == 9 and math.isfinite(out["kelly"]["worst_case"])
