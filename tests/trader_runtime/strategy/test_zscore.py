import numpy as np
import pandas as pd

from trader_runtime.strategy.zscore import STD_FLOOR, rolling_zscore, trailing_nanmean


def _pandas_reference(x: np.ndarray, w: int) -> np.ndarray:
    s = pd.Series(x)
    mean = s.rolling(w, min_periods=1).mean()
    std = s.rolling(w, min_periods=1).std(ddof=0)
    std = std.where(std >= STD_FLOOR, STD_FLOOR)
    return ((s - mean) / std).to_numpy()


def test_matches_pandas_definition_with_nans():
    rng = np.random.default_rng(0)
    x = rng.normal(size=2000)
    x[rng.random(2000) < 0.1] = np.nan
    np.testing.assert_allclose(rolling_zscore(x, 288), _pandas_reference(x, 288), rtol=1e-9, atol=1e-9, equal_nan=True)


def test_single_value_gives_zero_and_constant_window_uses_floor():
    assert rolling_zscore(np.array([5.0]), 288)[0] == 0.0
    out = rolling_zscore(np.array([1.0, 1.0, 1.0, 2.0]), 3)
    assert out[2] == 0.0
    assert np.isfinite(out[3])


def test_nan_input_stays_nan_and_all_nan_window():
    out = rolling_zscore(np.array([np.nan, np.nan, 1.0, np.nan]), 2)
    assert np.isnan(out[0]) and np.isnan(out[1]) and out[2] == 0.0 and np.isnan(out[3])


def test_start_only_changes_which_rows_are_computed():
    x = np.random.default_rng(1).normal(size=700)
    full = rolling_zscore(x, 96)
    tail = rolling_zscore(x, 96, start=650)
    assert np.isnan(tail[:650]).all()
    assert np.array_equal(full[650:], tail[650:])  # bit-identical


def test_trailing_nanmean():
    x = np.array([np.nan, 1.0, np.nan, 3.0, np.nan, np.nan, np.nan, np.nan, np.nan])
    out = trailing_nanmean(x, 5)
    assert np.isnan(out[0]) and out[1] == 1.0 and out[3] == 2.0 and out[7] == 3.0 and np.isnan(out[8])
