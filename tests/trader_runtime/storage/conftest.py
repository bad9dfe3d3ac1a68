"""A real DuckDB file per test and a small synthetic candle frame."""

from __future__ import annotations

import pandas as pd
import pytest

from trader_runtime.market.synthetic import generate_market
from trader_runtime.storage.warehouse import Warehouse

@pytest.fixture()
def warehouse(tmp_path) -> Warehouse:
    return Warehouse(tmp_path / "wh" / "market.duckdb")


@pytest.fixture(scope="module")
def market():
    return generate_market("XRPUSDT", days=2, seed=3)


@pytest.fixture()
def candles(market) -> pd.DataFrame:
    return market.combined.copy()
