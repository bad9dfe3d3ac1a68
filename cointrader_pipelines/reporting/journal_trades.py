"""The weekly report's `live_trades` source: closed trades of the runtime journal, read-only, validated.

Why: the journal belongs to the trading service (SQLite, WAL); `trader_runtime.storage.journal.read_live_trades`
opens it with a `file:…?mode=ro` URI, so the report can never write, create or lock it for writing. This module
only checks and canonicalises what comes back (and frames handed in by tests or other sources), and turns an
unreadable file into a DataError so the report can say why its live section is missing.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from pandas.errors import DatabaseError

from trader_runtime.errors import DataError
from trader_runtime.storage.journal import read_live_trades

REQUIRED_COLUMNS = (
    "symbol",
    "side",
    "entry_time",
    "exit_time",
    "gross_pnl",
    "entry_fee",
    "exit_fee",
    "net_pnl",
    "close_reason",
)
MONEY_COLUMNS = ("gross_pnl", "entry_fee", "exit_fee", "net_pnl")
#: kept when present: the trader mode that produced the trade (replay/paper = simulated, demo/live = exchange)
OPTIONAL_COLUMNS = ("mode",)


def empty_live_trades() -> pd.DataFrame:
    """A frame with the live-trade columns and no rows (UTC timestamps, float money)."""
    frame = pd.DataFrame({c: pd.Series(dtype="object") for c in REQUIRED_COLUMNS})
    for col in ("entry_time", "exit_time"):
        frame[col] = pd.DatetimeIndex([], tz="UTC")
    for col in MONEY_COLUMNS:
        frame[col] = frame[col].astype("float64")
    return frame


def _parse_times(values: pd.Series, column: str, source: str) -> pd.Series:
    if pd.api.types.is_numeric_dtype(values):
        return pd.to_datetime(values.astype("int64"), unit="ms", utc=True)
    try:
        return pd.to_datetime(values, utc=True, format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise DataError(f"{source}: column {column!r} holds values that are not ISO-8601 times: {exc}") from None


def normalize_live_trades(frame: pd.DataFrame, source: str = "live trades") -> pd.DataFrame:
    """Validate and canonicalise closed trades: UTC times, float money, sorted by exit time (stable)."""
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"{source}: missing column(s) {missing}; expected {list(REQUIRED_COLUMNS)}")
    columns = list(REQUIRED_COLUMNS) + [c for c in OPTIONAL_COLUMNS if c in frame.columns]
    out = frame.loc[frame["exit_time"].notna(), columns].copy()
    if out.empty:
        return empty_live_trades()
    for col in ("entry_time", "exit_time"):
        out[col] = _parse_times(out[col], col, source)
    for col in MONEY_COLUMNS:
        converted = pd.to_numeric(out[col], errors="coerce")
        if converted.isna().any():
            raise DataError(f"{source}: column {col!r} has {int(converted.isna().sum())} non-numeric or NULL values")
        out[col] = converted.astype("float64")
    out["symbol"] = out["symbol"].astype(str).str.upper()
    out["side"] = out["side"].astype(str).str.upper()
    out["close_reason"] = out["close_reason"].astype(str)
    return out.sort_values("exit_time", kind="stable").reset_index(drop=True)


def read_closed_trades(journal_path: Path | str) -> pd.DataFrame:
    """All closed trades of the journal, oldest exit first. Missing, unreadable or malformed journal → DataError."""
    path = Path(journal_path)
    try:
        frame = read_live_trades(path)
    except (DatabaseError, KeyError) as exc:
        raise DataError(f"cannot read closed trades from runtime journal {path}: {exc}") from exc
    return normalize_live_trades(frame, source=f"runtime journal {path}")


def read_journal_strategies(journal_path: Path | str) -> dict[str, str]:
    """{symbol: strategy} the journal's trader last ran (its status record); empty when the journal holds none
    or cannot be read (the live section then shows no strategy, the trades themselves still count)."""
    from trader_runtime.storage.journal import JournalReader

    path = Path(journal_path)
    if not path.is_file():
        return {}
    try:
        with JournalReader(path) as reader:
            raw = str(reader.status().get("", {}).get("strategies") or "")
    except (DatabaseError, OSError, DataError):
        return {}
    return dict(kv.split("=", 1) for kv in raw.split(",") if "=" in kv)
