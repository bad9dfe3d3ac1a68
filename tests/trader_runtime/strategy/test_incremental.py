import pandas as pd
import pytest

from fixtures.candles import random_walk
from trader_runtime.config import TRAIN_SIGNAL_PARAMS
from trader_runtime.errors import DataError
from trader_runtime.strategy.incremental import IncrementalFeatureEngine


def _engine(min_candles=1000):
    return IncrementalFeatureEngine("XRPUSDT", TRAIN_SIGNAL_PARAMS, min_candles=min_candles)


def test_not_ready_before_minimum_history():
    df = random_walk(1100)
    eng = _engine()
    eng.seed(df.iloc[:900])
    assert not eng.update(df.iloc[900:901]).ready
    eng.seed(df.iloc[:1050])
    assert eng.update(df.iloc[1050:1051]).ready


def test_buffer_is_bounded():
    df = random_walk(1300)
    eng = _engine()
    eng.seed(df.iloc[:1200])
    eng.update(df.iloc[1200:1201])
    assert len(eng) == 1000 and eng.last_time == df.index[1200]


def test_gap_and_stale_candles_are_refused_without_changing_the_buffer():
    df = random_walk(1100)
    eng = _engine()
    eng.seed(df.iloc[:1050])
    with pytest.raises(DataError, match="gap"):
        eng.update(df.iloc[1052:1053])
    with pytest.raises(DataError, match="older"):
        eng.update(df.iloc[1000:1001])
    assert eng.last_time == df.index[1049]


def test_repeated_candle_replaces_the_last_row():
    df = random_walk(1100)
    eng = _engine()
    eng.seed(df.iloc[:1050])
    fixed = df.iloc[1049:1050].copy()
    fixed["close"] = fixed["close"] * 1.01
    out = eng.update(fixed)
    assert out.time == df.index[1049] and out.close == pytest.approx(float(fixed["close"].iloc[0]))
    assert len(eng) == 1000


def test_naive_timestamps_are_refused():
    df = random_walk(1100)
    eng = _engine()
    eng.seed(df.iloc[:1050])
    bad = df.iloc[1050:1051].copy()
    bad.index = bad.index.tz_localize(None)
    with pytest.raises(DataError, match="UTC"):
        eng.update(bad)
