"""`WarehouseResource`: the DuckDB market warehouse file (one writer at a time: pool `duckdb_warehouse`)."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from trader_runtime.storage.warehouse import Warehouse

#: the concurrency pool of every asset that opens the warehouse (instance limit 1, dagster.yaml)
WAREHOUSE_POOL = "duckdb_warehouse"


class WarehouseResource(dg.ConfigurableResource):
    path: str = Field(default="warehouse/market.duckdb", description="DuckDB file (created on first write)")

    def open(self) -> Warehouse:
        return Warehouse(self.path)
