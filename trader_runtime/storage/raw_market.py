"""Raw archive series in the warehouse: funding settlements and 5-minute metrics (open interest, L/S ratios).

Why keep them raw: the values of the combined table (oi_change, funding_rate) are derived from them with the
no-look-ahead rules of `market/bulk/align.py`, and a month's first candle needs the previous month's last
settlement or the previous day's last observation — reading those from here makes every import resumable and
lets features use the 5-minute values later. A re-import of a file overwrites its rows (a replaced archive file
wins). Mixed into `Warehouse`; the SQL runs on its connection (duckdb is imported only there).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa

from trader_runtime.domain.provenance import DataSource
from trader_runtime.market.symbols import normalize_symbol
from trader_runtime.storage.upsert import insert_or_upsert

METRIC_COLUMNS = ("sum_open_interest", "sum_open_interest_value", "top_acct_ls_ratio", "top_pos_ls_ratio",
                  "global_ls_ratio", "taker_ls_vol_ratio")

RAW_SCHEMA = "\n".join([
    "CREATE TABLE IF NOT EXISTS funding_settlements (",
    "  symbol VARCHAR NOT NULL, calc_time TIMESTAMPTZ NOT NULL, interval_hours INTEGER NOT NULL,",
    "  funding_rate DOUBLE NOT NULL, source VARCHAR, batch_id VARCHAR, PRIMARY KEY (symbol, calc_time));",
    "CREATE TABLE IF NOT EXISTS metrics_5m (",
    "  symbol VARCHAR NOT NULL, obs_time TIMESTAMPTZ NOT NULL,",
    *[f"  {c} DOUBLE," for c in METRIC_COLUMNS],
    "  source VARCHAR, batch_id VARCHAR, PRIMARY KEY (symbol, obs_time));",
])


class RawMarketTables:
    """Methods of `Warehouse` for the raw series (needs `_transaction`, `_query`, `_refuse_mixing`)."""

    RAW_TABLES = ("funding_settlements", "metrics_5m")

    def upsert_funding_settlements(self, symbol: str, frame: pd.DataFrame, *, source: DataSource | str,
                                   batch: str | None) -> int:
        """Rows `calc_time, interval_hours, funding_rate`; a stored settlement is overwritten. Rows written."""
        cols = ["calc_time", "interval_hours", "funding_rate"]
        return self._upsert_raw("funding_settlements", "calc_time", cols, symbol, frame[cols], source, batch)

    def read_funding_settlements(self, symbol: str, start: pd.Timestamp | None = None,
                                 end: pd.Timestamp | None = None) -> pd.DataFrame:
        frame = self._read_raw("funding_settlements", "calc_time", ["interval_hours", "funding_rate"], symbol,
                               start, end)
        frame["interval_hours"] = frame["interval_hours"].astype("int64")
        return frame

    def upsert_metrics(self, symbol: str, frame: pd.DataFrame, *, source: DataSource | str,
                       batch: str | None) -> int:
        """Rows `obs_time` + METRIC_COLUMNS (NaN = blank); a stored observation is overwritten. Rows written."""
        cols = ["obs_time", *METRIC_COLUMNS]
        return self._upsert_raw("metrics_5m", "obs_time", cols, symbol, frame[cols], source, batch)

    def read_metrics(self, symbol: str, start: pd.Timestamp | None = None,
                     end: pd.Timestamp | None = None) -> pd.DataFrame:
        """Observations with obs_time in [start, end), sorted."""
        return self._read_raw("metrics_5m", "obs_time", list(METRIC_COLUMNS), symbol, start, end)

    # ------------------------------------------------------------------------------------------------ helpers

    def _upsert_raw(self, table: str, key: str, cols: list[str], symbol: str, frame: pd.DataFrame,
                    source: DataSource | str, batch: str | None) -> int:
        symbol = normalize_symbol(symbol)
        tag = DataSource(source).value
        if frame.empty:
            return 0
        incoming = pa.Table.from_pandas(frame, preserve_index=False)  # Arrow: cheaper for DuckDB to scan
        names = [*cols, "source", "batch_id"]
        updates = [f"{c} = excluded.{c}" for c in names if c != key]
        with self._transaction() as con:  # type: ignore[attr-defined]
            self._refuse_mixing(con, table, symbol, tag)  # type: ignore[attr-defined]
            insert_or_upsert(con, table, key, symbol, cols, incoming, updates, tag, batch)
        return len(incoming)

    def _read_raw(self, table: str, key: str, cols: list[str], symbol: str, start: Any, end: Any) -> pd.DataFrame:
        symbol = normalize_symbol(symbol)
        where, params = f"symbol = ?", [symbol]
        if start is not None:
            where += f" AND {key} >= ?"
            params.append(pd.Timestamp(start).to_pydatetime())
        if end is not None:
            where += f" AND {key} < ?"
            params.append(pd.Timestamp(end).to_pydatetime())
        raw = self._query(f"SELECT {key}, {', '.join(cols)} FROM {table} WHERE {where} ORDER BY {key}", params)  # type: ignore[attr-defined]
        if raw is None or raw.empty:
            out = pd.DataFrame({c: pd.Series(dtype="float64") for c in cols})
            out.insert(0, key, pd.DatetimeIndex([], tz="UTC").as_unit("ms"))
            return out
        times = pd.DatetimeIndex(raw[key])
        raw[key] = (times.tz_localize("UTC") if times.tz is None else times.tz_convert("UTC")).as_unit("ms")
        return raw
