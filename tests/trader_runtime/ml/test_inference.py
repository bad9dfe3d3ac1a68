import numpy as np
import pytest

from trader_runtime.errors import ModelUnavailable
from trader_runtime.ml.fitting import fit_rows, predict_proba
from trader_runtime.ml.inference import OnnxFilter
from trader_runtime.ml.onnx_export import export_onnx
from trader_runtime.strategy.features import FEATURE_COLUMNS, FEATURE_COLUMNS_18


@pytest.fixture(scope="module")
def onnx_bytes(fitted_model):
    return export_onnx(fitted_model, len(FEATURE_COLUMNS))


@pytest.fixture(scope="module")
def filt(onnx_bytes):
    return OnnxFilter(onnx_bytes, FEATURE_COLUMNS, threshold=0.55)


def test_predictions_match_lightgbm_with_nan_and_any_column_order(filt, fitted_model, dataset):
    X = dataset[list(FEATURE_COLUMNS)].iloc[:200].copy()
    X.iloc[::4, [0, 8, 20]] = np.nan
    want = predict_proba(fitted_model, X)
    frame = X[list(reversed(FEATURE_COLUMNS))].assign(timestamp=0)
    got = filt(frame)
    assert got.dtype == np.float64 and got.shape == (200,)
    assert np.max(np.abs(got - want)) <= 1e-5
    assert filt.predict(X.iloc[4]) == pytest.approx(want[4:5], abs=1e-5)  # one row as a Series
    assert np.array_equal(filt.allows(X), filt(X) >= 0.55)
    assert filt(X.iloc[:0]).shape == (0,)


def test_model_with_other_feature_list_is_refused(dataset, small_params, onnx_bytes):
    model18, _ = fit_rows(dataset, np.arange(len(dataset)), small_params, FEATURE_COLUMNS_18, "18")
    blob18 = export_onnx(model18, len(FEATURE_COLUMNS_18))
    with pytest.raises(ModelUnavailable, match="missing"):
        OnnxFilter(blob18, FEATURE_COLUMNS_18, 0.55)
    OnnxFilter(blob18, FEATURE_COLUMNS_18, 0.55, expected_columns=FEATURE_COLUMNS_18)  # explicit 18-column mode
    swapped = list(FEATURE_COLUMNS)
    swapped[0], swapped[1] = swapped[1], swapped[0]
    with pytest.raises(ModelUnavailable, match="order"):
        OnnxFilter(onnx_bytes, swapped, 0.55)
    with pytest.raises(ModelUnavailable, match="width"):
        OnnxFilter(blob18, FEATURE_COLUMNS, 0.55)


def test_missing_column_at_predict_time(filt, dataset):
    with pytest.raises(ModelUnavailable, match="adx"):
        filt(dataset.drop(columns="adx"))


@pytest.mark.parametrize("threshold", [0.0, 1.5, float("nan")])
def test_bad_threshold(onnx_bytes, threshold):
    with pytest.raises(ModelUnavailable):
        OnnxFilter(onnx_bytes, FEATURE_COLUMNS, threshold)


def test_corrupt_model_bytes():
    with pytest.raises(ModelUnavailable, match="cannot be loaded"):
        OnnxFilter(b"not an onnx model", FEATURE_COLUMNS, 0.55)
