"""A small seeded synthetic market shared by the engine, walk-forward, sweep and CLI tests."""

from __future__ import annotations

import pandas as pd
import pytest

from trader_runtime.market.synthetic import generate_market
from trader_runtime.strategy.pipeline import PreparedMarket, prepare_market


@pytest.fixture(scope="session")
def synthetic_frame() -> pd.DataFrame:
    """200 days (2025-06-15 → 2025-12-31): three walk-forward folds of 3/1 months."""
    return generate_market("XRPUSDT", 200, 7).combined


@pytest.fixture(scope="session")
def synthetic_market(synthetic_frame) -> PreparedMarket:
    return prepare_market(synthetic_frame, "XRPUSDT")
