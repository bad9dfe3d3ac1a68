"""Import batches, per-file records of the bulk importer and its coverage per symbol × month × data type.

Why: "verified files are not read twice" and "a replaced file is re-imported" need a record of what was imported
with which SHA-256; users need to see what a warehouse is made of. Mixed into `Warehouse` (SQL on its connection).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
import pyarrow as pa

PROVENANCE_SCHEMA = "\n".join([
    "CREATE TABLE IF NOT EXISTS import_batches (",
    "  batch_id VARCHAR PRIMARY KEY, source VARCHAR NOT NULL, started_at TIMESTAMPTZ NOT NULL, detail VARCHAR);",
    "CREATE TABLE IF NOT EXISTS bulk_files (",
    "  path VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, symbol VARCHAR NOT NULL, period VARCHAR NOT NULL,",
    "  sha256 VARCHAR NOT NULL, rows_read INTEGER, rows_written INTEGER, duplicates INTEGER, conflicts INTEGER,",
    "  missing_slots INTEGER, missing_sample VARCHAR, note VARCHAR, batch_id VARCHAR, imported_at TIMESTAMPTZ);",
    "CREATE TABLE IF NOT EXISTS bulk_rejections (",
    "  path VARCHAR NOT NULL, published_sha256 VARCHAR, actual_sha256 VARCHAR, reason VARCHAR NOT NULL,",
    "  batch_id VARCHAR, rejected_at TIMESTAMPTZ);",
    "CREATE TABLE IF NOT EXISTS bulk_coverage (",
    "  symbol VARCHAR NOT NULL, month VARCHAR NOT NULL, data_type VARCHAR NOT NULL, expected INTEGER,",
    "  present INTEGER, files VARCHAR, note VARCHAR, batch_id VARCHAR, PRIMARY KEY (symbol, month, data_type));",
])


@dataclass(frozen=True)
class FileRecord:
    """What importing one archive file did (spec: path, SHA-256, rows read/written, duplicates, missing slots)."""

    path: str
    kind: str
    symbol: str
    period: str
    sha256: str
    rows_read: int
    rows_written: int
    duplicates: int
    conflicts: int
    missing_slots: int
    missing_sample: list[str]
    note: str = ""


@dataclass(frozen=True)
class CoverageRecord:
    symbol: str
    month: str
    data_type: str
    expected: int
    present: int
    files: str
    note: str = ""

    @property
    def missing(self) -> int:
        return max(0, self.expected - self.present)


class ProvenanceTables:
    """Methods of `Warehouse` for batches, file records and coverage (needs `_transaction`, `_query`)."""

    def start_batch(self, batch_id: str, source: str, detail: dict[str, Any], now: pd.Timestamp) -> None:
        with self._transaction() as con:  # type: ignore[attr-defined]
            con.execute("INSERT INTO import_batches VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                        [batch_id, source, now.to_pydatetime(), json.dumps(detail, default=str)])

    def imported_digests(self, paths: list[str] | None = None) -> dict[str, str]:
        """path -> SHA-256 of every file imported so far (optionally only `paths`)."""
        raw = self._query("SELECT path, sha256 FROM bulk_files", [])  # type: ignore[attr-defined]
        if raw is None:
            return {}
        out = dict(zip(raw["path"], raw["sha256"]))
        return out if paths is None else {p: out[p] for p in paths if p in out}

    def record_files(self, records: list[FileRecord], batch_id: str, now: pd.Timestamp) -> None:
        """Insert or replace the records of these paths (call inside the transaction that wrote their rows)."""
        if not records:
            return
        rows = [{**asdict(r), "missing_sample": json.dumps(r.missing_sample), "batch_id": batch_id,
                 "imported_at": now.to_pydatetime()} for r in records]
        frame = pa.Table.from_pylist(rows)  # Arrow: cheaper to build and scan than a frame of strings
        cols = ", ".join(frame.column_names)
        with self._transaction() as con:  # type: ignore[attr-defined]
            con.register("incoming_files", frame)
            try:
                con.execute(f"INSERT OR REPLACE INTO bulk_files ({cols}) SELECT {cols} FROM incoming_files")
            finally:
                con.unregister("incoming_files")

    def record_rejection(self, path: str, published: str, actual: str, reason: str, batch_id: str,
                         now: pd.Timestamp) -> None:
        with self._transaction() as con:  # type: ignore[attr-defined]
            con.execute("INSERT INTO bulk_rejections VALUES (?, ?, ?, ?, ?, ?)",
                        [path, published, actual, reason, batch_id, now.to_pydatetime()])

    def file_records(self, symbol: str | None = None) -> pd.DataFrame:
        where, params = ("WHERE symbol = ?", [symbol]) if symbol else ("", [])
        raw = self._query(f"SELECT * FROM bulk_files {where} ORDER BY path", params)  # type: ignore[attr-defined]
        return pd.DataFrame() if raw is None else raw

    def rejections(self) -> pd.DataFrame:
        raw = self._query("SELECT * FROM bulk_rejections ORDER BY rejected_at", [])  # type: ignore[attr-defined]
        return pd.DataFrame() if raw is None else raw

    def record_coverage(self, records: list[CoverageRecord], batch_id: str) -> None:
        if not records:
            return
        frame = pa.Table.from_pylist([{**asdict(r), "batch_id": batch_id} for r in records])
        with self._transaction() as con:  # type: ignore[attr-defined]
            con.register("incoming_coverage", frame)
            try:
                con.execute("INSERT OR REPLACE INTO bulk_coverage SELECT symbol, month, data_type, expected, present, "
                            "files, note, batch_id FROM incoming_coverage")
            finally:
                con.unregister("incoming_coverage")

    def bulk_coverage(self, symbol: str | None = None) -> pd.DataFrame:
        where, params = ("WHERE symbol = ?", [symbol]) if symbol else ("", [])
        raw = self._query(f"SELECT * FROM bulk_coverage {where} ORDER BY symbol, month, data_type", params)  # type: ignore[attr-defined]
        return pd.DataFrame() if raw is None else raw
