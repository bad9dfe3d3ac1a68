import json
import math

import numpy as np
import pytest

from trader_runtime.backtest.serialization import dumps
from trader_runtime.config import BacktestConfig, StrategyParams, WalkForwardConfig
from trader_runtime.market.synthetic import generate_market
from trader_runtime.ml.comparison import comparison_rows, comparison_verdict, compare_ml
from trader_runtime.strategy.dataset import DatasetParams
from trader_runtime.strategy.pipeline import prepare_market

CFG = BacktestConfig(
    symbol="XRPUSDT",
    params=StrategyParams(atr_sl_mult=1.5, atr_tp_mult=3.0, signal_threshold=3, adx_threshold=0.0, volume_multiplier=1.5),
)
WF = WalkForwardConfig(train_months=2, test_months=1)


@pytest.fixture(scope="module")
def market():
    return prepare_market(generate_market("XRPUSDT", days=125, seed=7).combined, "XRPUSDT")


@pytest.fixture(scope="module")
def result(market, small_params):
    return compare_ml(market, CFG, WF, small_params)


def summary(pf, wr=50.0, mdd=10.0):
    return {"profit_factor": pf, "win_rate": wr, "max_drawdown_pct": mdd, "total_trades": 10, "total_pnl": 1.0,
            "return_pct": 0.1, "sharpe": 0.5}


@pytest.mark.parametrize(
    ("off", "on", "verdict"),
    [
        (summary(math.inf), summary(1.2), "undecided"),
        (summary(1.2), summary(math.inf), "undecided"),
        (summary(0.0), summary(1.2), "cannot judge"),
        (summary(1.0), summary(1.1), "negligible"),  # +0.1 is not > 0.1
        (summary(1.0), summary(1.11), "conditional"),
        (summary(1.0, wr=40, mdd=12), summary(1.0, wr=42.5, mdd=10.5), "worth deploying"),
        (summary(1.0, wr=40, mdd=12), summary(1.0, wr=42.0, mdd=11.0), "negligible"),
    ],
)
def test_verdict(off, on, verdict):
    assert comparison_verdict(off, on)[0] == verdict


def test_rows_have_no_delta_when_a_side_is_infinite():
    rows = {r["metric"]: r for r in comparison_rows(summary(1.0), summary(math.inf))}
    assert rows["profit_factor"]["delta"] is None
    assert rows["win_rate"]["delta"] == 0.0


def test_every_fold_trains_its_own_filter_and_gates_entries(result):
    assert [r.fold for r in result.fold_models] == [1, 2]
    assert all(r.trained and r.parity_max_abs_diff <= 1e-5 for r in result.fold_models)
    assert result.folds_without_model == 0 and result.ml_on.summary["folds_without_model"] == 0
    assert [f.model_used for f in result.ml_on.folds] == [True, True]
    on, off = result.ml_on.trades, result.ml_off.trades
    assert (on["ml_proba"] >= CFG.ml_threshold).all() and off["ml_proba"].isna().all()
    assert sum(h["entries_blocked_by_ml"] for h in result.ml_on.halts) > 0
    assert result.verdict == comparison_verdict(result.ml_off.summary, result.ml_on.summary)[0]


def test_payload_is_strict_json_with_infinite_flags(result):
    payload = result.to_dict()
    json.dumps(payload, allow_nan=False)
    result.ml_on.summary["profit_factor"] = math.inf
    try:
        inf_payload = result.to_dict()
    finally:
        result.ml_on.summary["profit_factor"] = float(np.round(result.pf_on, 2))
    assert inf_payload["ml_on"]["profit_factor"] is None and inf_payload["ml_on"]["profit_factor_infinite"] is True
    dumps(inf_payload)


def test_folds_without_data_run_unfiltered_and_are_counted(market, small_params):
    impossible = DatasetParams(signal=StrategyParams(signal_threshold=6, adx_threshold=99.0))
    res = compare_ml(market, CFG, WF, small_params, dataset_params=impossible)
    assert res.folds_without_model == 2 and res.ml_on.summary["folds_without_model"] == 2
    assert all(not r.trained and "rows" in r.reason for r in res.fold_models)
    assert res.ml_on.summary["total_trades"] == res.ml_off.summary["total_trades"]
