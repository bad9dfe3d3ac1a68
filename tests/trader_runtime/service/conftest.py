"""Synthetic market shared by the service tests, and a local webhook that records notifications."""

from __future__ import annotations

import pandas as pd
import pytest

from fixtures.trader_webhook import WebhookServer
from trader_runtime.market.synthetic import generate_market
from trader_runtime.strategy.pipeline import PreparedMarket, prepare_market


@pytest.fixture(scope="package")
def synth() -> pd.DataFrame:
    return generate_market("XRPUSDT", 40, seed=11).combined


@pytest.fixture(scope="package")
def market(synth: pd.DataFrame) -> PreparedMarket:
    return prepare_market(synth, "XRPUSDT")


@pytest.fixture()
def webhook():
    server = WebhookServer().start()
    yield server
    server.stop()
