"""Payload parsing and candle alignment of the public market-data adapter (pure; recorded-shape payloads)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trader_runtime.errors import DataError
from trader_runtime.exchange.binance.market_parsing import (
    dedupe_ls_ratio,
    funding_for_candles,
    oi_change_for_candles,
    parse_funding,
    parse_klines,
    parse_ls_ratio,
    parse_open_interest,
)

T0 = 1_767_225_600_000  # 2026-01-01 00:00 UTC in ms
BAR_MS = 900_000


def kline(open_ms: int, close: str = "2.0") -> list:
    return [open_ms, "2.0", "2.1", "1.9", close, "1000.5", open_ms + BAR_MS - 1, "2000", 10, "500", "1000", "0"]


def ts(ms: int) -> pd.Timestamp:
    return pd.Timestamp(ms, unit="ms", tz="UTC")


def test_klines_keep_only_closed_candles_sorted_and_unique():
    rows = [kline(T0 + BAR_MS), kline(T0), kline(T0 + BAR_MS, close="2.05"), kline(T0 + 2 * BAR_MS)]
    now = ts(T0 + 2 * BAR_MS + 60_000)  # the third candle is still forming
    frame = parse_klines(rows, now, "XRPUSDT")
    assert list(frame.index) == [ts(T0), ts(T0 + BAR_MS)]
    assert frame.loc[ts(T0 + BAR_MS), "close"] == 2.05
    assert frame.loc[ts(T0), "volume"] == 1000.5
    assert str(frame.index.tz) == "UTC" and frame.dtypes.eq("float64").all()


def test_kline_closing_exactly_now_is_closed():
    frame = parse_klines([kline(T0)], ts(T0 + BAR_MS), "XRPUSDT")
    assert len(frame) == 1


@pytest.mark.parametrize("payload", [{"code": -1121, "msg": "Invalid symbol."}, [[T0, "2.0"]], [kline(T0)[:6]]])
def test_malformed_kline_payload_is_refused(payload):
    with pytest.raises(DataError, match="XRPUSDT klines"):
        parse_klines(payload, ts(T0 + 10 * BAR_MS), "XRPUSDT")


def test_non_numeric_price_is_refused():
    bad = kline(T0)
    bad[4] = "abc"
    with pytest.raises(DataError, match="close"):
        parse_klines([bad], ts(T0 + 10 * BAR_MS), "XRPUSDT")


def test_open_interest_change_is_the_change_over_the_candle_known_at_its_close():
    oi = parse_open_interest(
        [{"symbol": "XRPUSDT", "sumOpenInterest": str(v), "sumOpenInterestValue": "0", "timestamp": T0 + k * BAR_MS}
         for k, v in enumerate([100.0, 110.0, 99.0])],
        "XRPUSDT",
    )
    candles = pd.DatetimeIndex([ts(T0 + k * BAR_MS) for k in range(5)]).as_unit("ms")
    change = oi_change_for_candles(candles, oi)
    assert change.iloc[0] == pytest.approx(0.10)  # candle T0 .. T0+15m: OI 100 at its open, 110 at its close
    assert change.iloc[1] == pytest.approx(-0.10)
    assert change.iloc[2:].isna().all()  # no record at the close: unknown, not 0.0


def test_open_interest_is_matched_exactly_never_to_a_neighbour():
    oi = pd.DataFrame({"timestamp": pd.DatetimeIndex([ts(T0), ts(T0 + BAR_MS + 60_000)]).as_unit("ms"),
                       "sum_open_interest": [100.0, 120.0]})
    change = oi_change_for_candles(pd.DatetimeIndex([ts(T0)]).as_unit("ms"), oi)
    assert change.isna().all()


def test_funding_carries_the_latest_settled_rate():
    funding = parse_funding(
        [{"symbol": "XRPUSDT", "fundingTime": T0 + 32 * BAR_MS, "fundingRate": "0.0002", "markPrice": "2"},
         {"symbol": "XRPUSDT", "fundingTime": T0, "fundingRate": "0.0001", "markPrice": "2"}],
        "XRPUSDT",
    )
    assert list(funding["funding_rate"]) == [0.0001, 0.0002]
    candles = pd.DatetimeIndex([ts(T0 - BAR_MS), ts(T0), ts(T0 + 31 * BAR_MS), ts(T0 + 32 * BAR_MS)]).as_unit("ms")
    rate = funding_for_candles(candles, funding)
    assert np.isnan(rate.iloc[0])
    assert list(rate.iloc[1:]) == [0.0001, 0.0001, 0.0002]


def _ratio(ms: int, r: float) -> dict:
    return {"symbol": "XRPUSDT", "longShortRatio": str(r), "longAccount": "0.6", "shortAccount": "0.4", "timestamp": ms}


def test_ls_ratio_rows_need_both_records_of_the_same_period():
    top = [_ratio(T0, 2.5), _ratio(T0 + BAR_MS, 2.6), _ratio(T0 + BAR_MS, 9.9)]
    glob = [_ratio(T0 + BAR_MS, 2.4), _ratio(T0 + 2 * BAR_MS, 2.3)]
    frame = parse_ls_ratio(top, glob, "XRPUSDT")
    assert list(frame.columns) == ["timestamp", "top_acct_ls_ratio", "global_ls_ratio"]
    assert frame["timestamp"].tolist() == [ts(T0 + BAR_MS)]
    assert frame["top_acct_ls_ratio"].tolist() == [2.6]  # first record of a duplicated period wins


def test_ls_ratio_missing_field_is_refused():
    with pytest.raises(DataError, match="longShortRatio"):
        parse_ls_ratio([{"timestamp": T0}], [_ratio(T0, 2.0)], "XRPUSDT")


def test_dedupe_removes_duplicate_periods_of_the_real_collector_sample():
    from tests.conftest import SHARED_DATA, missing_reference_data

    path = SHARED_DATA / "xrpusdt_ls_ratio_15m.parquet"
    if not path.exists():
        missing_reference_data(path)
    raw = pd.read_parquet(path)
    out = dedupe_ls_ratio(raw)
    assert raw["timestamp"].duplicated().sum() > 0
    assert not out["timestamp"].duplicated().any()
    assert len(out) == raw["timestamp"].nunique()
    assert out["timestamp"].is_monotonic_increasing
