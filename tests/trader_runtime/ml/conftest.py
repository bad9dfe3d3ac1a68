"""Small synthetic market and dataset shared by the ML tests (90 days ≈ 2,500 dataset rows)."""

from __future__ import annotations

import pandas as pd
import pytest

from trader_runtime.market.synthetic import generate_market
from trader_runtime.ml.training import fit_full
from trader_runtime.strategy.dataset import DatasetParams, build_dataset
from trader_runtime.strategy.pipeline import PreparedMarket, prepare_market

#: small and single-threaded so every test file stays in seconds
SMALL_PARAMS = {"n_estimators": 30, "num_threads": 1}


@pytest.fixture(scope="session")
def synthetic_market() -> PreparedMarket:
    return prepare_market(generate_market("XRPUSDT", days=90, seed=7).combined, "XRPUSDT")


@pytest.fixture(scope="session")
def dataset(synthetic_market) -> pd.DataFrame:
    return build_dataset(synthetic_market, DatasetParams())


@pytest.fixture(scope="session")
def small_params() -> dict:
    return dict(SMALL_PARAMS)


@pytest.fixture(scope="session")
def fitted_model(dataset, small_params):
    return fit_full(dataset, small_params)
