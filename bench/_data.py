"""Benchmark input: the real XRP year beside the repository, else a synthetic year (printed which)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

REAL = Path(
    os.environ.get("COINTRADER_REFERENCE_DATA")
    or Path(__file__).resolve().parents[1].parent / "shared" / "data" / "binance-um-15m"
)


def load_year(symbol: str = "XRPUSDT") -> tuple[pd.DataFrame, str]:
    path = REAL / f"{symbol.lower()}_combined_15m.parquet"
    if path.exists():
        return pd.read_parquet(path), f"real {symbol} ({path.name})"
    from trader_runtime.market.synthetic import generate_market

    return generate_market(symbol, days=365, seed=7).combined, f"synthetic {symbol} (365 days, seed 7)"
