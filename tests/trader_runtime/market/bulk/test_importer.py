"""The importer on generated archive trees: checksum refusal, gaps, late files, resume, replaced files, alignment."""

from __future__ import annotations

import hashlib
import http.server
import threading
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trader_runtime.errors import TemporaryExchangeError
from trader_runtime.market.bulk.importer import BulkImporter, BulkRequest
from trader_runtime.market.bulk.layout import Kind, Month, daily, monthly
from trader_runtime.market.bulk.store import HttpArchive, MirrorFolder
from trader_runtime.storage.warehouse import Warehouse
from trader_runtime.testing.bulk_mirror import write_file, write_funding, write_klines, write_metrics

from .conftest import candles, metrics, settlements

MARCH, APRIL = Month(2022, 3), Month(2022, 4)
NOW = pd.Timestamp("2022-05-20", tz="UTC")


class CountingStore(MirrorFolder):
    """A mirror folder that counts which paths were read (to prove verified files are not read twice)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        object.__setattr__(self, "reads", [])

    def get(self, path: str) -> bytes | None:
        self.reads.append(path)
        return super().get(path)


def _archive(root: Path, months=(MARCH, APRIL)) -> dict[str, pd.DataFrame]:
    span_days = sum(len(m.days()) for m in months)
    start = str(months[0].start.date())
    data = {sym: candles(start, span_days, price=p, seed=i)
            for i, (sym, p) in enumerate((("XRPUSDT", 2.0), ("BTCUSDT", 40000.0), ("ETHUSDT", 3000.0)))}
    for sym, frame in data.items():
        write_klines(root, sym, frame, months=months)
    data["funding"] = settlements(start, span_days)
    write_funding(root, "XRPUSDT", data["funding"], months)
    data["metrics"] = metrics(start, span_days)
    days = [d for m in months for d in m.days()]
    write_metrics(root, "XRPUSDT", data["metrics"], days)
    return data


def _run(root: Path, wh: Warehouse, now=NOW, first=MARCH, last=APRIL, store=None):
    importer = BulkImporter(store or MirrorFolder(root), wh, now)
    with wh:
        return importer.run(BulkRequest(("XRPUSDT",), first, last))


def test_import_fills_combined_columns_and_records_provenance(mirror, tmp_path):
    data = _archive(mirror)
    wh = Warehouse(tmp_path / "w.duckdb")
    report = _run(mirror, wh)
    assert report.exit_code == 0 and not report.rejected
    stored = wh.read_candles("XRPUSDT")
    assert len(stored) == 61 * 96
    np.testing.assert_array_equal(stored["close_btc"].to_numpy(), data["BTCUSDT"]["close"].to_numpy())
    # OI change over each candle, known at its close: OI(t + 15 min) / OI(t) - 1
    oi = data["metrics"]["sum_open_interest"]
    t = pd.Timestamp("2022-03-10 12:00", tz="UTC")
    assert stored.loc[t, "oi_change"] == oi[t + pd.Timedelta(minutes=15)] / oi[t] - 1
    # the first candle of the first day has no earlier observation (the previous day's file is absent): NaN
    assert np.isnan(stored["oi_change"].iloc[0])
    assert stored["oi_change"].iloc[1:].notna().all()
    # funding: latest settlement at or before the open; 00:00 candles still carry the previous rate (jitter)
    f = data["funding"].set_index("calc_time")["funding_rate"]
    assert stored.loc[pd.Timestamp("2022-03-02 08:00", tz="UTC"), "funding_rate"] == f.iloc[3]
    assert stored.loc[pd.Timestamp("2022-03-02 08:15", tz="UTC"), "funding_rate"] == f.iloc[4]
    files = wh.file_records()
    assert len(files) == 2 * 3 + 2 + 61 + 1 - 1  # klines 2x3, funding 2, metrics 61 (+ previous day: not found)
    sample = files[files["path"].str.endswith("XRPUSDT-15m-2022-03.zip")].iloc[0]
    digest = hashlib.sha256((mirror / sample["path"]).read_bytes()).hexdigest()
    assert sample["sha256"] == digest and sample["rows_read"] == 31 * 96 and sample["rows_written"] == 31 * 96
    sources = wh.coverage_by_source("XRPUSDT")
    assert set(sources["source"]) == {"bulk"}
    ls = wh.read_ls_ratio("XRPUSDT")  # periods in [March, May): none at 03-01 00:00 (no February file)
    assert len(ls) == 61 * 96 - 1 and (ls["timestamp"].dt.minute % 15 == 0).all()
    cov = wh.bulk_coverage("XRPUSDT")
    assert set(cov["data_type"]) == {"klines", "fundingRate", "metrics", "oi_change", "funding_rate"}


def test_oi_change_has_no_look_ahead(mirror, tmp_path):
    data = _archive(mirror, months=(MARCH,))
    wh = Warehouse(tmp_path / "a.duckdb")
    _run(mirror, wh, last=MARCH)
    before = wh.read_candles("XRPUSDT")["oi_change"]
    # change every observation after 2022-03-15 12:15: candles closing at or before then must keep their values
    later = data["metrics"].copy()
    cut = pd.Timestamp("2022-03-15 12:15", tz="UTC")
    after_cut = later.index > cut
    later.loc[after_cut, "sum_open_interest"] *= np.linspace(1.1, 1.5, int(after_cut.sum()))
    changed = tmp_path / "mirror2"
    _archive(changed, months=(MARCH,))
    write_metrics(changed, "XRPUSDT", later, MARCH.days())
    wh2 = Warehouse(tmp_path / "b.duckdb")
    _run(changed, wh2, last=MARCH)
    after = wh2.read_candles("XRPUSDT")["oi_change"]
    known = before.index + pd.Timedelta(minutes=15) <= cut
    pd.testing.assert_series_equal(before[known], after[known])
    assert (before[~known] != after[~known]).all()


def test_corrupted_zip_refused_by_checksum_nothing_written_valid_files_kept(mirror, tmp_path):
    _archive(mirror)
    bad = mirror / monthly(Kind.KLINES, "XRPUSDT", APRIL).path
    raw = bytearray(bad.read_bytes())
    raw[60] ^= 0xFF
    bad.write_bytes(bytes(raw))
    # the daily fallback files for April are not published, so April's XRP candles stay a gap
    wh = Warehouse(tmp_path / "w.duckdb")
    report = _run(mirror, wh)
    assert report.exit_code == 2
    (refused,) = report.rejected
    assert refused.ref.path.endswith("XRPUSDT-15m-2022-04.zip") and "CHECKSUM" in refused.message
    assert refused.published != refused.actual and len(refused.actual) == 64
    stored = wh.read_candles("XRPUSDT")
    assert stored.index.max() < APRIL.start and len(stored) == 31 * 96
    assert len(wh.read_candles("BTCUSDT")) == 61 * 96
    assert refused.ref.path not in wh.imported_digests()
    assert len(wh.rejections()) == 1
    assert any("REFUSED" in line and "published" in line for line in report.lines())


def test_missing_day_reported_as_gap_and_late_day_filled_on_next_run(mirror, tmp_path):
    data = _archive(mirror, months=(MARCH,))
    now = pd.Timestamp("2022-04-04 06:00", tz="UTC")  # April: daily files; 04-01 and 04-02 published, 04-03 late
    for sym in ("XRPUSDT", "BTCUSDT", "ETHUSDT"):
        frame = candles("2022-04-01", 3, seed=7)
        write_klines(mirror, sym, frame, days=[date(2022, 4, 1), date(2022, 4, 2)])
    write_metrics(mirror, "XRPUSDT", metrics("2022-04-01", 3), [date(2022, 4, 1), date(2022, 4, 2)])
    # a hole inside the March monthly file: 2022-03-05 is missing
    frame = data["XRPUSDT"]
    write_klines(mirror, "XRPUSDT", frame[frame.index.date != date(2022, 3, 5)], months=[MARCH])
    wh = Warehouse(tmp_path / "w.duckdb")
    report = _run(mirror, wh, now=now)
    assert report.exit_code == 0
    march = next(o for o in report.outcomes if o.ref.path.endswith("XRPUSDT-15m-2022-03.zip"))
    assert march.record.missing_slots == 96 and march.record.missing_sample[0] == "2022-03-05T00:00:00+00:00"
    late = [o for o in report.outcomes if o.status == "not_found" and o.ref.day == date(2022, 4, 3)]
    assert {o.ref.kind for o in late} == {Kind.KLINES, Kind.METRICS}
    lines = "\n".join(report.lines())
    assert "gap monthly/klines/XRPUSDT/15m/XRPUSDT-15m-2022-03.zip: 96 missing slot(s)" in lines
    assert "not published (yet): XRPUSDT klines 2022-04, 1 daily file(s)" in lines
    cov = wh.bulk_coverage("XRPUSDT").set_index(["month", "data_type"])
    assert cov.loc[("2022-03", "klines"), "present"] == 30 * 96
    assert cov.loc[("2022-04", "klines"), "present"] == 2 * 96 and cov.loc[("2022-04", "klines"), "expected"] == 3 * 96

    for sym in ("XRPUSDT", "BTCUSDT", "ETHUSDT"):
        write_klines(mirror, sym, candles("2022-04-01", 3, seed=7), days=[date(2022, 4, 3)])
    write_metrics(mirror, "XRPUSDT", metrics("2022-04-01", 3), [date(2022, 4, 3)])
    store = CountingStore(mirror)
    second = _run(mirror, wh, now=now, store=store)
    assert second.exit_code == 0
    zips = [p for p in store.reads if p.endswith(".zip") and (mirror / p).exists()]
    assert all("2022-04-03" in p for p in zips), zips  # verified files are not read twice
    assert len(wh.read_candles("XRPUSDT", APRIL.start)) == 3 * 96
    assert {o.status for o in second.outcomes} <= {"unchanged", "imported", "not_found"}


def test_reimport_is_idempotent_and_a_replaced_file_is_reimported(mirror, tmp_path):
    data = _archive(mirror, months=(MARCH,))
    wh = Warehouse(tmp_path / "w.duckdb")
    _run(mirror, wh, last=MARCH)
    first = wh.read_candles("XRPUSDT")
    again = _run(mirror, wh, last=MARCH)
    pd.testing.assert_frame_equal(first, wh.read_candles("XRPUSDT"))
    assert {o.status for o in again.outcomes} == {"unchanged", "not_found"}
    fixed = data["XRPUSDT"].copy()
    fixed.iloc[100, fixed.columns.get_loc("volume")] += 1.0
    write_klines(mirror, "XRPUSDT", fixed, months=[MARCH])
    third = _run(mirror, wh, last=MARCH)
    (replaced,) = [o for o in third.outcomes if o.status == "replaced"]
    assert "SHA-256 changed" in replaced.message
    assert "1 stored candle(s) differed" in replaced.record.note
    assert wh.read_candles("XRPUSDT")["volume"].iloc[100] == fixed["volume"].iloc[100]


def test_funding_is_not_carried_across_a_missing_settlement(mirror, tmp_path):
    data = _archive(mirror, months=(MARCH,))
    rows = data["funding"][data["funding"]["calc_time"] < pd.Timestamp("2022-03-20", tz="UTC")]
    write_funding(mirror, "XRPUSDT", rows, [MARCH])  # the rest of March is absent
    wh = Warehouse(tmp_path / "w.duckdb")
    _run(mirror, wh, last=MARCH)
    rate = wh.read_candles("XRPUSDT")["funding_rate"]
    last = pd.Timestamp("2022-03-19 16:00", tz="UTC")
    assert rate[last + pd.Timedelta(hours=8)] == rate[last + pd.Timedelta(minutes=15)]  # still within 8 h + 15 min
    assert np.isnan(rate[last + pd.Timedelta(hours=8, minutes=15)])
    assert rate[rate.index > last + pd.Timedelta(hours=8)].isna().all()


def test_daily_klines_when_the_monthly_file_is_absent_and_monthly_wins_later(mirror, tmp_path):
    frame = candles("2022-03-01", 31)
    for sym in ("XRPUSDT", "BTCUSDT", "ETHUSDT"):
        write_klines(mirror, sym, frame, days=MARCH.days(), header=False)
    wh = Warehouse(tmp_path / "w.duckdb")
    report = _run(mirror, wh, last=MARCH)
    assert len(wh.read_candles("XRPUSDT")) == 31 * 96
    assert sum(1 for o in report.outcomes if o.ref.kind is Kind.KLINES and o.status == "imported") == 93
    for sym in ("XRPUSDT", "BTCUSDT", "ETHUSDT"):
        write_klines(mirror, sym, frame, months=[MARCH])
    later = _run(mirror, wh, last=MARCH)
    monthly_outcomes = [o for o in later.outcomes if o.ref.kind is Kind.KLINES]
    assert {o.ref.period for o in monthly_outcomes} == {"monthly"} and not any(o.record.note for o in monthly_outcomes)


def test_ls_ratios_not_written_when_they_disagree_with_stored_rest_rows(mirror, tmp_path):
    data = _archive(mirror, months=(MARCH,))
    wh = Warehouse(tmp_path / "w.duckdb")
    obs = data["metrics"]
    rest = pd.DataFrame({"timestamp": obs.index[2::3][:96], "top_acct_ls_ratio": 9.0, "global_ls_ratio": 9.0})
    wh.upsert_ls_ratio("XRPUSDT", rest, source="rest", batch="rest-1")
    report = _run(mirror, wh, last=MARCH)
    note = next(c.note for c in report.coverage if c.data_type == "metrics")
    assert "not written" in note
    assert len(wh.read_ls_ratio("XRPUSDT")) == 96


def test_http_archive_reads_the_same_layout_and_404_is_not_found(mirror, tmp_path):
    _archive(mirror, months=(MARCH,))

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(mirror), **kw)

        def log_message(self, *args):  # keep test output clean
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        store = HttpArchive(f"http://127.0.0.1:{server.server_address[1]}/", attempts=1)
        assert store.get("daily/klines/NOPE/15m/NOPE-15m-2022-03-01.zip") is None
        wh = Warehouse(tmp_path / "w.duckdb")
        report = _run(mirror, wh, last=MARCH, store=store)
    finally:
        server.shutdown()
    assert report.exit_code == 0 and len(wh.read_candles("XRPUSDT")) == 31 * 96


def test_checksum_naming_another_file_is_refused(mirror, tmp_path):
    _archive(mirror, months=(MARCH,))
    ref = monthly(Kind.FUNDING, "XRPUSDT", MARCH)
    digest = hashlib.sha256((mirror / ref.path).read_bytes()).hexdigest()
    (mirror / ref.checksum_path).write_text(f"{digest}  XRPUSDT-fundingRate-2022-02.zip\n")
    wh = Warehouse(tmp_path / "w.duckdb")
    report = _run(mirror, wh, last=MARCH)
    assert report.exit_code == 2 and "names" in report.rejected[0].message
    assert wh.read_funding_settlements("XRPUSDT").empty
    assert wh.read_candles("XRPUSDT")["funding_rate"].isna().all()


def test_missing_checksum_refuses_the_file(mirror, tmp_path):
    _archive(mirror, months=(MARCH,))
    ref = daily(Kind.METRICS, "XRPUSDT", date(2022, 3, 7))
    (mirror / ref.checksum_path).unlink()
    wh = Warehouse(tmp_path / "w.duckdb")
    report = _run(mirror, wh, last=MARCH)
    assert report.exit_code == 2 and "CHECKSUM" in report.rejected[0].message
    obs = wh.read_metrics("XRPUSDT")
    day = obs["obs_time"].dt.date == date(2022, 3, 7)
    assert not (obs["obs_time"].between(pd.Timestamp("2022-03-07 00:05", tz="UTC"),
                                        pd.Timestamp("2022-03-08", tz="UTC"))).any() and not day[1:].all()


def test_write_file_checksum_format(mirror):
    ref = monthly(Kind.FUNDING, "XRPUSDT", MARCH)
    path = write_file(mirror, ref, "calc_time,funding_interval_hours,last_funding_rate\n")
    line = (mirror / ref.checksum_path).read_text()
    assert line == f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {ref.name}\n"


def test_http_archive_retries_server_errors_with_back_off_and_not_refusals():
    answers: dict[str, list[int]] = {"/flaky": [503, 429, 200], "/down": [500, 500, 500], "/denied": [403, 200]}
    seen: list[str] = []

    class Scripted(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server API
            seen.append(self.path)
            status = answers[self.path].pop(0)
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"payload" if status == 200 else b"")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sleeps: list[float] = []
    try:
        store = HttpArchive(f"http://127.0.0.1:{server.server_address[1]}/", attempts=3, sleep=sleeps.append)
        assert store.get("flaky") == b"payload" and sleeps == [0.5, 1.0]
        sleeps.clear()
        with pytest.raises(TemporaryExchangeError, match="down: HTTP 500"):
            store.get("down")
        assert sleeps == [0.5, 1.0]  # three attempts, no pause after the last
        sleeps.clear()
        with pytest.raises(TemporaryExchangeError, match="denied: HTTP 403"):
            store.get("denied")
        assert sleeps == [] and seen.count("/denied") == 1
    finally:
        server.shutdown()
