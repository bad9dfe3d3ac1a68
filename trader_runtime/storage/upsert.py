"""Writing a batch of one symbol's rows into a warehouse table keyed by (symbol, time), tagged with its source.

A plain INSERT when none of the batch's times is stored yet (a first import: much cheaper for DuckDB than an
upsert), else INSERT ... ON CONFLICT with the caller's update rules (or keeping the stored rows). Runs on the caller's connection and
transaction; duckdb itself is imported only by the warehouse.
"""

from __future__ import annotations

from typing import Any, Sequence

import pyarrow as pa


def insert_or_upsert(con: Any, table: str, key: str, symbol: str, columns: Sequence[str], incoming: pa.Table,
                     updates: Sequence[str] | None, tag: str | None, batch: str | None) -> int:  # fmt: skip
    """Write `incoming` (Arrow rows holding `columns`, `key` among them) as `symbol`'s rows of `table`, with
    `source`/`batch_id` set to `tag`/`batch`; a stored time takes `updates`, or stays as it is when `updates` is
    None. Returns how many of the batch's times were stored before."""
    view = f"incoming_{table}"
    con.register(view, incoming)
    try:
        rows = con.execute(f"SELECT count(*) FROM {table} t JOIN {view} i ON t.{key} = i.{key} WHERE t.symbol = ?",
                           [symbol]).fetchall()  # fetch to the end: a half-read result blocks the connection
        stored = int(rows[0][0]) if rows else 0
        action = "DO NOTHING" if updates is None else f"DO UPDATE SET {', '.join(updates)}"
        conflict = f"ON CONFLICT (symbol, {key}) {action}" if stored else ""
        names = ", ".join(columns)
        con.execute(f"INSERT INTO {table} (symbol, {names}, source, batch_id) "
                    f"SELECT ?, {names}, ?::VARCHAR, ?::VARCHAR FROM {view} {conflict}", [symbol, tag, batch])
    finally:
        con.unregister(view)
    return stored
