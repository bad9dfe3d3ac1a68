import json

import pytest

from trader_runtime.ml.ablation import ablation_verdict, run_ablation


@pytest.mark.parametrize(
    ("drop", "verdict"),
    [
        (-0.02, "value"),
        (0.0, "value"),
        (0.05, "value"),
        (0.80 - 0.75, "value"),  # 0.05000000000000004 in floats
        (0.0501, "conditional"),
        (0.10, "conditional"),  # D9: the boundary itself is conditional
        (0.60 - 0.50, "conditional"),  # 0.09999999999999998
        (0.1001, "redesign"),
        (0.3, "redesign"),
    ],
)
def test_verdict_bands(drop, verdict):
    assert ablation_verdict(drop) == verdict


def test_run_ablation_experiments(dataset, small_params):
    res = run_ablation(dataset, small_params, n_folds=2)
    a, b, c = (res.experiment(n) for n in "ABC")
    assert "signal_strength" in a.feature_columns and "side" in a.feature_columns
    assert "signal_strength" not in b.feature_columns and "side" in b.feature_columns
    assert not {"signal_strength", "side"} & set(c.feature_columns)
    assert len(a.feature_columns) - len(c.feature_columns) == 2
    assert res.drop == pytest.approx(a.mean_auc_signal - c.mean_auc_signal)
    assert res.verdict == ablation_verdict(res.drop)
    assert len(res.top_importances) == 10
    assert set(res.score_features_in_top) <= {"signal_strength", "side"}
    # all experiments validate on the same folds
    assert [f.val_start_row for f in a.walk_forward.folds] == [f.val_start_row for f in c.walk_forward.folds]
    json.dumps(res.to_dict(), allow_nan=False)
