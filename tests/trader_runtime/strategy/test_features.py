import numpy as np
import pandas as pd
import pytest

from fixtures.candles import random_walk
from trader_runtime.config import PRODUCTION_PARAMS, TRAIN_SIGNAL_PARAMS
from trader_runtime.domain.schema import METRIC_INPUT_COLUMNS
from trader_runtime.strategy.features import (
    FEATURE_COLUMNS,
    FEATURE_COLUMNS_18,
    METRIC_FEATURES,
    Z_OI,
    compute_features,
    side_feature,
)
from trader_runtime.strategy.incremental import IncrementalFeatureEngine
from trader_runtime.strategy.pipeline import prepare_market


def test_schema_has_30_columns_in_model_order():
    assert len(FEATURE_COLUMNS) == 30 and len(FEATURE_COLUMNS_18) == 22
    assert FEATURE_COLUMNS[11:13] == ("signal_strength", "side") and FEATURE_COLUMNS[25] == "adx"
    assert FEATURE_COLUMNS[26:] == METRIC_FEATURES == METRIC_INPUT_COLUMNS


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


def _with_metrics(n: int, seed: int = 3) -> pd.DataFrame:
    """A random walk carrying the four metric inputs, with missing stretches (NaN and the legacy 0.0)."""
    df = random_walk(n, seed=seed)
    rng = np.random.default_rng(seed)
    df["oi_value"] = 5e8 * np.exp(np.cumsum(rng.normal(0, 0.003, n)))
    df["top_acct_ls_ratio"] = np.exp(rng.normal(0.4, 0.2, n))
    df["global_ls_ratio"] = np.exp(rng.normal(0.6, 0.2, n))
    df["taker_ls_vol_ratio"] = np.exp(rng.normal(0, 0.3, n))
    df.iloc[100:130, df.columns.get_loc("top_acct_ls_ratio")] = np.nan
    df.iloc[200:210, df.columns.get_loc("taker_ls_vol_ratio")] = 0.0
    return df


def _z(x: np.ndarray, t: int, window: int) -> float:
    part = x[max(0, t - window + 1) : t + 1]
    part = part[~np.isnan(part)]
    return (x[t] - part.mean()) / max(part.std(), 1e-8)


def test_metric_inputs_become_day_zscores_and_missing_stays_missing():
    df = _with_metrics(500)
    feats = prepare_market(df).features(TRAIN_SIGNAL_PARAMS)
    assert tuple(feats.columns) == FEATURE_COLUMNS
    for name in METRIC_FEATURES:
        x = df[name].to_numpy().copy()
        x[x == 0.0] = np.nan
        for t in (99, 150, 300, 499):
            assert feats[name].iloc[t] == pytest.approx(_z(x, t, Z_OI), rel=1e-9, abs=1e-12), (name, t)
    assert feats["top_acct_ls_ratio"].iloc[100:130].isna().all()
    assert feats["taker_ls_vol_ratio"].iloc[200:210].isna().all()
    assert feats["oi_value"].notna().all()
    plain = prepare_market(random_walk(500, seed=3)).features(TRAIN_SIGNAL_PARAMS)
    assert plain[list(METRIC_FEATURES)].isna().all().all()  # no metric columns: NaN, the other features unchanged
    others = [c for c in FEATURE_COLUMNS if c not in METRIC_FEATURES]
    assert np.array_equal(plain[others].to_numpy(), feats[others].to_numpy(), equal_nan=True)


def test_streaming_metric_features_equal_the_batch_bits():
    df = _with_metrics(1400, seed=5)
    sig = prepare_market(df).signals(TRAIN_SIGNAL_PARAMS)
    batch = compute_features(prepare_market(df).frame, side_feature(sig.signal), sig.strength).to_numpy()
    engine = IncrementalFeatureEngine("XRPUSDT", TRAIN_SIGNAL_PARAMS)
    engine.seed(df.iloc[:1000])
    times = df.index.as_unit("ms").asi8.tolist()
    rows = df.to_dict("records")
    for i in range(1000, len(df)):
        live = engine.update_candle(times[i], rows[i])
        assert np.array_equal(live.features.to_numpy(), batch[i], equal_nan=True), i
