from __future__ import annotations

import pytest

from trader_runtime.strategy.pipeline import PreparedMarket, prepare_market


@pytest.fixture(scope="session")
def xrp_market(xrp_real) -> PreparedMarket:
    return prepare_market(xrp_real, "XRPUSDT")
