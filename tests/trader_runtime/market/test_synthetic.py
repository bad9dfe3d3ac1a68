"""Synthetic market: determinism, schema, candle consistency, the raw series, and enough realism to trade."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trader_runtime.config import TRAIN_SIGNAL_PARAMS, StrategyParams
from trader_runtime.domain.schema import (
    BAR,
    BTC_COLUMNS,
    COMBINED_COLUMNS,
    ETH_COLUMNS,
    LS_RATIO_COLUMNS,
    OHLCV_COLUMNS,
    validate_combined_frame,
)
from trader_runtime.errors import ConfigError, DataError
from trader_runtime.market.quality import quality_report
from trader_runtime.market.synthetic import (
    DEFAULT_END,
    TREND_DOWN,
    TREND_UP,
    SyntheticParams,
    generate_market,
    symbol_profile,
)
from trader_runtime.strategy.pipeline import prepare_market


def _frames(market):
    return (market.combined, market.ls_ratio, market.open_interest, market.funding)


def test_same_seed_gives_identical_frames():
    a = generate_market("XRPUSDT", days=4, seed=5)
    b = generate_market("XRPUSDT", days=4, seed=5)
    for left, right in zip(_frames(a), _frames(b)):
        pd.testing.assert_frame_equal(left, right)
    pd.testing.assert_series_equal(a.regime, b.regime)


def test_different_seed_gives_different_data():
    a = generate_market("XRPUSDT", days=4, seed=5).combined
    b = generate_market("XRPUSDT", days=4, seed=6).combined
    assert a.index.equals(b.index)
    assert not np.allclose(a["close"], b["close"])
    assert not np.allclose(a["close_btc"], b["close_btc"])


def test_symbols_with_the_same_seed_share_btc_and_eth():
    xrp = generate_market("XRPUSDT", days=3, seed=9).combined
    sol = generate_market("SOLUSDT", days=3, seed=9).combined
    pd.testing.assert_frame_equal(xrp[list(BTC_COLUMNS + ETH_COLUMNS)], sol[list(BTC_COLUMNS + ETH_COLUMNS)])
    assert not np.allclose(xrp["close"] / xrp["close"].iloc[-1], sol["close"] / sol["close"].iloc[-1])


def test_combined_frame_has_the_exact_schema(small_market):
    df = small_market.combined
    assert list(df.columns) == list(COMBINED_COLUMNS)
    assert df.index.name == "timestamp"
    assert str(df.index.dtype) == "datetime64[ms, UTC]"
    assert all(str(t) == "float64" for t in df.dtypes)
    pd.testing.assert_frame_equal(validate_combined_frame(df), df)
    assert list(small_market.ls_ratio.columns) == list(LS_RATIO_COLUMNS)
    assert list(small_market.open_interest.columns) == ["timestamp", "sum_open_interest"]
    assert list(small_market.funding.columns) == ["funding_time", "funding_rate"]


def test_regular_grid_ending_at_end_without_gaps():
    end = pd.Timestamp("2025-06-01 12:15", tz="UTC")
    m = generate_market("DOGEUSDT", days=3, seed=1, end=end)
    idx = m.combined.index
    assert len(idx) == 3 * 96
    assert idx[-1] == end - BAR
    assert (np.diff(idx.asi8) == BAR // pd.Timedelta(milliseconds=1)).all()
    report = quality_report(m.combined, now=end)
    assert report.ok, report.issues()
    assert m.ls_ratio["timestamp"].equals(pd.Series(idx, name="timestamp"))


@pytest.mark.parametrize("suffix", ["", "_btc", "_eth"])
def test_ohlc_is_consistent(suffix):
    df = generate_market("XRPUSDT", days=30, seed=3).combined
    o, h, l, c, v = (df[f"{col}{suffix}"].to_numpy() for col in OHLCV_COLUMNS)
    assert (h >= np.maximum(o, c)).all()
    assert (l <= np.minimum(o, c)).all()
    assert (l > 0).all() and (v > 0).all()
    assert np.array_equal(o[1:], c[:-1])  # continuous candles


def test_funding_settles_every_8h_and_is_never_exactly_zero(small_market):
    funding = small_market.funding
    times = pd.DatetimeIndex(funding["funding_time"])
    assert ((times.hour % 8 == 0) & (times.minute == 0)).all()
    assert (np.diff(times.asi8) == 8 * 3600 * 1000).all()
    rates = funding["funding_rate"].to_numpy()
    assert (rates != 0.0).all() and (np.abs(rates) < 3e-3).all()
    candles = small_market.combined
    expected = pd.merge_asof(
        candles.index.to_frame(index=False),
        funding.rename(columns={"funding_time": "timestamp"}),
        on="timestamp",
    )["funding_rate"].to_numpy()
    assert np.array_equal(candles["funding_rate"].to_numpy(), expected)
    assert not candles["funding_rate"].isna().any()


def test_oi_change_is_the_relative_change_of_open_interest(small_market):
    oi = small_market.open_interest["sum_open_interest"].to_numpy()
    change = small_market.combined["oi_change"].to_numpy()
    assert np.isnan(change[0])
    np.testing.assert_allclose(change[1:], oi[1:] / oi[:-1] - 1.0)
    assert (oi > 0).all()


def test_price_levels_match_the_symbol_profile():
    m = generate_market("XRPUSDT", days=2, seed=4)
    last = m.combined.iloc[-1]
    assert last["close"] == pytest.approx(2.0)
    assert last["close_btc"] == pytest.approx(90_000.0)
    assert last["close_eth"] == pytest.approx(3_000.0)
    unknown = generate_market("zzzusdt", days=2, seed=4)
    assert unknown.symbol == "ZZZUSDT"
    assert unknown.combined["close"].iloc[-1] == pytest.approx(symbol_profile("ZZZUSDT").price)
    assert symbol_profile("ZZZUSDT") == symbol_profile("zzzusdt")
    assert symbol_profile("ZZZUSDT") != symbol_profile("YYYUSDT")


def test_btcusdt_as_the_traded_symbol_reuses_the_btc_path():
    df = generate_market("BTCUSDT", days=2, seed=2).combined
    for col in OHLCV_COLUMNS:
        np.testing.assert_array_equal(df[col].to_numpy(), df[f"{col}_btc"].to_numpy())


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        (dict(days=0), ConfigError),
        (dict(days=2.5), ConfigError),
        (dict(seed=-1), ConfigError),
        (dict(end=pd.Timestamp("2026-01-01")), ConfigError),
        (dict(end=pd.Timestamp("2026-01-01 00:07", tz="UTC")), ConfigError),
        (dict(symbol="XRP/USDT"), DataError),
    ],
)
def test_bad_arguments_are_refused(kwargs, error):
    args = dict(symbol="XRPUSDT", days=2, seed=1, end=DEFAULT_END) | kwargs
    with pytest.raises(error):
        generate_market(**args)


def test_bad_model_params_are_refused():
    with pytest.raises(ConfigError):
        SyntheticParams(garch_alpha=0.5, garch_beta=0.6)


def test_stylised_facts_of_real_markets():
    m = generate_market("XRPUSDT", days=180, seed=21)
    df = m.combined
    r = np.log(df["close"]).diff().dropna()
    rb = np.log(df["close_btc"]).diff().dropna()
    re = np.log(df["close_eth"]).diff().dropna()
    assert r.kurt() > 3  # fat tails
    assert r.abs().autocorr(1) > 0.1  # volatility clustering
    assert 0.6 < r.corr(rb) < 0.9 and 0.7 < rb.corr(re) < 0.95  # BTC-driven correlation
    hourly = df["volume"].groupby(df.index.hour).median()
    assert hourly.max() > 1.5 * hourly.min()  # intraday seasonality
    assert np.log(df["volume"].iloc[1:]).corr(np.log(r.abs() + 1e-9)) > 0.2  # volume tied to |return|
    rb_by_regime = pd.Series(rb.to_numpy(), index=m.regime.to_numpy()[1:])
    assert rb_by_regime.loc[TREND_UP].mean() > 0 > rb_by_regime.loc[TREND_DOWN].mean()


def test_the_strategy_trades_on_synthetic_data():
    """Roughly real-XRP signal rates: ~100/year at the defaults, ~2,800/year at the training thresholds."""
    prepared = prepare_market(generate_market("XRPUSDT", days=120, seed=8).combined, "XRPUSDT")
    default = np.count_nonzero(prepared.signals(StrategyParams()).signal[60:])
    relaxed = np.count_nonzero(prepared.signals(TRAIN_SIGNAL_PARAMS).signal[60:])
    assert 8 <= default <= 120
    assert 300 <= relaxed <= 2000
