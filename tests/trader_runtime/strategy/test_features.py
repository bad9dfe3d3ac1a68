import numpy as np
import pandas as pd
import pytest

from fixtures.candles import random_walk
from trader_runtime.config import PRODUCTION_PARAMS, TRAIN_SIGNAL_PARAMS
from trader_runtime.strategy.features import (
    FEATURE_COLUMNS,
    FEATURE_COLUMNS_18,
    compute_features,
    side_feature,
)
from trader_runtime.strategy.incremental import IncrementalFeatureEngine
from trader_runtime.strategy.pipeline import prepare_market


def test_schema_has_26_columns_in_model_order():
    assert len(FEATURE_COLUMNS) == 26 and len(FEATURE_COLUMNS_18) == 18
    assert FEATURE_COLUMNS[11:13] == ("signal_strength", "side") and FEATURE_COLUMNS[-1] == "adx"


def test_eighteen_column_mode_without_correlation_data():
    m = prepare_market(random_walk(400, with_corr=False))
    feats = m.features(TRAIN_SIGNAL_PARAMS)
    assert tuple(feats.columns) == FEATURE_COLUMNS_18


def test_relative_strength_zero_when_btc_return_is_zero():
    df = random_walk(400)
    df["close_btc"] = 90000.0  # flat BTC: every raw BTC return is exactly 0
    df["open_btc"] = df["high_btc"] = df["low_btc"] = 90000.0
    feats = prepare_market(df).features(TRAIN_SIGNAL_PARAMS)
    assert (feats["primary_btc_rs"].dropna() == 0).all()
    assert np.isfinite(feats["atr_pct"].iloc[100:]).all()


def test_oi_and_funding_zero_means_missing():
    df = random_walk(400)
    df["oi_change"] = 0.0
    df["funding_rate"] = 0.0
    df.iloc[200:, df.columns.get_loc("funding_rate")] = 1e-4
    feats = prepare_market(df).features(TRAIN_SIGNAL_PARAMS)
    assert feats["oi_change"].isna().all() and feats["oi_price_spread"].isna().all()
    assert feats["funding_rate"].iloc[:200].isna().all() and feats["funding_rate"].iloc[200:].notna().all()


def test_oi_ma5_ignores_missing_values():
    df = random_walk(300)
    oi = np.zeros(300)
    oi[150] = 0.02
    df["oi_change"] = oi
    df["funding_rate"] = 1e-4
    feats = prepare_market(df).features(TRAIN_SIGNAL_PARAMS)
    assert feats["oi_change_ma5"].iloc[150:155].notna().all() and np.isnan(feats["oi_change_ma5"].iloc[155])


def test_side_feature_encoding():
    out = side_feature(np.array([1, -1, 0], dtype=np.int8))
    assert out[0] == 1.0 and out[1] == 0.0 and np.isnan(out[2])


@pytest.mark.parametrize("params", [TRAIN_SIGNAL_PARAMS, PRODUCTION_PARAMS], ids=["relaxed", "production"])
def test_batch_and_incremental_features_are_identical_on_real_data(xrp_market, xrp_real, params):
    """Replay the last candles through the live path: same signal, features within 1e-9 (D11, REQ 10 §4.7)."""
    sig = xrp_market.signals(params)
    batch = compute_features(xrp_market.frame, side_feature(sig.signal), sig.strength)
    engine = IncrementalFeatureEngine("XRPUSDT", params)
    start = len(xrp_real) - 250
    engine.seed(xrp_real.iloc[:start])
    worst = 0.0
    for i in range(start, len(xrp_real)):
        live = engine.update(xrp_real.iloc[i : i + 1])
        assert live.ready and live.time == xrp_real.index[i]
        assert live.signal == sig.signal[i]
        b = batch.iloc[i].to_numpy()
        f = live.features.to_numpy()
        assert np.array_equal(np.isnan(b), np.isnan(f))
        if np.isfinite(b).any():
            worst = max(worst, float(np.nanmax(np.abs(b - f))))
    assert worst <= 1e-9
