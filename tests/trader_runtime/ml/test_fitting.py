import numpy as np
import pytest

from trader_runtime.errors import DataError
from trader_runtime.ml.fitting import fit_rows, model_feature_columns, training_weights
from trader_runtime.strategy.features import FEATURE_COLUMNS, FEATURE_COLUMNS_18


def test_weights_decay_over_the_fitted_rows_time_span(dataset):
    part = dataset.iloc[:800]
    w = training_weights(part, {"time_weight_decay": 2.0})
    assert w[-1] / w[0] == pytest.approx(np.exp(2.0), rel=1e-5)  # relative to this partition, not the dataset
    assert w.mean() == pytest.approx(1.0, rel=1e-5)
    assert (training_weights(part, {"time_weight_decay": 0.0}) == 1.0).all()


def test_weights_fall_back_to_the_dataset_column_when_decay_is_none(dataset):
    part = dataset.iloc[:800]
    assert np.array_equal(training_weights(part, {"time_weight_decay": None}), part["sample_weight"].to_numpy())


def test_whole_dataset_weights_equal_the_builders(dataset):
    # the builder used decay 2.0 over all rows; a fit on all rows with decay 2.0 weights them identically
    w = training_weights(dataset, {"time_weight_decay": 2.0})
    assert np.allclose(w, dataset["sample_weight"].to_numpy(), rtol=1e-6)


def test_schema_detection(dataset):
    assert model_feature_columns(dataset) == FEATURE_COLUMNS
    assert model_feature_columns(dataset.drop(columns=["btc_ret_1"])) == FEATURE_COLUMNS_18
    with pytest.raises(DataError):
        model_feature_columns(dataset.drop(columns=["rsi"]))
    with pytest.raises(DataError):
        model_feature_columns(dataset, ["rsi", "nope"])


def test_single_class_training_rows_are_refused(dataset, small_params):
    neg = np.flatnonzero(dataset["label"].to_numpy() == 0)
    with pytest.raises(DataError, match="both classes"):
        fit_rows(dataset, neg, small_params, FEATURE_COLUMNS, "test fold")


def test_undersampling_keeps_signals_and_balances_holds(dataset, small_params):
    idx = np.arange(len(dataset))
    _, n_fit = fit_rows(dataset, idx, small_params, FEATURE_COLUMNS, "all")
    n_pos = int(dataset["label"].sum())
    n_sig_neg = int(((dataset["label"] == 0) & (dataset["source"] == "signal")).sum())
    assert n_fit == n_pos + n_sig_neg + n_pos
