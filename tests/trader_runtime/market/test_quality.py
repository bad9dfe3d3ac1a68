"""Data-quality report: each finding on a hand-damaged frame, and the known partial candles of the real file."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from trader_runtime.domain.schema import BAR
from trader_runtime.errors import DataError
from trader_runtime.market.quality import quality_report


def test_clean_synthetic_frame_is_ok(clean_frame):
    report = quality_report(clean_frame, now=clean_frame.index[-1] + BAR)
    assert report.ok, report.issues()
    assert report.rows == len(clean_frame)
    assert (report.start, report.end) == (clean_frame.index[0], clean_frame.index[-1])
    assert report.issues() == []
    assert report.coverage["funding_rate"] == 1.0
    assert report.coverage["oi_change"] == pytest.approx(1 - 1 / len(clean_frame))  # first row has no change


def test_duplicates_are_listed(clean_frame):
    dup = pd.concat([clean_frame, clean_frame.iloc[[10, 20]]])
    report = quality_report(dup)
    assert report.duplicates == [clean_frame.index[10], clean_frame.index[20]]
    assert report.rows == len(clean_frame) + 2
    assert not report.ok


def test_gaps_report_first_and_last_missing_and_count(clean_frame):
    holed = clean_frame.drop(clean_frame.index[[30, 31, 32, 100]])
    report = quality_report(holed)
    assert report.gaps == [
        (clean_frame.index[30], clean_frame.index[32], 3),
        (clean_frame.index[100], clean_frame.index[100], 1),
    ]
    assert report.missing_candles == 4
    assert not report.ok


@pytest.mark.parametrize(("tz", "non_utc"), [(None, True), ("Asia/Seoul", True), ("Etc/UTC", False), ("UTC", False)])
def test_non_utc_index_is_flagged(clean_frame, tz, non_utc):
    idx = clean_frame.index.tz_localize(None) if tz is None else clean_frame.index.tz_convert(tz)
    report = quality_report(clean_frame.set_axis(idx, axis=0))
    assert report.non_utc is non_utc
    assert report.gaps == []  # the naive index is read as UTC, so the grid is still regular


def test_forming_last_candle_is_flagged(clean_frame):
    last = clean_frame.index[-1]
    assert quality_report(clean_frame, now=last + pd.Timedelta(minutes=10)).forming_candle
    assert not quality_report(clean_frame, now=last + BAR).forming_candle
    assert not quality_report(clean_frame).forming_candle  # no clock, no check
    with pytest.raises(DataError):
        quality_report(clean_frame, now=pd.Timestamp("2030-01-01"))


def test_partial_candle_detected_by_volume_against_rolling_median(clean_frame):
    df = clean_frame.copy()
    at = df.index[200]
    median = df["volume"].iloc[104:200].median()
    df.loc[at, "volume"] = 0.01 * median
    df.loc[df.index[300], "volume"] = 0.2 * df["volume"].iloc[204:300].median()  # low but plausible
    df.loc[df.index[250], "volume_btc"] = 0.0
    report = quality_report(df)
    assert report.partial_candles == [(at, "volume"), (df.index[250], "volume_btc")]
    assert not report.ok


def test_ohlc_sanity_violations(clean_frame):
    df = clean_frame.copy()
    i, j, k, m = df.index[5], df.index[6], df.index[7], df.index[8]
    df.loc[i, "high"] = min(df.loc[i, "open"], df.loc[i, "close"]) * 0.99
    df.loc[j, "low_eth"] = max(df.loc[j, "open_eth"], df.loc[j, "close_eth"]) * 1.01
    df.loc[k, "volume"] = -1.0
    df.loc[m, ["low_btc"]] = 0.0
    reasons = dict(quality_report(df).ohlc_violations)
    assert reasons[i] == "high < max(open, close)"
    assert reasons[j] == "eth: low > min(open, close)"
    assert reasons[k] == "negative volume"
    assert reasons[m] == "btc: non-positive price"


def test_off_grid_timestamps_are_flagged(clean_frame):
    idx = clean_frame.index.to_numpy().copy()
    idx[50] = idx[50] + np.timedelta64(1, "m")
    report = quality_report(clean_frame.set_axis(pd.DatetimeIndex(idx, name="timestamp"), axis=0))
    assert report.misaligned == [clean_frame.index[50] + pd.Timedelta(minutes=1)]
    assert not report.ok


def test_coverage_counts_nan_and_legacy_zero_as_missing(clean_frame):
    df = clean_frame.copy()
    df["oi_change"] = 0.0
    df.iloc[: len(df) // 4, df.columns.get_loc("funding_rate")] = np.nan
    cov = quality_report(df).coverage
    assert cov["oi_change"] == 0.0
    assert cov["funding_rate"] == pytest.approx(1 - (len(df) // 4) / len(df))
    assert quality_report(df.drop(columns=["oi_change"])).coverage["oi_change"] == 0.0


def test_timestamp_column_input_and_json_metadata(clean_frame):
    report = quality_report(clean_frame.reset_index())
    assert report.ok
    meta = report.as_dict()
    assert json.loads(json.dumps(meta)) == meta
    assert meta["rows"] == len(clean_frame) and meta["ok"] is True


def test_empty_and_non_datetime_input(clean_frame):
    empty = quality_report(clean_frame.iloc[:0])
    assert empty.rows == 0 and not empty.ok and empty.issues() == ["no rows"]
    with pytest.raises(DataError):
        quality_report(clean_frame.reset_index(drop=True))


def test_real_file_shows_its_documented_partial_candles(xrp_real):
    """Spec 10 §1.5: frozen partial candles at 2026-03-14 17:00 and 2026-03-15 17:00 in the shipped XRP file."""
    report = quality_report(xrp_real, now=pd.Timestamp("2026-04-01", tz="UTC"))
    flagged = {ts for ts, col in report.partial_candles if col == "volume"}
    assert pd.Timestamp("2026-03-14 17:00", tz="UTC") in flagged
    assert pd.Timestamp("2026-03-15 17:00", tz="UTC") in flagged
    assert not report.gaps and not report.duplicates and not report.non_utc and not report.ohlc_violations
    assert report.coverage["oi_change"] == 0.0 and report.coverage["funding_rate"] > 0.99


# ------------------------------------------------------------------------------------------------ the data gate
import re  # noqa: E402

from trader_runtime.market.quality import admit_candles  # noqa: E402
from trader_runtime.market.synthetic import generate_market  # noqa: E402


def _frame() -> pd.DataFrame:
    return generate_market("XRPUSDT", 15, 5).combined


def test_gate_drops_identical_duplicates_and_reports_them() -> None:
    base = _frame()
    admitted = admit_candles(pd.concat([base, base.iloc[[10, 20]]]), source="f")
    assert admitted.dropped_duplicates == 2
    pd.testing.assert_frame_equal(admitted.frame, base)
    assert "2 identical duplicate row(s) dropped" in admitted.notes()


def test_gate_refuses_conflicting_duplicates_naming_them() -> None:
    base = _frame()
    clash = base.iloc[[10]].assign(close=base["close"].iloc[10] + 0.01)
    with pytest.raises(DataError, match=re.escape(str(base.index[10]))):
        admit_candles(pd.concat([base, clash]), source="f")


@pytest.mark.parametrize(("column", "value"), [("high", np.inf), ("low", 0.0), ("close", -1.0), ("open_btc", -np.inf),
                                               ("volume", -5.0), ("oi_change", np.inf)])  # fmt: skip
def test_gate_refuses_non_finite_or_non_positive_values(column: str, value: float) -> None:
    frame = _frame()
    frame.loc[frame.index[30], column] = value
    with pytest.raises(DataError, match=f"{column}.*{re.escape(str(frame.index[30]))}"):
        admit_candles(frame, source="f")


def test_gate_allows_missing_context_columns_and_reports_gaps() -> None:
    frame = _frame()
    frame.loc[frame.index[5], ["oi_change", "funding_rate", "open_btc"]] = np.nan
    admitted = admit_candles(frame.drop(frame.index[40:43]), source="f")
    assert admitted.report.missing_candles == 3 and any("3 missing candle" in n for n in admitted.notes())


def test_gate_refuses_off_grid_naive_and_empty() -> None:
    frame = _frame()
    with pytest.raises(DataError, match="off the 15-minute grid"):
        admit_candles(frame.set_axis(frame.index + pd.Timedelta(seconds=1)), source="f")
    with pytest.raises(DataError, match="timezone-naive"):
        admit_candles(frame.tz_localize(None), source="f")
    with pytest.raises(DataError, match="no rows"):
        admit_candles(frame.iloc[:0], source="f")


def test_gate_converts_other_zones_to_utc() -> None:
    frame = _frame()
    admitted = admit_candles(frame.tz_convert("Asia/Seoul"), source="f")
    assert str(admitted.frame.index.tz) == "UTC"
    pd.testing.assert_index_equal(admitted.frame.index, frame.index)
