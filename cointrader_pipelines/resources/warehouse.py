"""`WarehouseResource`: the DuckDB market warehouse file (one writer at a time: pool `duckdb_warehouse`) and, in the
distributed profile, the Parquet snapshots its writers publish for readers on any host (`storage/snapshots.py`)."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from trader_runtime.storage.snapshots import CANDLES, LS_RATIO, SnapshotReader, publish
from trader_runtime.storage.warehouse import Warehouse

#: the concurrency pool of every asset that opens the warehouse (instance limit 1, dagster.yaml)
WAREHOUSE_POOL = "duckdb_warehouse"
__all__ = ["CANDLES", "LS_RATIO", "WAREHOUSE_POOL", "WarehouseResource"]


class WarehouseResource(dg.ConfigurableResource):
    path: str = Field(default="warehouse/market.duckdb", description="DuckDB file (created on first write)")
    snapshot_dir: str = Field(default="", description="folder of published Parquet snapshots ('' = none)")

    def open(self) -> Warehouse:
        return Warehouse(self.path)

    def reader(self) -> Warehouse | SnapshotReader:
        """Where read-only steps read: the snapshots when published, else the DuckDB file itself."""
        return SnapshotReader(self.snapshot_dir) if self.snapshot_dir else self.open()

    def publish(self, table: str, symbols: list[str]) -> None:
        """After a write: publish the new content of `table` for `symbols` (no-op without a snapshot folder)."""
        if self.snapshot_dir:
            publish(self.open(), self.snapshot_dir, table, symbols)
