"""Small synthetic markets shared by the market tests."""

from __future__ import annotations

import pandas as pd
import pytest

from trader_runtime.market.synthetic import SyntheticMarket, generate_market


@pytest.fixture(scope="module")
def small_market() -> SyntheticMarket:
    return generate_market("XRPUSDT", days=5, seed=11)


@pytest.fixture()
def clean_frame(small_market: SyntheticMarket) -> pd.DataFrame:
    return small_market.combined.copy()
