"""Archive metrics as ML feature inputs: the value observed at each candle's close, and the ratio columns mapped by
name as the collector's REST rows name them (checked on the real week of REST ratios beside the repository)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from tests.conftest import SHARED_DATA, missing_reference_data
from trader_runtime.domain.schema import METRIC_INPUT_COLUMNS
from trader_runtime.market.bulk.export import combined_table
from trader_runtime.market.bulk.importer import BulkImporter, BulkRequest
from trader_runtime.market.bulk.layout import Month
from trader_runtime.market.bulk.store import MirrorFolder
from trader_runtime.storage.warehouse import Warehouse
from trader_runtime.testing.bulk_mirror import write_funding, write_klines, write_metrics

from .conftest import candles, metrics, settlements

MARCH = Month(2022, 3)
FIFTEEN = pd.Timedelta(minutes=15)


def _import(root, wh: Warehouse, month: Month, now: pd.Timestamp):
    with wh:
        return BulkImporter(MirrorFolder(root), wh, now).run(BulkRequest(("XRPUSDT",), month, month))


def test_metric_inputs_are_the_observations_at_each_close(mirror, tmp_path):
    for i, (sym, price) in enumerate((("XRPUSDT", 2.0), ("BTCUSDT", 40000.0), ("ETHUSDT", 3000.0))):
        write_klines(mirror, sym, candles("2022-03-01", 31, price=price, seed=i), months=[MARCH])
    write_funding(mirror, "XRPUSDT", settlements("2022-03-01", 31), [MARCH])
    obs = metrics("2022-03-01", 31)
    obs.loc[pd.Timestamp("2022-03-10 12:15", tz="UTC"), "global_ls_ratio"] = np.nan  # a blank field in the file
    write_metrics(mirror, "XRPUSDT", obs, MARCH.days())
    wh = Warehouse(tmp_path / "w.duckdb")
    _import(mirror, wh, MARCH, pd.Timestamp("2022-04-20", tz="UTC"))

    plain = combined_table(wh, "XRPUSDT")
    frame = combined_table(wh, "XRPUSDT", with_metrics=True)
    assert list(plain.columns) == list(frame.columns[: len(plain.columns)])  # the export schema is unchanged
    assert tuple(frame.columns[len(plain.columns):]) == METRIC_INPUT_COLUMNS
    pd.testing.assert_frame_equal(plain, frame[plain.columns])
    close = frame.index + FIFTEEN
    sources = {"oi_value": "sum_open_interest_value", "top_acct_ls_ratio": "top_acct_ls_ratio",
               "global_ls_ratio": "global_ls_ratio", "taker_ls_vol_ratio": "taker_ls_vol_ratio"}
    for name, column in sources.items():
        want = obs[column].reindex(close).to_numpy()  # exactly at the close: no later value, no nearest match
        np.testing.assert_array_equal(frame[name].to_numpy(), want, err_msg=name)
    assert np.isnan(frame.loc[pd.Timestamp("2022-03-10 12:00", tz="UTC"), "global_ls_ratio"])
    # the last candle closes at 04-01 00:00, an observation in the 03-31 file: present
    assert frame[list(METRIC_INPUT_COLUMNS)].iloc[-1].notna().all()


def _real_week() -> pd.DataFrame:
    path = SHARED_DATA / "xrpusdt_ls_ratio_15m.parquet"
    if not path.exists():
        missing_reference_data(path)
    return pd.read_parquet(path)


@pytest.mark.parametrize("swapped", [False, True], ids=["archive-as-documented", "columns-swapped"])
def test_real_rest_week_matches_the_archive_ratio_columns_by_name(mirror, tmp_path, swapped):
    """The collector's REST rows (top-trader account and global account ratios) of the real week are stored first;
    an archive whose `count_toptrader_long_short_ratio` / `count_long_short_ratio` carry those values — the reading
    of spec 50 — agrees with them, so its L/S rows and the feature inputs equal the REST values. An archive with the
    position ratio in the account column (a wrong mapping) disagrees and its L/S rows are refused."""
    rest = _real_week()
    wh = Warehouse(tmp_path / "w.duckdb")
    wh.upsert_ls_ratio("XRPUSDT", rest, source="rest", batch="rest-week")
    stored = wh.read_ls_ratio("XRPUSDT").set_index("timestamp")  # one row per period (the file has repeats)

    days = [date(2026, 3, 23) + timedelta(days=k) for k in range(7)]
    start = pd.Timestamp(days[0], tz="UTC")
    grid = pd.date_range(start + pd.Timedelta(minutes=5), periods=len(days) * 288, freq="5min",
                         name="obs_time").as_unit("ms")
    period = grid.floor("15min")  # 5-minute snapshots between two REST periods carry the earlier period's value
    top = stored["top_acct_ls_ratio"].reindex(period).to_numpy()
    glob = stored["global_ls_ratio"].reindex(period).to_numpy()
    position = np.round(top * 1.17 + 0.05, 4)  # the top-trader position ratio: another series
    obs = pd.DataFrame({
        "sum_open_interest": 8e8, "sum_open_interest_value": 1.9e9,
        "top_acct_ls_ratio": position if swapped else top, "top_pos_ls_ratio": top if swapped else position,
        "global_ls_ratio": glob, "taker_ls_vol_ratio": 1.0,
    }, index=grid)
    for i, (sym, price) in enumerate((("XRPUSDT", 2.0), ("BTCUSDT", 80000.0), ("ETHUSDT", 2000.0))):
        write_klines(mirror, sym, candles(str(days[0]), len(days), price=price, seed=i), days=days)
    write_metrics(mirror, "XRPUSDT", obs, days)
    report = _import(mirror, wh, Month(2026, 3), pd.Timestamp("2026-03-31 06:00", tz="UTC"))

    note = next(c.note for c in report.coverage if c.data_type == "metrics")
    frame = combined_table(wh, "XRPUSDT", with_metrics=True)
    at_close = stored.reindex(frame.index + FIFTEEN)
    known = at_close["top_acct_ls_ratio"].notna().to_numpy()
    assert known.sum() > 500  # most of the week's periods are in the REST file
    if swapped:
        assert "not written" in note
        assert not np.allclose(frame["top_acct_ls_ratio"].to_numpy()[known], at_close["top_acct_ls_ratio"][known])
    else:
        assert "not written" not in note
        np.testing.assert_allclose(frame["top_acct_ls_ratio"].to_numpy()[known],
                                   at_close["top_acct_ls_ratio"].to_numpy()[known], rtol=0, atol=5e-5)
        np.testing.assert_allclose(frame["global_ls_ratio"].to_numpy()[known],
                                   at_close["global_ls_ratio"].to_numpy()[known], rtol=0, atol=5e-5)
        ls = wh.read_ls_ratio("XRPUSDT").set_index("timestamp")
        pd.testing.assert_frame_equal(ls.loc[stored.index], stored)  # REST rows keep priority
