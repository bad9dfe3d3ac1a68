import numpy as np
import pandas_ta as ta

from trader_runtime.strategy.indicators import INDICATOR_COLUMNS, compute_indicators

from fixtures.candles import random_walk


def test_bollinger_matches_pandas_ta(xrp_real):
    ind = compute_indicators(xrp_real)
    ref = ta.bbands(xrp_real["close"], length=20, std=2, talib=False)
    for col, prefix in (("bb_upper", "BBU"), ("bb_mid", "BBM"), ("bb_lower", "BBL")):
        theirs = ref.filter(like=prefix).iloc[:, 0].to_numpy()
        assert np.array_equal(np.isnan(ind[col].to_numpy()), np.isnan(theirs))
        rel = np.nanmax(np.abs(ind[col].to_numpy() - theirs) / xrp_real["close"].to_numpy())
        assert rel < 1e-9


def test_first_valid_rows_match_spec():
    ind = compute_indicators(random_walk(300))
    first = {c: int(np.argmax(~np.isnan(ind[c].to_numpy()))) for c in INDICATOR_COLUMNS}
    assert first["rsi"] == 1 and first["macd"] == 25 and first["macd_signal"] == 33
    assert first["bb_upper"] == 19 and first["ema9"] == 8 and first["ema50"] == 49
    assert first["atr"] == 13 and first["stoch_k"] == 16 and first["stoch_d"] == 18 and first["vol_ma20"] == 19
    assert not ind.iloc[49:].isna().any().any()


def test_indicators_are_causal():
    df = random_walk(400)
    full = compute_indicators(df)
    cut = compute_indicators(df.iloc[:250])
    np.testing.assert_allclose(full.iloc[:250].to_numpy(), cut.to_numpy(), rtol=0, atol=0, equal_nan=True)
