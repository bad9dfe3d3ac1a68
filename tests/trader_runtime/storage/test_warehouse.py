"""DuckDB warehouse: upsert rules (W-01, W-02), forming candles, refused input, L/S ratios, the real file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from trader_runtime.domain.schema import BAR, BTC_COLUMNS, ETH_COLUMNS, OHLCV_COLUMNS
from trader_runtime.errors import DataError
from trader_runtime.storage.warehouse import Coverage, LsRatioUpsertResult, UpsertResult, Warehouse

#: a clock well after every candle used here, so nothing counts as forming unless a test says so
LATER = pd.Timestamp("2027-01-01", tz="UTC")


def test_upsert_is_idempotent_and_round_trips(warehouse, candles):
    first = warehouse.upsert_candles("XRPUSDT", candles, now=LATER)
    second = warehouse.upsert_candles("xrpusdt", candles, now=LATER)
    assert first == UpsertResult(inserted=len(candles), updated=0, dropped_forming=0)
    assert second == UpsertResult(inserted=0, updated=len(candles), dropped_forming=0)
    pd.testing.assert_frame_equal(warehouse.read_candles("XRPUSDT"), candles)
    assert warehouse.symbols() == ["XRPUSDT"]


def test_upsert_overwrites_ohlcv_and_correlation_columns_of_stored_candles(warehouse, candles):
    partial = candles.copy()
    at = candles.index[50]
    partial.loc[at, ["volume", "volume_btc"]] = [1.0, 0.5]  # a candle captured while still forming (W-01)
    warehouse.upsert_candles("XRPUSDT", partial, now=LATER)
    assert warehouse.read_candles("XRPUSDT").loc[at, "volume"] == 1.0
    result = warehouse.upsert_candles("XRPUSDT", candles.loc[[at]], now=LATER)
    stored = warehouse.read_candles("XRPUSDT")
    assert result.updated == 1 and result.inserted == 0
    assert stored.loc[at, "volume"] == candles.loc[at, "volume"]
    assert stored.loc[at, "volume_btc"] == candles.loc[at, "volume_btc"]


def test_absent_correlation_group_is_left_untouched(warehouse, candles):
    warehouse.upsert_candles("XRPUSDT", candles, now=LATER)
    primary_only = candles.drop(columns=list(BTC_COLUMNS + ETH_COLUMNS))
    primary_only["volume"] = primary_only["volume"] * 2
    warehouse.upsert_candles("XRPUSDT", primary_only, now=LATER)
    stored = warehouse.read_candles("XRPUSDT")
    np.testing.assert_array_equal(stored["volume"].to_numpy(), candles["volume"].to_numpy() * 2)
    pd.testing.assert_frame_equal(stored.drop(columns=["volume"]), candles.drop(columns=["volume"]))


def test_correlation_group_never_stored_is_dropped_on_read(warehouse, candles):
    warehouse.upsert_candles("SOLUSDT", candles.drop(columns=list(ETH_COLUMNS)), now=LATER)
    stored = warehouse.read_candles("SOLUSDT")
    assert not any(c in stored.columns for c in ETH_COLUMNS)
    assert all(c in stored.columns for c in BTC_COLUMNS)


def test_oi_and_funding_fill_rule(warehouse, candles):
    a, b, c, d = candles.index[10:14]
    old = candles.copy()
    old.loc[a, "oi_change"] = np.nan
    old.loc[b, "oi_change"] = 0.0  # legacy "missing" marker
    old.loc[c, "funding_rate"] = 2e-4
    old.loc[d, "funding_rate"] = 3e-4
    result = warehouse.upsert_candles("XRPUSDT", old, now=LATER)
    assert result.nulled_legacy_zeros == 1
    stored = warehouse.read_candles("XRPUSDT")
    assert np.isnan(stored.loc[a, "oi_change"]) and np.isnan(stored.loc[b, "oi_change"])

    new = candles.loc[[a, b, c, d]].copy()
    new.loc[a, "oi_change"] = 0.011  # new value fills a stored NULL
    new.loc[b, "oi_change"] = 0.0  # legacy zero never fills anything
    new.loc[c, "funding_rate"] = np.nan  # a missing value never erases a stored one
    new.loc[d, "funding_rate"] = 1e-4  # a new non-null value replaces the stored one
    warehouse.upsert_candles("XRPUSDT", new, now=LATER)
    stored = warehouse.read_candles("XRPUSDT")
    assert stored.loc[a, "oi_change"] == 0.011
    assert np.isnan(stored.loc[b, "oi_change"])
    assert stored.loc[c, "funding_rate"] == 2e-4
    assert stored.loc[d, "funding_rate"] == 1e-4


def test_frame_without_oi_funding_columns_keeps_stored_values(warehouse, candles):
    warehouse.upsert_candles("XRPUSDT", candles, now=LATER)
    warehouse.upsert_candles("XRPUSDT", candles[list(OHLCV_COLUMNS)], now=LATER)
    pd.testing.assert_frame_equal(warehouse.read_candles("XRPUSDT"), candles)


def test_forming_candle_is_never_stored(warehouse, candles):
    last = candles.index[-1]
    result = warehouse.upsert_candles("XRPUSDT", candles, now=last + pd.Timedelta(minutes=14, seconds=59))
    assert result.dropped_forming == 1 and result.inserted == len(candles) - 1
    assert warehouse.read_candles("XRPUSDT").index[-1] == last - BAR
    later = warehouse.upsert_candles("XRPUSDT", candles, now=last + BAR)
    assert later == UpsertResult(inserted=1, updated=len(candles) - 1, dropped_forming=0)


def _bad_inputs(candles: pd.DataFrame) -> dict[str, pd.DataFrame]:
    off_grid = candles.index.to_numpy().copy()
    off_grid[3] += np.timedelta64(5, "m")
    nan_close = candles.copy()
    nan_close.iloc[7, nan_close.columns.get_loc("close")] = np.nan
    inf_oi = candles.copy()
    inf_oi.iloc[7, inf_oi.columns.get_loc("oi_change")] = np.inf
    bad_high = candles.copy()
    bad_high.iloc[9, bad_high.columns.get_loc("high")] = bad_high["low"].iloc[9] * 0.5
    text_col = candles.copy()
    text_col["volume"] = "lots"
    return {
        "missing column": candles.drop(columns=["close"]),
        "unknown column": candles.assign(extra=1.0),
        "naive index": candles.tz_localize(None),
        "off-grid timestamp": candles.set_axis(pd.DatetimeIndex(off_grid, name="timestamp"), axis=0),
        "NaN close": nan_close,
        "infinite OI": inf_oi,
        "high below low": bad_high,
        "text volume": text_col,
        "incomplete btc group": candles.drop(columns=["close_btc"]),
    }


@pytest.mark.parametrize(
    "case",
    ["missing column", "unknown column", "naive index", "off-grid timestamp", "NaN close", "infinite OI",
     "high below low", "text volume", "incomplete btc group"],
)
def test_bad_input_raises_and_changes_nothing(warehouse, candles, case):
    bad = _bad_inputs(candles)[case]
    with pytest.raises(DataError):
        warehouse.upsert_candles("XRPUSDT", bad, now=LATER)
    assert not warehouse.path.exists()  # nothing was even created
    original = candles.iloc[:96]
    warehouse.upsert_candles("XRPUSDT", original, now=LATER)
    with pytest.raises(DataError):
        warehouse.upsert_candles("XRPUSDT", bad, now=LATER)
    pd.testing.assert_frame_equal(warehouse.read_candles("XRPUSDT"), original)


@pytest.mark.parametrize(("symbol", "now"), [("XRP/USDT", LATER), ("", LATER), ("XRPUSDT", pd.Timestamp("2027-01-01"))])
def test_bad_symbol_or_naive_clock_is_refused(warehouse, candles, symbol, now):
    with pytest.raises(DataError):
        warehouse.upsert_candles(symbol, candles, now=now)
    assert not warehouse.path.exists()


def test_read_range_is_half_open_and_unknown_symbol_is_empty(warehouse, candles):
    warehouse.upsert_candles("XRPUSDT", candles, now=LATER)
    start, end = candles.index[10], candles.index[20]
    part = warehouse.read_candles("XRPUSDT", start=start, end=end)
    assert part.index[0] == start and part.index[-1] == candles.index[19] and len(part) == 10
    empty = warehouse.read_candles("DOGEUSDT")
    assert empty.empty and str(empty.index.dtype) == "datetime64[ms, UTC]"


def test_reads_on_a_missing_file_do_not_create_it(warehouse):
    assert warehouse.symbols() == []
    assert warehouse.read_candles("XRPUSDT").empty
    assert warehouse.coverage("XRPUSDT") == Coverage("XRPUSDT", 0, None, None, 0.0, 0.0, 0)
    assert not warehouse.path.exists()


def test_coverage_and_persistence_across_instances(warehouse, candles, market):
    frame = candles.copy()
    frame.iloc[: len(frame) // 2, frame.columns.get_loc("funding_rate")] = 0.0
    with warehouse as wh:  # one connection for several operations
        wh.upsert_candles("XRPUSDT", frame, now=LATER)
        wh.upsert_ls_ratio("XRPUSDT", market.ls_ratio)
    cov = Warehouse(warehouse.path).coverage("XRPUSDT")
    assert (cov.rows, cov.start, cov.end) == (len(frame), frame.index[0], frame.index[-1])
    assert cov.funding_rate == pytest.approx(0.5)
    assert cov.oi_change == pytest.approx(1 - 1 / len(frame))
    assert cov.ls_ratio_rows == len(market.ls_ratio)
    assert cov.as_dict()["start"] == frame.index[0].isoformat()


def _ls(rows):
    return pd.DataFrame(
        [(pd.Timestamp(t, tz="UTC"), top, glob) for t, top, glob in rows],
        columns=["timestamp", "top_acct_ls_ratio", "global_ls_ratio"],
    )


def test_ls_ratio_first_complete_row_wins_and_never_overwrites(warehouse):
    first = _ls([
        ("2026-03-22 14:15", 2.6873, np.nan),  # incomplete: skipped
        ("2026-03-22 14:15", 2.6873, 2.4795),  # first complete row for 14:15 wins
        ("2026-03-22 14:15", 2.6873, 2.4783),
        ("2026-03-22 14:30", 2.6900, 2.4800),
    ])
    assert warehouse.upsert_ls_ratio("XRPUSDT", first) == LsRatioUpsertResult(2, 0, 1, 1)
    again = _ls([("2026-03-22 14:30", 9.0, 9.0), ("2026-03-22 14:45", 2.7, 2.5)])
    assert warehouse.upsert_ls_ratio("XRPUSDT", again) == LsRatioUpsertResult(1, 1, 0, 0)
    stored = warehouse.read_ls_ratio("XRPUSDT")
    assert list(stored.columns) == ["timestamp", "top_acct_ls_ratio", "global_ls_ratio"]
    assert stored["global_ls_ratio"].tolist() == [2.4795, 2.48, 2.5]
    later = warehouse.read_ls_ratio("XRPUSDT", start=pd.Timestamp("2026-03-22 14:30", tz="UTC"))
    assert later["top_acct_ls_ratio"].tolist() == [2.69, 2.7]


@pytest.mark.parametrize(
    "bad",
    [
        _ls([("2026-03-22 14:16", 2.0, 2.0)]),  # off the 15-minute grid
        _ls([("2026-03-22 14:15", -1.0, 2.0)]),  # not a ratio
        _ls([("2026-03-22 14:15", 2.0, 2.0)]).drop(columns=["global_ls_ratio"]),
        _ls([("2026-03-22 14:15", 2.0, 2.0)]).assign(timestamp=pd.Timestamp("2026-03-22 14:15")),  # naive
    ],
)
def test_bad_ls_ratio_input_is_refused(warehouse, bad):
    warehouse.upsert_ls_ratio("XRPUSDT", _ls([("2026-03-22 14:00", 2.0, 2.0)]))
    with pytest.raises(DataError):
        warehouse.upsert_ls_ratio("XRPUSDT", bad)
    assert len(warehouse.read_ls_ratio("XRPUSDT")) == 1


def test_real_file_loads_as_is(warehouse, xrp_real):
    result = warehouse.upsert_candles("XRPUSDT", xrp_real, now=pd.Timestamp("2026-04-01", tz="UTC"))
    assert result.inserted == len(xrp_real) and result.dropped_forming == 0
    stored = warehouse.read_candles("XRPUSDT")
    expected = xrp_real.copy()
    for col in ("oi_change", "funding_rate"):
        expected[col] = expected[col].mask(expected[col] == 0.0)  # legacy 0.0 -> NULL (W-02)
    pd.testing.assert_frame_equal(stored, expected)
    assert warehouse.coverage("XRPUSDT").oi_change == 0.0
