import json
import math
from dataclasses import replace

import pytest

from trader_runtime.errors import DataError
from trader_runtime.ml.promotion import GateThresholds, PromotionEvidence, evaluate_promotion_gate

GOOD = PromotionEvidence(
    fold_signal_counts=(120, 150, 101, 180, 100),
    ablation_drop=0.03,
    pf_ml_on=1.45,
    pf_ml_off=1.30,
    validation_trades=64,
    folds_without_model=0,
    sweep_pf=2.0,
    walk_forward_pf=1.30,
    mean_auc_signal=0.58,
)
RULES = ["fold_signals", "ablation_drop", "pf_gain", "validation_trades", "fold_models", "sweep_wf_ratio",
         "champion_improvement"]


def test_all_rules_pass():
    res = evaluate_promotion_gate(GOOD)
    assert res.passed and res.failed == [] and [r.name for r in res.rules] == RULES
    json.dumps(res.to_dict(), allow_nan=False)


@pytest.mark.parametrize(
    ("change", "failed"),
    [
        ({"fold_signal_counts": (120, 99, 150)}, "fold_signals"),
        ({"fold_signal_counts": ()}, "fold_signals"),
        ({"ablation_drop": 0.0501}, "ablation_drop"),
        ({"pf_ml_on": 1.39}, "pf_gain"),
        ({"pf_ml_on": math.inf}, "pf_gain"),
        ({"validation_trades": 49}, "validation_trades"),
        ({"folds_without_model": 1}, "fold_models"),
        ({"sweep_pf": 2.6}, "sweep_wf_ratio"),  # 2.6 / 1.3 = 2.0 is not < 2.0
        ({"walk_forward_pf": 0.0}, "sweep_wf_ratio"),
        ({"sweep_pf": math.inf}, "sweep_wf_ratio"),
    ],
)
def test_each_rule_fails_on_its_own(change, failed):
    res = evaluate_promotion_gate(replace(GOOD, **change))
    assert not res.passed and res.failed == [failed]
    json.dumps(res.to_dict(), allow_nan=False)


@pytest.mark.parametrize(
    "change",
    [
        {"ablation_drop": 0.05},
        {"ablation_drop": 0.80 - 0.75},  # float noise on the boundary
        {"pf_ml_on": 1.40},  # exactly +0.1 (1.4 − 1.3 = 0.0999999… in floats)
        {"validation_trades": 50},
        {"fold_signal_counts": (100, 100)},
        {"sweep_pf": 2.59, "walk_forward_pf": 1.30},
        {"walk_forward_pf": math.inf},
    ],
)
def test_boundaries_pass(change):
    assert evaluate_promotion_gate(replace(GOOD, **change)).passed


def test_champion_must_be_beaten_by_the_minimum_improvement():
    champion = replace(GOOD, mean_auc_signal=0.57)
    assert evaluate_promotion_gate(GOOD, champion).passed  # +0.01
    res = evaluate_promotion_gate(GOOD, replace(GOOD, mean_auc_signal=0.575))
    assert res.failed == ["champion_improvement"]
    t = GateThresholds(champion_metric="pf_ml_on", min_champion_improvement=0.05)
    assert evaluate_promotion_gate(GOOD, replace(GOOD, pf_ml_on=1.40), t).passed
    assert evaluate_promotion_gate(GOOD, replace(GOOD, pf_ml_on=1.41), t).failed == ["champion_improvement"]


def test_missing_champion_metric_fails():
    res = evaluate_promotion_gate(GOOD, GOOD, GateThresholds(champion_metric="holdout_auc_signal"))
    assert res.failed == ["champion_improvement"]


def test_evidence_round_trips_through_strict_json():
    ev = replace(GOOD, pf_ml_on=math.inf, holdout_auc_signal=0.55)
    data = json.loads(json.dumps(ev.to_dict(), allow_nan=False))
    assert data["pf_ml_on"] is None and data["pf_ml_on_infinite"] is True
    assert PromotionEvidence.from_dict(data) == ev
    del data["ablation_drop"]
    with pytest.raises(DataError, match="ablation_drop"):
        PromotionEvidence.from_dict(data)


def test_evidence_from_real_results(dataset, small_params):
    from trader_runtime.config import BacktestConfig, WalkForwardConfig
    from trader_runtime.market.synthetic import generate_market
    from trader_runtime.ml.ablation import run_ablation
    from trader_runtime.ml.comparison import compare_ml
    from trader_runtime.ml.training import walk_forward_validate
    from trader_runtime.strategy.pipeline import prepare_market

    wf = walk_forward_validate(dataset, small_params, 2)
    ablation = run_ablation(dataset, small_params, 2)
    market = prepare_market(generate_market("XRPUSDT", days=125, seed=7).combined, "XRPUSDT")
    comparison = compare_ml(market, BacktestConfig(symbol="XRPUSDT"), WalkForwardConfig(2, 1), small_params)
    ev = PromotionEvidence.from_results(wf, ablation, comparison, sweep_pf=1.5)
    assert ev.fold_signal_counts == tuple(f.n_val_signal for f in wf.folds)
    assert ev.ablation_drop == ablation.drop and ev.pf_ml_on == comparison.pf_on
    assert ev.walk_forward_pf == comparison.pf_off and ev.validation_trades == comparison.trades_on
    res = evaluate_promotion_gate(ev)
    assert len(res.rules) == 7 and res.passed == all(r.passed for r in res.rules)
