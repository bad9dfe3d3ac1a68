"""Parsing archive CSVs: header variants, time units, grids, duplicates, the metrics relabelling of 2026-06-25."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from trader_runtime.market.bulk.layout import Kind, Month, daily, monthly
from trader_runtime.market.bulk.parse import parse_file
from trader_runtime.market.bulk.verify import RejectedFile, VerifiedFile
from trader_runtime.testing.bulk_mirror import funding_csv, kline_csv, metrics_csv

from .conftest import candles, metrics, settlements

DAY = date(2022, 3, 1)


def _verified(ref, text: str) -> VerifiedFile:
    return VerifiedFile(ref, "0" * 64, text.encode())


def test_kline_header_variants_parse_to_the_same_candles():
    frame = candles("2022-03-01", 1)
    ref = daily(Kind.KLINES, "XRPUSDT", DAY)
    with_header = parse_file(_verified(ref, kline_csv(frame, header=True)))
    without = parse_file(_verified(ref, kline_csv(frame, header=False)))
    assert with_header.header and not without.header
    pd.testing.assert_frame_equal(with_header.frame, without.frame)
    pd.testing.assert_frame_equal(with_header.frame, frame, check_freq=False)
    assert with_header.rows_read == 96 and with_header.missing == []


def test_microsecond_times_are_converted_and_implausible_times_refused():
    frame = candles("2022-03-01", 1)
    ref = daily(Kind.KLINES, "XRPUSDT", DAY)
    lines = kline_csv(frame, header=False).splitlines()
    micro = []
    for line in lines:
        f = line.split(",")
        f[0], f[6] = str(int(f[0]) * 1000), str(int(f[6]) * 1000 + 999)
        micro.append(",".join(f))
    parsed = parse_file(_verified(ref, "\n".join(micro) + "\n"))
    assert parsed.microseconds
    pd.testing.assert_frame_equal(parsed.frame, frame, check_freq=False)
    seconds = [",".join([str(int(line.split(",")[0]) // 1000), *line.split(",")[1:]]) for line in lines]
    with pytest.raises(RejectedFile, match="plausible"):
        parse_file(_verified(ref, "\n".join(seconds) + "\n"))


@pytest.mark.parametrize("edit, reason", [
    (lambda f: f.__setitem__(1, "abc"), "not a number"),
    (lambda f: f.__setitem__(6, str(int(f[6]) + 1)), "899,999"),
    (lambda f: f.pop(), "fields"),
])
def test_bad_kline_rows_refuse_the_file(edit, reason):
    lines = kline_csv(candles("2022-03-01", 1), header=True).splitlines()
    fields = lines[5].split(",")
    edit(fields)
    lines[5] = ",".join(fields)
    with pytest.raises(RejectedFile, match=reason):
        parse_file(_verified(daily(Kind.KLINES, "XRPUSDT", DAY), "\n".join(lines) + "\n"))


def test_candle_outside_the_file_day_or_off_grid_is_refused():
    ref = daily(Kind.KLINES, "XRPUSDT", DAY)
    with pytest.raises(RejectedFile, match="outside"):
        parse_file(_verified(ref, kline_csv(candles("2022-03-01", 2), header=True)))
    shifted = candles("2022-03-01 00:05", 0.5)
    with pytest.raises(RejectedFile, match="grid"):
        parse_file(_verified(ref, kline_csv(shifted, header=True)))


def test_kline_duplicates_identical_dropped_conflicting_refused():
    frame = candles("2022-03-01", 1)
    text = kline_csv(frame, header=True)
    lines = text.splitlines()
    parsed = parse_file(_verified(daily(Kind.KLINES, "XRPUSDT", DAY), text + lines[3] + "\n"))
    assert parsed.duplicates == 1 and len(parsed.frame) == 96
    f = lines[3].split(",")
    f[4] = str(float(f[4]) * 0.9999)
    with pytest.raises(RejectedFile, match="two different candles"):
        parse_file(_verified(daily(Kind.KLINES, "XRPUSDT", DAY), text + ",".join(f) + "\n"))


def test_missing_candles_are_listed_as_gaps():
    frame = candles("2022-03-01", 1).drop(index=pd.Timestamp("2022-03-01 10:15", tz="UTC"))
    parsed = parse_file(_verified(daily(Kind.KLINES, "XRPUSDT", DAY), kline_csv(frame, header=False)))
    assert parsed.missing == [pd.Timestamp("2022-03-01 10:15", tz="UTC").value // 1_000_000]


def test_funding_jitter_kept_and_missing_settlement_listed():
    rows = settlements("2022-03-01", 31)
    rows = rows.drop(index=4)
    parsed = parse_file(_verified(monthly(Kind.FUNDING, "XRPUSDT", Month(2022, 3)), funding_csv(rows)))
    assert parsed.frame["calc_time"].iloc[0] == pd.Timestamp("2022-03-01 00:00:00.005", tz="UTC")
    assert parsed.missing == [pd.Timestamp("2022-03-02 08:00", tz="UTC").value // 1_000_000]
    assert parsed.frame["funding_rate"].iloc[1] == rows["funding_rate"].iloc[1]


def test_funding_off_the_hour_refused():
    rows = settlements("2022-03-01", 2)
    rows.loc[1, "calc_time"] += pd.Timedelta(minutes=3)
    with pytest.raises(RejectedFile, match="on the hour"):
        parse_file(_verified(monthly(Kind.FUNDING, "XRPUSDT", Month(2022, 3)), funding_csv(rows)))


def test_metrics_old_labels_are_observation_times_and_conflicts_become_missing():
    obs = metrics("2022-03-01", 1)
    text = metrics_csv("XRPUSDT", obs, DAY)
    lines = text.splitlines()
    clash = lines[10].split(",")
    clash[2] = "1.5"
    parsed = parse_file(_verified(daily(Kind.METRICS, "XRPUSDT", DAY), text + lines[20] + "\n" + ",".join(clash) + "\n"))
    assert parsed.frame["obs_time"].iloc[0] == pd.Timestamp("2022-03-01 00:05", tz="UTC")
    assert parsed.frame["obs_time"].iloc[-1] == pd.Timestamp("2022-03-02 00:00", tz="UTC")
    assert parsed.duplicates == 1 and parsed.conflicts == 1
    gone = pd.Timestamp(lines[10].split(",")[0], tz="UTC")
    assert gone not in set(parsed.frame["obs_time"]) and len(parsed.missing) == 1


def test_metrics_relabelling_on_2026_06_25():
    obs = metrics("2026-06-24", 2)
    old = parse_file(_verified(daily(Kind.METRICS, "XRPUSDT", date(2026, 6, 24)),
                               metrics_csv("XRPUSDT", obs, date(2026, 6, 24))))
    new_text = metrics_csv("XRPUSDT", obs, date(2026, 6, 25))
    assert new_text.splitlines()[1].startswith("2026-06-25 00:00:00")
    assert old.frame["obs_time"].iloc[-1] == pd.Timestamp("2026-06-25 00:00", tz="UTC")
    new = parse_file(_verified(daily(Kind.METRICS, "XRPUSDT", date(2026, 6, 25)), new_text))
    assert new.frame["obs_time"].iloc[0] == pd.Timestamp("2026-06-25 00:05", tz="UTC")
    np.testing.assert_array_equal(new.frame["sum_open_interest"].to_numpy(),
                                  obs.loc["2026-06-25 00:05":"2026-06-26 00:00", "sum_open_interest"].to_numpy())
    # an old-style file for a day after the change (label D+1 00:00) lies outside the new window
    with pytest.raises(RejectedFile, match="outside"):
        parse_file(_verified(daily(Kind.METRICS, "XRPUSDT", date(2026, 6, 25)),
                             metrics_csv("XRPUSDT", obs, date(2026, 6, 24)).replace("2026-06-24", "2026-06-25")
                             .replace("2026-06-25 00:00:00", "2026-06-26 00:00:00")))


def test_metrics_of_another_symbol_or_off_grid_refused():
    obs = metrics("2022-03-01", 1)
    ref = daily(Kind.METRICS, "XRPUSDT", DAY)
    with pytest.raises(RejectedFile, match="symbol"):
        parse_file(_verified(ref, metrics_csv("DOGEUSDT", obs, DAY)))
    text = metrics_csv("XRPUSDT", obs, DAY).replace("2022-03-01 00:10:00", "2022-03-01 00:10:01")
    with pytest.raises(RejectedFile, match="grid"):
        parse_file(_verified(ref, text))


def test_blank_metric_values_are_missing_not_zero():
    obs = metrics("2022-03-01", 1)
    text = metrics_csv("XRPUSDT", obs, DAY)
    lines = text.splitlines()
    f = lines[1].split(",")
    f[2] = ""
    lines[1] = ",".join(f)
    parsed = parse_file(_verified(daily(Kind.METRICS, "XRPUSDT", DAY), "\n".join(lines) + "\n"))
    assert np.isnan(parsed.frame["sum_open_interest"].iloc[0])
