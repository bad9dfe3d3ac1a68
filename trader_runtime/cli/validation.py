"""Argument checks shared by every `cointrader` sub-command: each raises ConfigError/DataError (one line, exit 2 in
`cli/main.py`) and none of them creates, opens for writing or modifies anything.

Why: commands used to create their journal, warehouse, MLflow store or Dagster run before they looked at the rest of
their arguments, so a typo left files behind, and some bad values surfaced as tracebacks. A command now checks every
argument and environment value with these functions first, and only then writes.
"""

from __future__ import annotations

import math
import os
import sqlite3
import zoneinfo
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd

from trader_runtime.errors import ConfigError, DataError
from trader_runtime.market.quality import AdmittedCandles, admit_candles
from trader_runtime.market.symbols import normalize_symbol

#: the first bytes of every SQLite 3 database file
SQLITE_MAGIC = b"SQLite format 3\x00"
#: DuckDB database files carry "DUCK" at byte offset 8
DUCKDB_MAGIC_OFFSET, DUCKDB_MAGIC = 8, b"DUCK"
#: MLflow store URI schemes the platform can use
TRACKING_SCHEMES = ("sqlite", "file", "http", "https", "postgresql", "mysql", "databricks")


# ------------------------------------------------------------------------------------------------ numbers
def int_range(flag: str, value: int, lo: int, hi: int) -> int:
    if not lo <= value <= hi:
        raise ConfigError(f"{flag}={value} is out of range; allowed [{lo}, {hi}]")
    return value


def float_range(flag: str, value: float, lo: float, hi: float, *, lo_open: bool = False) -> float:
    """A finite float in [lo, hi] (or (lo, hi] with `lo_open`)."""
    low_ok = value > lo if lo_open else value >= lo
    if not math.isfinite(value) or not low_ok or value > hi:
        raise ConfigError(f"{flag}={value} is out of range; allowed {'(' if lo_open else '['}{lo}, {hi}]")
    return value


def http_port(flag: str, value: int) -> int:
    """-1 switches the endpoint off, 0 picks a free port, otherwise a TCP port number."""
    return int_range(flag, value, -1, 65535)


# ------------------------------------------------------------------------------------------------ names, times
def symbol(flag: str, value: str) -> str:
    try:
        return normalize_symbol(value)
    except DataError as exc:
        raise ConfigError(f"{flag}: {exc}") from None


def symbol_list(flag: str, value: str) -> list[str]:
    """A comma-separated list of at least one valid, distinct ticker."""
    names = [symbol(flag, part) for part in value.split(",") if part.strip()]
    if not names:
        raise ConfigError(f"{flag}={value!r} lists no symbol; give at least one, e.g. XRPUSDT")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"{flag}={value!r} lists {dupes} more than once")
    return names


def utc_time(flag: str, text: str | None) -> pd.Timestamp | None:
    """A date/time; naive values are UTC."""
    if text is None:
        return None
    try:
        t = pd.Timestamp(text)
    except (ValueError, TypeError):
        raise ConfigError(f"{flag}={text!r} is not a date/time such as 2025-06-01 or 2025-06-01T12:00") from None
    if t is pd.NaT:
        raise ConfigError(f"{flag}={text!r} is not a date/time such as 2025-06-01 or 2025-06-01T12:00")
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def time_window(start: pd.Timestamp | None, end: pd.Timestamp | None) -> None:
    if start is not None and end is not None and start >= end:
        raise ConfigError(f"--start {start} is not before --end {end}")


def timezone(flag: str, name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{flag}={name!r} is not a known time zone such as Asia/Seoul or UTC") from None
    return name


# ------------------------------------------------------------------------------------------------ paths
def _nearest_existing(path: Path) -> Path:
    probe = path.absolute()
    while not probe.exists():
        probe = probe.parent
    return probe


def creatable_file(flag: str, path: Path, suffix: str | None = None) -> Path:
    """A file the command may create or replace later: not a folder, under a folder that exists or can be created."""
    if suffix is not None and path.suffix != suffix:
        raise ConfigError(f"{flag}={path} must name a {suffix} file")
    if path.is_dir():
        raise ConfigError(f"{flag}={path} is a folder; give a file name")
    if path.exists():
        if not os.access(path, os.W_OK):
            raise ConfigError(f"{flag}={path} is not writable")
        return path
    _creatable(flag, path)
    return path


def creatable_dir(flag: str, path: Path) -> Path:
    """A folder that exists and is writable, or whose nearest existing ancestor is a writable folder."""
    if path.exists():
        if not path.is_dir():
            raise ConfigError(f"{flag}={path} is not a folder")
        if not os.access(path, os.W_OK | os.X_OK):
            raise ConfigError(f"{flag}={path} is not writable")
        return path
    _creatable(flag, path)
    return path


def _creatable(flag: str, path: Path) -> None:
    anchor = _nearest_existing(path)
    if not anchor.is_dir():
        raise ConfigError(f"{flag}={path} cannot be created: {_rel(anchor)} is a file, not a folder")
    if not os.access(anchor, os.W_OK | os.X_OK):
        raise ConfigError(f"{flag}={path} cannot be created: {_rel(anchor)} is not writable")


def _rel(path: Path) -> Path:
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def existing_file(flag: str, path: Path) -> Path:
    if not path.exists():
        raise DataError(f"{flag}={path} not found")
    if not path.is_file():
        raise DataError(f"{flag}={path} is not a file")
    return path


def existing_dir(flag: str, path: Path) -> Path:
    if not path.is_dir():
        raise DataError(f"{flag}={path} is not an existing folder")
    return path


def _head(path: Path, n: int) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read(n)
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def warehouse(flag: str, path: Path, *, must_exist: bool) -> Path:
    """A DuckDB warehouse file: an existing file must be a DuckDB database (never a parquet or text file the
    warehouse would then fail to use); a missing one must be creatable unless `must_exist`."""
    if path.exists():
        if path.is_dir():
            raise ConfigError(f"{flag}={path} is a folder; give the DuckDB warehouse file")
        head = _head(path, 12)
        if head[DUCKDB_MAGIC_OFFSET:DUCKDB_MAGIC_OFFSET + 4] != DUCKDB_MAGIC:
            kind = "a Parquet file" if head[:4] == b"PAR1" else "not a DuckDB database"
            raise DataError(f"{flag}={path} is {kind}; the warehouse is a DuckDB file (e.g. warehouse/market.duckdb)")
        return path
    if must_exist:
        raise DataError(f"{flag}={path} does not exist; run `cointrader data import` or `data synth` first")
    return creatable_file(flag, path)


def journal(flag: str, path: Path, *, must_exist: bool) -> Path:
    """A trader journal: an existing file must be a readable SQLite database holding the journal's tables."""
    if not path.exists():
        if must_exist:
            raise DataError(f"no journal at {path}; run `cointrader trader run` first (or pass {flag})")
        return path
    if path.is_dir():
        raise ConfigError(f"{flag}={path} is a folder; give the journal file")
    if path.stat().st_size == 0:
        return path  # created but never initialised: the writer sets it up
    if _head(path, len(SQLITE_MAGIC)) != SQLITE_MAGIC:
        raise DataError(f"journal {path} is not an SQLite database (damaged or a different file)")
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
            con.execute("PRAGMA quick_check").fetchall()
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise DataError(f"journal {path} cannot be read: {exc}") from None
    if tables and not {"meta", "trades", "status"} <= tables:
        raise DataError(f"{path} is an SQLite database but not a trader journal (tables {sorted(tables)[:5]})")
    return path


def tracking_uri(flag: str, uri: str, *, must_exist: bool) -> str:
    """An MLflow store URI; with `must_exist`, a local sqlite store must already exist (reading never creates it)."""
    scheme = urlparse(uri).scheme
    if scheme.split("+")[0] not in TRACKING_SCHEMES:
        raise ConfigError(f"{flag}={uri!r}: unsupported store; use sqlite:///path/mlflow.db, file:, http(s)://, "
                          "postgresql:// or mysql://")  # fmt: skip
    if scheme == "sqlite":
        db = uri.removeprefix("sqlite:///")
        if db in ("", ":memory:"):
            return uri
        path = Path(db)
        if path.exists():
            if path.is_dir() or (path.stat().st_size and _head(path, 16) != SQLITE_MAGIC):
                raise DataError(f"{flag}={uri!r}: {path} is not an SQLite database")
        elif must_exist:
            raise DataError(f"no MLflow store at {path}; nothing is registered yet (`cointrader demo` creates it)")
        else:
            creatable_file(flag, path)
    return uri


def parquet_frame(flag: str, path: Path) -> pd.DataFrame:
    """Read a parquet file or refuse it in one line."""
    existing_file(flag, path)
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several unrelated types for unreadable files
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{path}: not a readable parquet file ({first})") from None


def market_file(flag: str, path: Path, *, now: pd.Timestamp | None = None) -> AdmittedCandles:
    """A combined 15m parquet file through the data gate (`market.quality.admit_candles`)."""
    return admit_candles(parquet_frame(flag, path), source=str(path), now=now)
