import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from trader_runtime.errors import DataError, ModelUnavailable
from trader_runtime.ml.training import predict_proba, train_filter_model, walk_forward_validate
from trader_runtime.strategy.dataset import DatasetParams
from trader_runtime.strategy.features import FEATURE_COLUMNS, FEATURE_SCHEMA_VERSION


@pytest.fixture(scope="module")
def wf(dataset, small_params):
    return walk_forward_validate(dataset, small_params, 3)


def test_walk_forward_runs_exactly_n_folds(wf):
    assert wf.n_folds == 3 and [f.fold for f in wf.folds] == [1, 2, 3]
    assert all(f.n_train_fit < f.n_train for f in wf.folds)  # undersampled training partitions


def test_auc_threshold_and_counts_are_on_signal_rows_only(wf, dataset):
    for f in wf.folds:
        p = wf.predictions[wf.predictions["fold"] == f.fold]
        sig = p[p["source"] == "signal"]
        assert f.n_val == len(p) and f.n_val_signal == len(sig)  # validation is never undersampled
        assert (p["source"] == "hold_negative").any()
        assert f.n_pos == int(sig["label"].sum())
        assert f.auc_signal == pytest.approx(roc_auc_score(sig["label"], sig["proba"]))
        assert f.auc_all == pytest.approx(roc_auc_score(p["label"], p["proba"]))
        assert f.auc_signal_defined
    m = wf.metrics()
    assert m["mean_auc_signal"] == pytest.approx(np.mean([f.auc_signal for f in wf.folds]))
    assert m["min_val_signals"] == min(f.n_val_signal for f in wf.folds)
    json.dumps(wf.to_dict(), allow_nan=False)


def test_hold_negatives_are_easy_signal_rows_are_not(wf):
    # the W-03 effect: HOLD negatives inflate the all-rows AUC
    assert wf.mean_auc_all > wf.mean_auc_signal


def test_walk_forward_is_deterministic(dataset, small_params, wf):
    again = walk_forward_validate(dataset, small_params, 3)
    assert again.folds == wf.folds
    pd.testing.assert_frame_equal(again.predictions, wf.predictions)


def test_single_class_signal_fold_gives_flagged_half(dataset, small_params):
    ds = dataset.copy()
    last_third = ds["row"] >= ds["row"].quantile(0.75)
    ds.loc[last_third & (ds["source"] == "signal"), "label"] = 0
    res = walk_forward_validate(ds, small_params, 2)
    last = res.folds[-1]
    assert (last.auc_signal, last.auc_signal_defined) == (0.5, False)
    assert (last.threshold, last.precision, last.recall, last.threshold_found) == (0.5, 0.0, 0.0, False)


def test_too_small_dataset_is_a_data_error(dataset, small_params):
    with pytest.raises(DataError, match="at least 200"):
        walk_forward_validate(dataset.iloc[:150], small_params, 3)


def test_feature_subset_is_used(dataset, small_params):
    cols = [c for c in FEATURE_COLUMNS if c not in ("signal_strength", "side")]
    res = walk_forward_validate(dataset, small_params, 2, feature_columns=cols)
    assert res.feature_columns == tuple(cols)
    assert set(res.folds[0].importances) == set(cols)


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
def test_predict_proba_passes_nan_and_reorders_columns(fitted_model, dataset):
    X = dataset[list(FEATURE_COLUMNS)].iloc[:50].copy()
    X.iloc[::3, [0, 6, 7]] = np.nan
    native = fitted_model.predict_proba(X.to_numpy(np.float32))[:, 1]  # LightGBM's own NaN handling
    shuffled = X[list(reversed(FEATURE_COLUMNS))].assign(extra=1.0)
    assert np.array_equal(predict_proba(fitted_model, shuffled), native)
    assert np.array_equal(predict_proba(fitted_model, X.to_numpy()), native)
    with pytest.raises(ModelUnavailable):
        predict_proba(fitted_model, X.drop(columns="adx"))
    with pytest.raises(ModelUnavailable):
        predict_proba(fitted_model, X.to_numpy()[:, :18])


@pytest.fixture(scope="module")
def trained(dataset, small_params):
    return train_filter_model(dataset, small_params, dataset_params=DatasetParams(), symbol="XRPUSDT",
                              n_folds=3, params_source="test")


def test_final_model_holds_out_the_tail_and_refits_on_everything(trained, dataset):
    held = trained.holdout_predictions
    assert held["row"].min() > trained.walk_forward.predictions["row"].max()  # dev folds never see the tail
    assert held["row"].iloc[-1] == dataset["row"].iloc[-1]
    assert trained.booster.num_trees() == 30  # n_estimators fixed, no early stopping
    assert trained.metrics["holdout_n_signal"] == int((held["source"] == "signal").sum())
    assert 0.0 < trained.threshold <= 1.0 and trained.threshold == trained.metrics["threshold"]


def test_bundle_metadata(trained, dataset):
    md = trained.metadata
    assert md["feature_columns"] == list(FEATURE_COLUMNS) and md["feature_schema_version"] == FEATURE_SCHEMA_VERSION
    assert md["versions"]["lightgbm"] and md["versions"]["pandas_ta"]
    assert md["label"] == {"sl_mult": 2.0, "tp_mult": 2.0, "lookahead": 24}
    assert md["signal_thresholds"] == {"signal_threshold": 2, "adx_threshold": 15.0, "volume_multiplier": 1.5}
    assert md["training_range"]["start_time"] == dataset["timestamp"].iloc[0].isoformat()
    assert md["training_range"]["end_time"].endswith("+00:00")
    assert md["params"]["n_estimators"] == 30 and md["params_source"] == "test"
    assert md["threshold"]["value"] == trained.threshold
    assert md["validation_metrics"]["holdout_auc_signal"] == trained.metrics["holdout_auc_signal"]
    json.dumps(md, allow_nan=False)
