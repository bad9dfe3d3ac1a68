"""Where a stored market-data row came from. Every warehouse row carries one of these and an import batch id.

Why: synthetic rows once sat silently among real candles and counted as coverage; with a source per row the
warehouse can refuse to mix them and `data quality` can say what the coverage is made of.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

import pandas as pd


class DataSource(StrEnum):
    BULK = "bulk"  # Binance's public archive (zipped CSVs, checksum-verified)
    REST = "rest"  # Binance REST market-data endpoints
    PARQUET = "parquet"  # a Parquet file imported with `cointrader data import` or the parquet market source
    SYNTHETIC = "synthetic"  # the seeded synthetic market


#: label of rows written before sources were recorded
UNKNOWN_SOURCE = "unknown"


def new_batch_id(source: DataSource | str, now: pd.Timestamp | None = None) -> str:
    """`<source>-<UTC yyyymmddThhmmss>-<8 hex>`: sortable by time, unique per import."""
    stamp = (now or pd.Timestamp.now(tz="UTC")).strftime("%Y%m%dT%H%M%S")
    return f"{DataSource(source).value}-{stamp}-{uuid.uuid4().hex[:8]}"
