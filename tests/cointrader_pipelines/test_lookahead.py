"""Look-ahead analysis: the platform's strategy passes; a strategy peeking one candle ahead is caught."""

from __future__ import annotations

import pandas as pd
import pytest

from cointrader_pipelines.lookahead import MIN_HISTORY, cut_positions, lookahead_report
from trader_runtime.config import TRAIN_SIGNAL_PARAMS
from trader_runtime.market.synthetic import generate_market
from trader_runtime.strategy.pipeline import PreparedMarket, prepare_market


@pytest.fixture(scope="module")
def combined() -> pd.DataFrame:
    return generate_market("XRPUSDT", 20, seed=9).combined


def test_cut_positions_cover_the_last_candle():
    cuts = cut_positions(2000, 4)
    assert cuts[0] == MIN_HISTORY and cuts[-1] == 1999 and len(cuts) == 4


def test_the_platform_strategy_has_no_lookahead(combined):
    report = lookahead_report(combined, "XRPUSDT", TRAIN_SIGNAL_PARAMS)
    assert report.passed and report.max_abs_diff == 0.0 and len(report.cuts) == 4


def peeking_prepare(df: pd.DataFrame, symbol: str) -> PreparedMarket:
    """A broken strategy: its RSI is shifted one candle into the future."""
    market = prepare_market(df, symbol)
    market.frame["rsi"] = market.frame["rsi"].shift(-1)
    return market


def test_a_strategy_that_peeks_ahead_is_reported(combined):
    report = lookahead_report(combined, "XRPUSDT", TRAIN_SIGNAL_PARAMS, prepare=peeking_prepare)
    assert not report.passed
    assert "rsi" in report.feature_mismatches
