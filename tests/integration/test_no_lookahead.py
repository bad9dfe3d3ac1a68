"""Changing any candle after t changes no signal or feature at or before t (causality of the one implementation)."""

import numpy as np
import pytest

from fixtures.candles import random_walk
from trader_runtime.config import PRODUCTION_PARAMS, TRAIN_SIGNAL_PARAMS
from trader_runtime.strategy.pipeline import prepare_market


def _perturb_after(df, t, seed):
    rng = np.random.default_rng(seed)
    out = df.copy()
    tail = out.index > out.index[t]
    factor = rng.uniform(0.5, 1.5, size=(tail.sum(), 1))
    price_cols = [c for c in out.columns if c.split("_")[0] in ("open", "high", "low", "close")]
    out.loc[tail, price_cols] = out.loc[tail, price_cols].to_numpy() * factor
    out.loc[tail, "volume"] = out.loc[tail, "volume"].to_numpy() * rng.uniform(0.1, 10, tail.sum())
    return out


@pytest.mark.parametrize("params", [TRAIN_SIGNAL_PARAMS, PRODUCTION_PARAMS], ids=["relaxed", "production"])
@pytest.mark.parametrize("t", [400, 777, 1500])
def test_future_candles_do_not_change_the_past(params, t):
    df = random_walk(2000, seed=11)
    base = prepare_market(df)
    base_sig = base.signals(params)
    base_feat = base.features(params)
    changed = prepare_market(_perturb_after(df, t, seed=t))
    sig = changed.signals(params)
    feat = changed.features(params)
    assert np.array_equal(base_sig.signal[: t + 1], sig.signal[: t + 1])
    np.testing.assert_array_equal(base_feat.iloc[: t + 1].to_numpy(), feat.iloc[: t + 1].to_numpy())
    assert not np.array_equal(base.frame["close"].to_numpy()[t + 1 :], changed.frame["close"].to_numpy()[t + 1 :])
