"""Embedded DuckDB warehouse for market data: combined 15m candles and long/short ratios, per symbol.

Why: the reference rewrote one Parquet file per symbol and froze partial candles forever (spec 10 §1.4-1.5, W-01,
W-02). Here an upsert is one transaction with the storage rules of the spec:

- only closed candles are stored (open time + 15 min <= `now`, D14);
- OHLCV and the `_btc`/`_eth` columns of already-stored timestamps are overwritten by the new values (W-01 fix);
  a correlation group absent from the incoming frame is left untouched;
- `oi_change`/`funding_rate`: missing is NULL; the legacy 0.0 marker is converted to NULL on every upsert; a new
  non-null value replaces the stored one (NULL or not), a new NULL never replaces a stored value;
- bad input raises DataError before the database is touched.

Provenance: every candle and L/S row records its `source` (bulk, rest, parquet, synthetic; NULL = written before
sources were recorded) and the `batch_id` of the import that last wrote it. Synthetic rows never share a symbol
with real rows: a write that would mix them is refused (DataError) before anything is written. Raw archive series
(funding settlements, 5-minute metrics) and the bulk importer's file and coverage records live in tables of their
own (`storage/raw_market.py`, `storage/provenance.py`; their SQL runs on this module's connection).

L/S ratios (spec 20 §9, BT-20): keyed (symbol, period timestamp), insert-if-absent. Within one frame the first
row that has both ratios wins; rows missing either ratio are skipped. First-write-wins is deliberate: the fixed
collector only writes a row when the top-account and global records carry the same period timestamp, and Binance
does not revise a closed period, so a repeat (backfill, retry) must not overwrite a row collected live.

Concurrency: DuckDB allows one read-write process per file. Each method opens and closes its own connection, or
use the warehouse as a context manager to hold one connection for a block. Run one writer at a time (the Dagster
warehouse pool has a limit of 1); other processes cannot open the file while a writer holds it. This is the only
module that imports duckdb (tests aside).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from trader_runtime.domain.schema import (
    BAR,
    BTC_COLUMNS,
    COMBINED_COLUMNS,
    ETH_COLUMNS,
    LS_RATIO_COLUMNS,
    OHLCV_COLUMNS,
    OI_FUNDING_COLUMNS,
    validate_combined_frame,
)
from trader_runtime.domain.provenance import UNKNOWN_SOURCE, DataSource
from trader_runtime.errors import DataError
from trader_runtime.market.quality import ohlc_violations
from trader_runtime.market.symbols import normalize_symbol
from trader_runtime.storage.provenance import PROVENANCE_SCHEMA, ProvenanceTables
from trader_runtime.storage.raw_market import RAW_SCHEMA, RawMarketTables
from trader_runtime.storage.upsert import insert_or_upsert

_LS_VALUES = LS_RATIO_COLUMNS[1:]

_SCHEMA = "\n".join(
    [
        "CREATE TABLE IF NOT EXISTS candles_15m (",
        "  symbol VARCHAR NOT NULL,",
        "  timestamp TIMESTAMPTZ NOT NULL,",
        *[f"  {c} DOUBLE{' NOT NULL' if c in OHLCV_COLUMNS else ''}," for c in COMBINED_COLUMNS],
        "  PRIMARY KEY (symbol, timestamp)",
        ");",
        "ALTER TABLE candles_15m ADD COLUMN IF NOT EXISTS source VARCHAR;",
        "ALTER TABLE candles_15m ADD COLUMN IF NOT EXISTS batch_id VARCHAR;",
        "CREATE TABLE IF NOT EXISTS ls_ratio_15m (",
        "  symbol VARCHAR NOT NULL,",
        "  timestamp TIMESTAMPTZ NOT NULL,",
        "  top_acct_ls_ratio DOUBLE NOT NULL,",
        "  global_ls_ratio DOUBLE NOT NULL,",
        "  PRIMARY KEY (symbol, timestamp)",
        ");",
        "ALTER TABLE ls_ratio_15m ADD COLUMN IF NOT EXISTS source VARCHAR;",
        "ALTER TABLE ls_ratio_15m ADD COLUMN IF NOT EXISTS batch_id VARCHAR;",
        RAW_SCHEMA,
        PROVENANCE_SCHEMA,
    ]
)


@dataclass(frozen=True, slots=True)
class UpsertResult:
    """What one candle upsert did; `nulled_legacy_zeros` counts 0.0 OI/funding values stored as NULL."""

    inserted: int
    updated: int
    dropped_forming: int
    nulled_legacy_zeros: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class LsRatioUpsertResult:
    """What one L/S ratio upsert did (insert-if-absent)."""

    inserted: int
    skipped_existing: int
    skipped_duplicates: int
    skipped_incomplete: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Coverage:
    """Stored extent of one symbol; `oi_change`/`funding_rate` are non-null shares of the candle rows."""

    symbol: str
    rows: int
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    oi_change: float
    funding_rate: float
    ls_ratio_rows: int

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["start"] = None if self.start is None else self.start.isoformat()
        out["end"] = None if self.end is None else self.end.isoformat()
        return out


class Warehouse(RawMarketTables, ProvenanceTables):
    """Market-data store in one DuckDB file (created with its parent folder on first write)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._con: duckdb.DuckDBPyConnection | None = None
        self._in_transaction = False

    def __enter__(self) -> "Warehouse":
        self._con = self._open()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    # ---------------------------------------------------------------------------------------------- candles

    def upsert_candles(
        self, symbol: str, df: pd.DataFrame, now: pd.Timestamp, *, source: DataSource | str | None = None,
        batch: str | None = None,
    ) -> UpsertResult:
        """Store the closed candles of `df` (combined schema) for `symbol` in one transaction.

        `source`/`batch` are recorded on every written row (None: unknown); mixing synthetic and real rows of one
        symbol is refused."""
        symbol = normalize_symbol(symbol)
        tag = _source_tag(source)
        now_ts = _utc_timestamp(now, "now")
        frame = _prepare_candles(symbol, df)
        frame = frame[[c for c in frame.columns if c in COMBINED_COLUMNS]]  # metric inputs live in metrics_5m
        closed = np.asarray(frame.index + BAR <= now_ts)
        dropped = int((~closed).sum())
        frame = frame[closed]
        nulled = 0
        for col in OI_FUNDING_COLUMNS:
            if col in frame.columns:
                zero = frame[col].to_numpy() == 0.0
                nulled += int(zero.sum())
                frame[col] = frame[col].mask(zero)
        if frame.empty:
            return UpsertResult(0, 0, dropped, 0)
        cols = list(frame.columns)
        updates = [f"{c} = excluded.{c}" for c in cols if c not in OI_FUNDING_COLUMNS]
        updates += [f"{c} = COALESCE(excluded.{c}, candles_15m.{c})" for c in cols if c in OI_FUNDING_COLUMNS]
        if tag is not None:  # an untagged write keeps the rows' recorded source
            updates += ["source = excluded.source", "batch_id = excluded.batch_id"]
        incoming = arrow_rows(frame)
        with self._transaction() as con:
            self._refuse_mixing(con, "candles_15m", symbol, tag)
            updated = insert_or_upsert(con, "candles_15m", "timestamp", symbol, ["timestamp", *cols], incoming, updates,
                                       tag, batch)  # fmt: skip
        return UpsertResult(len(frame) - updated, updated, dropped, nulled)

    def read_candles(
        self, symbol: str, start: pd.Timestamp | None = None, end: pd.Timestamp | None = None
    ) -> pd.DataFrame:
        """Candles in [start, end) in the combined schema; NULL -> NaN; a correlation group with no data is dropped."""
        symbol = normalize_symbol(symbol)
        where, params = _time_filter(symbol, start, end)
        cols = ", ".join(COMBINED_COLUMNS)
        raw = self._query(f"SELECT timestamp, {cols} FROM candles_15m WHERE {where} ORDER BY timestamp", params)
        if raw is None or raw.empty:
            return _empty_combined()
        frame = _to_utc_index(raw).astype("float64")
        for group in (BTC_COLUMNS, ETH_COLUMNS):
            if frame[list(group)].isna().all().all():
                frame = frame.drop(columns=list(group))
        return validate_combined_frame(frame, source=f"warehouse {symbol}")

    def read_ohlcv(self, symbol: str, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
        """OHLCV of the stored candles in [start, end) as float64 (rows were checked when written; the bulk
        importer merges them with new files without re-validating the whole combined frame)."""
        where, params = _time_filter(normalize_symbol(symbol), start, end)
        raw = self._query(f"SELECT timestamp, {', '.join(OHLCV_COLUMNS)} FROM candles_15m WHERE {where} "
                          "ORDER BY timestamp", params)
        if raw is None or raw.empty:
            return _empty_combined()[list(OHLCV_COLUMNS)]
        return _to_utc_index(raw).astype("float64")

    def candle_counts(self, symbol: str, start: pd.Timestamp, end: pd.Timestamp) -> tuple[int, int, int]:
        """(candles, with oi_change, with funding_rate) of `symbol` in [start, end)."""
        where, params = _time_filter(normalize_symbol(symbol), start, end)
        if self._con is None and not self.path.exists():
            return 0, 0, 0
        with self._connection() as con:
            (row,) = con.execute(f"SELECT count(*), count(oi_change), count(funding_rate) FROM candles_15m "
                                 f"WHERE {where}", params).fetchall()
        return int(row[0]), int(row[1]), int(row[2])

    def symbols(self) -> list[str]:
        """Symbols that have candles, sorted."""
        raw = self._query("SELECT DISTINCT symbol FROM candles_15m ORDER BY symbol", [])
        return [] if raw is None else [str(s) for s in raw["symbol"]]

    def coverage(self, symbol: str) -> Coverage:
        """Row count, time range and OI/funding coverage of one symbol (zeros when nothing is stored)."""
        symbol = normalize_symbol(symbol)
        raw = self._query(
            "SELECT count(*) AS n, min(timestamp) AS first, max(timestamp) AS last, "
            "avg(CASE WHEN oi_change IS NULL THEN 0 ELSE 1 END) AS oi, "
            "avg(CASE WHEN funding_rate IS NULL THEN 0 ELSE 1 END) AS funding, "
            "(SELECT count(*) FROM ls_ratio_15m WHERE symbol = $sym) AS ls "
            "FROM candles_15m WHERE symbol = $sym",
            {"sym": symbol},
        )
        if raw is None or int(raw["n"].iloc[0]) == 0:
            ls_rows = 0 if raw is None else int(raw["ls"].iloc[0])
            return Coverage(symbol, 0, None, None, 0.0, 0.0, ls_rows)
        row = raw.iloc[0]
        return Coverage(
            symbol=symbol,
            rows=int(row["n"]),
            start=pd.Timestamp(row["first"]).tz_convert("UTC"),
            end=pd.Timestamp(row["last"]).tz_convert("UTC"),
            oi_change=float(row["oi"]),
            funding_rate=float(row["funding"]),
            ls_ratio_rows=int(row["ls"]),
        )

    # ---------------------------------------------------------------------------------------------- L/S ratios

    def upsert_ls_ratio(
        self, symbol: str, df: pd.DataFrame, *, source: DataSource | str | None = None, batch: str | None = None
    ) -> LsRatioUpsertResult:
        """Insert L/S rows (LS_RATIO_COLUMNS) whose period is not stored yet; see the module docstring."""
        symbol = normalize_symbol(symbol)
        tag = _source_tag(source)
        frame = _prepare_ls_ratio(symbol, df)
        complete = frame[list(_LS_VALUES)].notna().all(axis=1)
        incomplete = int((~complete).sum())
        frame = frame[complete]
        first = ~frame["timestamp"].duplicated(keep="first")
        duplicates = int((~first).sum())
        frame = frame[first]
        if frame.empty:
            return LsRatioUpsertResult(0, 0, duplicates, incomplete)
        incoming = arrow_rows(frame.set_index("timestamp"))
        with self._transaction() as con:
            self._refuse_mixing(con, "ls_ratio_15m", symbol, tag)
            existing = insert_or_upsert(con, "ls_ratio_15m", "timestamp", symbol,
                                        ["timestamp", "top_acct_ls_ratio", "global_ls_ratio"], incoming, None, tag, batch)
        return LsRatioUpsertResult(len(frame) - existing, existing, duplicates, incomplete)

    def read_ls_ratio(
        self, symbol: str, start: pd.Timestamp | None = None, end: pd.Timestamp | None = None
    ) -> pd.DataFrame:
        """L/S rows in [start, end) with a `timestamp` column (UTC ms), as the collector's Parquet files."""
        symbol = normalize_symbol(symbol)
        where, params = _time_filter(symbol, start, end)
        raw = self._query(
            f"SELECT timestamp, top_acct_ls_ratio, global_ls_ratio FROM ls_ratio_15m WHERE {where} ORDER BY timestamp",
            params,
        )
        if raw is None or raw.empty:
            return empty_ls_ratio()
        out = _to_utc_index(raw).astype("float64").reset_index()
        return out[list(LS_RATIO_COLUMNS)]

    # ---------------------------------------------------------------------------------------------- provenance

    def _refuse_mixing(self, con: duckdb.DuckDBPyConnection, table: str, symbol: str, tag: str | None) -> None:
        """DataError when writing `tag` rows would put synthetic and real rows of `symbol` side by side.

        An untagged write (None) makes no claim and is not checked."""
        if tag is None:
            return
        synthetic = tag == DataSource.SYNTHETIC.value
        where = f"symbol = ? AND (coalesce(source, '') = '{DataSource.SYNTHETIC.value}') != ?"
        first = con.execute(  # cheap: stops at the first clashing row
            f"SELECT coalesce(source, '{UNKNOWN_SOURCE}') FROM {table} WHERE {where} LIMIT 1", [symbol, synthetic]
        ).fetchone()
        if first is None:
            return
        kind = first[0]
        count = _scalar(con, f"SELECT count(*) FROM {table} WHERE {where} AND coalesce(source, '{UNKNOWN_SOURCE}') = ?",
                        [symbol, synthetic, kind])
        what = "synthetic" if synthetic else tag
        raise DataError(
            f"{symbol}: {self.path} already holds {count} {kind} row(s) in {table}; {what} rows are never stored "
            f"beside them. Use another warehouse (--warehouse) or remove them first with "
            f"`cointrader data purge --symbol {symbol} --source {kind} --warehouse {self.path}`"
        )

    def purge_source(self, symbol: str, source: str) -> dict[str, int]:
        """Delete every row of `symbol` written by `source` (`unknown`: rows without a source); rows per table."""
        symbol = normalize_symbol(symbol)
        where = "source IS NULL" if source == UNKNOWN_SOURCE else "source = ?"
        params: list[Any] = [symbol] + ([] if source == UNKNOWN_SOURCE else [source])
        out: dict[str, int] = {}
        with self._transaction() as con:
            for table in ("candles_15m", "ls_ratio_15m", *self.RAW_TABLES):
                out[table] = _scalar(con, f"SELECT count(*) FROM {table} WHERE symbol = ? AND {where}", params)
                con.execute(f"DELETE FROM {table} WHERE symbol = ? AND {where}", params)
        return out

    def coverage_by_source(self, symbol: str) -> pd.DataFrame:
        """Rows, time range and OI/funding/L-S coverage of one symbol per source (one row per source)."""
        symbol = normalize_symbol(symbol)
        raw = self._query(
            f"SELECT coalesce(source, '{UNKNOWN_SOURCE}') AS source, 'candles' AS kind, count(*) AS rows, "
            "min(timestamp) AS first, max(timestamp) AS last, count(oi_change) AS oi_change, "
            "count(funding_rate) AS funding_rate, count(DISTINCT batch_id) AS batches "
            "FROM candles_15m WHERE symbol = $sym GROUP BY 1 "
            f"UNION ALL SELECT coalesce(source, '{UNKNOWN_SOURCE}'), 'ls_ratio', count(*), min(timestamp), "
            "max(timestamp), NULL, NULL, count(DISTINCT batch_id) FROM ls_ratio_15m WHERE symbol = $sym GROUP BY 1 "
            "ORDER BY 2, 1",
            {"sym": symbol},
        )
        return pd.DataFrame() if raw is None else raw

    # ---------------------------------------------------------------------------------------------- connections

    def _open(self) -> duckdb.DuckDBPyConnection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            con = duckdb.connect(str(self.path))
        except duckdb.Error as exc:
            raise DataError(f"cannot open warehouse {self.path}: {exc}") from exc
        con.execute("SET TimeZone = 'UTC'")
        con.execute(_SCHEMA)
        return con

    @contextmanager
    def _connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if self._con is not None:
            yield self._con
            return
        con = self._open()
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def atomic(self) -> Iterator["Warehouse"]:
        """One transaction around several writes: all of them land or none (e.g. a file's rows and its record)."""
        owned = self._con is None
        if owned:
            self._con = self._open()
        try:
            with self._transaction():
                yield self
        finally:
            if owned and self._con is not None:
                self._con.close()
                self._con = None

    @contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if self._in_transaction and self._con is not None:  # inside atomic(): join the open transaction
            yield self._con
            return
        with self._connection() as con:
            con.begin()
            self._in_transaction = True
            try:
                yield con
            except BaseException:
                self._in_transaction = False
                con.rollback()
                raise
            self._in_transaction = False
            con.commit()

    def _query(self, sql: str, params: list[Any] | dict[str, Any]) -> pd.DataFrame | None:
        """Run a read; None when the warehouse file does not exist yet (reads never create it)."""
        if self._con is None and not self.path.exists():
            return None
        with self._connection() as con:
            return con.execute(sql, params).df()


# -------------------------------------------------------------------------------------------------- helpers


def _source_tag(source: DataSource | str | None) -> str | None:
    if source is None:
        return None
    try:
        return DataSource(source).value
    except ValueError:
        raise DataError(f"unknown data source {source!r}; one of {[s.value for s in DataSource]}") from None


def empty_candles() -> pd.DataFrame:
    """What `read_candles` returns for a symbol with nothing stored."""
    return _empty_combined()


def empty_ls_ratio() -> pd.DataFrame:
    """What `read_ls_ratio` returns for a symbol with nothing stored."""
    out = pd.DataFrame({c: pd.Series(dtype="float64") for c in LS_RATIO_COLUMNS})
    out["timestamp"] = pd.DatetimeIndex([], tz="UTC").as_unit("ms")
    return out


def arrow_rows(frame: pd.DataFrame) -> pa.Table:
    """A frame indexed by UTC time as an Arrow table (`timestamp` + its float columns) for DuckDB to scan:
    cheaper to register than a pandas frame."""
    idx = pd.DatetimeIndex(frame.index).as_unit("ms")
    arrays = [pa.array(idx.asi8, type=pa.timestamp("ms", tz="UTC"))]
    arrays += [pa.array(frame[c].to_numpy(np.float64), from_pandas=True) for c in frame.columns]
    return pa.Table.from_arrays(arrays, names=["timestamp", *map(str, frame.columns)])


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> int:
    rows = con.execute(sql, params).fetchall()  # fetch to the end: a half-read result blocks the connection
    return int(rows[0][0]) if rows else 0


def _utc_timestamp(value: Any, name: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name}={value!r} is not a timestamp") from exc
    if ts.tzinfo is None:
        raise DataError(f"{name}={ts} is timezone-naive; pass a UTC timestamp")
    return ts.tz_convert("UTC")


def _time_filter(symbol: str, start: Any, end: Any) -> tuple[str, list[Any]]:
    where, params = "symbol = ?", [symbol]
    if start is not None:
        where += " AND timestamp >= ?"
        params.append(_utc_timestamp(start, "start").to_pydatetime())
    if end is not None:
        where += " AND timestamp < ?"
        params.append(_utc_timestamp(end, "end").to_pydatetime())
    return where, params


def _to_utc_index(raw: pd.DataFrame) -> pd.DataFrame:
    idx = pd.DatetimeIndex(raw["timestamp"])
    idx = (idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")).as_unit("ms")
    return raw.drop(columns=["timestamp"]).set_axis(idx.rename("timestamp"), axis=0)


def _empty_combined() -> pd.DataFrame:
    idx = pd.DatetimeIndex([], tz="UTC", name="timestamp").as_unit("ms")
    return pd.DataFrame({c: pd.Series(dtype="float64") for c in COMBINED_COLUMNS}, index=idx)


def _prepare_candles(symbol: str, df: pd.DataFrame) -> pd.DataFrame:
    """Canonical frame or DataError: schema, 15-minute grid, finite values, sane OHLC (reuses the quality report)."""
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"{symbol}: expected a DataFrame of candles, got {type(df).__name__}")
    frame = validate_combined_frame(df, source=f"{symbol} candles")
    values = frame.to_numpy(dtype="float64")
    if np.isinf(values).any():
        bad = frame.columns[np.isinf(values).any(axis=0)].tolist()
        raise DataError(f"{symbol} candles: infinite values in {bad}")
    violations = ohlc_violations(frame)  # the grid was checked by validate_combined_frame
    if violations:
        ts, why = violations[0]
        raise DataError(f"{symbol} candles: {len(violations)} OHLC violation(s), first {ts}: {why}")
    return frame


def _prepare_ls_ratio(symbol: str, df: pd.DataFrame) -> pd.DataFrame:
    """Frame with LS_RATIO_COLUMNS in input order (stable, for first-wins) or DataError."""
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"{symbol}: expected a DataFrame of L/S ratios, got {type(df).__name__}")
    frame = df.reset_index() if "timestamp" not in df.columns and df.index.name == "timestamp" else df
    missing = [c for c in LS_RATIO_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"{symbol} L/S ratios: missing column(s) {missing}; expected {list(LS_RATIO_COLUMNS)}")
    ts = frame["timestamp"]
    if not isinstance(ts.dtype, pd.DatetimeTZDtype):
        raise DataError(f"{symbol} L/S ratios: 'timestamp' must be timezone-aware UTC datetimes, got {ts.dtype}")
    idx = pd.DatetimeIndex(ts).tz_convert("UTC").as_unit("ms")
    off_grid = idx.asi8 % int(BAR / pd.Timedelta(milliseconds=1)) != 0
    if off_grid.any():
        raise DataError(f"{symbol} L/S ratios: timestamp {idx[off_grid][0]} is not on the 15-minute grid")
    out = pd.DataFrame({"timestamp": idx})
    for col in _LS_VALUES:
        if not pd.api.types.is_numeric_dtype(frame[col]):
            raise DataError(f"{symbol} L/S ratios: column {col!r} has non-numeric dtype {frame[col].dtype}")
        values = frame[col].to_numpy(dtype="float64")
        bad = np.isinf(values) | (values <= 0)
        if bad.any():
            raise DataError(f"{symbol} L/S ratios: {col}={values[bad][0]!r} is not a positive finite ratio")
        out[col] = values
    return out
