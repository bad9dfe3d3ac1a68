"""Fixture archives in the exact public-data layout, generated per test (nothing is downloaded)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trader_runtime.domain.schema import OHLCV_COLUMNS


def candles(start: str, days: float, price: float = 2.0, seed: int = 0) -> pd.DataFrame:
    """A simple valid OHLCV frame on the 15-minute grid."""
    n = int(days * 96)
    idx = pd.date_range(pd.Timestamp(start, tz="UTC"), periods=n, freq="15min", name="timestamp").as_unit("ms")
    rng = np.random.default_rng(seed)
    close = np.round(price * np.exp(np.cumsum(rng.normal(0, 0.002, n))), 4)
    open_ = np.concatenate([[price], close[:-1]])
    high = np.round(np.maximum(open_, close) * 1.001, 4)
    low = np.round(np.minimum(open_, close) * 0.999, 4)
    volume = np.round(rng.uniform(1e5, 2e5, n), 1)
    return pd.DataFrame(dict(zip(OHLCV_COLUMNS, (open_, high, low, close, volume))), index=pd.DatetimeIndex(idx))


def settlements(start: str, days: int, jitter_ms: int = 5, rate0: float = 0.0001) -> pd.DataFrame:
    times = pd.date_range(pd.Timestamp(start, tz="UTC"), periods=days * 3, freq="8h")
    return pd.DataFrame({
        "calc_time": (times + pd.Timedelta(milliseconds=jitter_ms)).as_unit("ms"),
        "interval_hours": 8,
        "funding_rate": np.round(rate0 + 1e-5 * np.arange(len(times)), 8),
    })


def metrics(start: str, days: int, seed: int = 1) -> pd.DataFrame:
    """5-minute observations for `days` days, indexed by observation time (start+5min .. end)."""
    obs = pd.date_range(pd.Timestamp(start, tz="UTC") + pd.Timedelta(minutes=5), periods=days * 288, freq="5min",
                        name="obs_time").as_unit("ms")
    rng = np.random.default_rng(seed)
    oi = np.round(1e8 * np.exp(np.cumsum(rng.normal(0, 0.001, len(obs)))), 3)
    top = np.round(2.0 + 0.1 * rng.standard_normal(len(obs)), 4)
    return pd.DataFrame({
        "sum_open_interest": oi, "sum_open_interest_value": np.round(oi * 2, 2), "top_acct_ls_ratio": top,
        "top_pos_ls_ratio": np.round(top * 0.9, 4), "global_ls_ratio": np.round(top * 1.1, 4),
        "taker_ls_vol_ratio": np.round(rng.uniform(0.8, 1.2, len(obs)), 4),
    }, index=pd.DatetimeIndex(obs))


@pytest.fixture()
def mirror(tmp_path: Path) -> Path:
    root = tmp_path / "mirror"
    root.mkdir()
    return root
