"""Parquet snapshots of the warehouse: one writer publishes, any number of readers on any host read.

Why: a DuckDB file has one writing process and, while it writes, no readers in other processes. In the
distributed profile the market-data steps (the only writers, one at a time through pool `duckdb_warehouse`) keep
updating the DuckDB file and, after each write, publish what they changed as immutable Parquet files, one folder
per table and symbol (`<root>/candles/symbol=XRPUSDT/…parquet`), with a `CURRENT.json` pointer replaced
atomically. Readers (the weekly report, research, other hosts through a shared volume or object store) read the
pointer's file and never open the DuckDB file, so they need no lock and never see a half-written update. PostgreSQL
would serve the same purpose but would move the whole warehouse and its SQL away from DuckDB, which stays the
single-file default; Parquet keeps one engine and one schema for both profiles.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pandas as pd

from trader_runtime.errors import DataError
from trader_runtime.market.symbols import normalize_symbol
from trader_runtime.storage.warehouse import empty_candles, empty_ls_ratio

POINTER = "CURRENT.json"
KEEP_VERSIONS = 3  # older files stay a while so a reader that just read the pointer still finds its file
CANDLES, LS_RATIO = "candles", "ls_ratio"


class _Readable(Protocol):
    def read_candles(self, symbol: str) -> pd.DataFrame: ...
    def read_ls_ratio(self, symbol: str) -> pd.DataFrame: ...


@dataclass(frozen=True)
class Snapshot:
    table: str
    symbol: str
    file: str
    rows: int


def _folder(root: Path, table: str, symbol: str) -> Path:
    return root / table / f"symbol={normalize_symbol(symbol)}"


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def publish(warehouse: _Readable, root: str | Path, table: str, symbols: list[str]) -> list[Snapshot]:
    """Write the current content of `table` for `symbols` as new snapshot files and move their pointers."""
    if table not in (CANDLES, LS_RATIO):
        raise DataError(f"unknown snapshot table {table!r}")
    out = []
    for symbol in symbols:
        frame = warehouse.read_candles(symbol) if table == CANDLES else warehouse.read_ls_ratio(symbol)
        folder = _folder(Path(root), table, symbol)
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns()}.parquet"
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=folder)
        os.close(fd)
        try:
            frame.to_parquet(tmp)
            os.replace(tmp, folder / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _atomic_write(folder / POINTER, json.dumps({"file": name, "rows": len(frame)}).encode())
        for old in sorted(folder.glob("*.parquet"))[:-KEEP_VERSIONS]:
            old.unlink(missing_ok=True)
        out.append(Snapshot(table, normalize_symbol(symbol), name, len(frame)))
    return out


class SnapshotReader:
    """Reads published snapshots with the warehouse's read API (`read_candles`, `read_ls_ratio`)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _read(self, table: str, symbol: str) -> pd.DataFrame | None:
        folder = _folder(self.root, table, symbol)
        try:
            pointer = json.loads((folder / POINTER).read_text())
        except FileNotFoundError:
            return None  # nothing published yet: empty, like a warehouse without the symbol
        return pd.read_parquet(folder / pointer["file"])

    def read_candles(self, symbol: str, start: pd.Timestamp | None = None,
                     end: pd.Timestamp | None = None) -> pd.DataFrame:
        frame = self._read(CANDLES, symbol)
        if frame is None:
            return empty_candles()
        return frame[_window(frame.index, start, end)]

    def read_ls_ratio(self, symbol: str, start: pd.Timestamp | None = None,
                      end: pd.Timestamp | None = None) -> pd.DataFrame:
        frame = self._read(LS_RATIO, symbol)
        if frame is None:
            return empty_ls_ratio()
        return frame[_window(pd.DatetimeIndex(frame["timestamp"]), start, end)].reset_index(drop=True)


def _window(index: pd.DatetimeIndex, start: pd.Timestamp | None, end: pd.Timestamp | None) -> list[bool]:
    keep = pd.Series(True, index=range(len(index)))
    if start is not None:
        keep &= index >= pd.Timestamp(start)
    if end is not None:
        keep &= index < pd.Timestamp(end)
    return keep.to_list()
