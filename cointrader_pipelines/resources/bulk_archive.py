"""`BulkArchiveResource`: where the `bulk_history` asset reads Binance's public archive (a mirror folder or URL)."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from trader_runtime.errors import ConfigError
from trader_runtime.market.bulk.store import ArchiveStore, open_store


class BulkArchiveResource(dg.ConfigurableResource):
    source: str = Field(default="", description="archive mirror folder or base URL (COINTRADER_BULK_SOURCE)")

    def open(self) -> ArchiveStore:
        if not self.source:
            raise ConfigError("set COINTRADER_BULK_SOURCE to a mirror folder or the archive's base URL")
        return open_store(self.source)
