"""Parquet snapshots published from a real DuckDB warehouse and read back without opening the DuckDB file."""

from __future__ import annotations

import json

import pandas as pd

from trader_runtime.storage.snapshots import CANDLES, KEEP_VERSIONS, LS_RATIO, POINTER, SnapshotReader, publish
from trader_runtime.storage.warehouse import Warehouse, empty_candles, empty_ls_ratio


def test_published_candles_read_back_equal_and_pointer_moves(tmp_path, warehouse, candles):
    wh, frame = warehouse, candles
    wh.upsert_candles("XRPUSDT", frame, now=frame.index[-1] + pd.Timedelta("1h"))
    root = tmp_path / "snapshots"
    first = publish(wh, root, CANDLES, ["XRPUSDT"])[0]
    reader = SnapshotReader(root)
    assert reader.read_candles("XRPUSDT").equals(wh.read_candles("XRPUSDT"))
    start = frame.index[100]
    assert reader.read_candles("XRPUSDT", start=start).equals(wh.read_candles("XRPUSDT", start=start))
    for _ in range(KEEP_VERSIONS + 1):
        last = publish(wh, root, CANDLES, ["XRPUSDT"])[0]
    folder = root / "candles" / "symbol=XRPUSDT"
    assert json.loads((folder / POINTER).read_text())["file"] == last.file != first.file
    assert len(list(folder.glob("*.parquet"))) == KEEP_VERSIONS and last.rows == len(wh.read_candles("XRPUSDT"))


def test_unpublished_symbol_reads_empty_like_the_warehouse(tmp_path):
    reader = SnapshotReader(tmp_path)
    assert reader.read_candles("ETHUSDT").equals(empty_candles())
    assert reader.read_ls_ratio("ETHUSDT").equals(empty_ls_ratio())
    wh = Warehouse(tmp_path / "none.duckdb")
    assert list(reader.read_candles("ETHUSDT").columns) == list(wh.read_candles("ETHUSDT").columns)
    publish(wh, tmp_path / "s", LS_RATIO, ["ETHUSDT"])
    assert SnapshotReader(tmp_path / "s").read_ls_ratio("ETHUSDT").empty
