"""Backtest/live parity: the trading service in replay mode makes exactly the backtester's trades on real XRP data.

Same entry and exit candles, sides and close reasons; prices, quantities and net PnL equal to 1e-9 relative (the
replay fills through `backtest.fills` and the bot sizes and places exits with `strategy.decision`, so the only
difference left is the incremental indicator path, D11, which matches batch to ~1e-12).

The full year with the production parameters replays about 35,000 candles (some 15 CPU-seconds with the streaming
engine and the batched per-candle journal rows); the sixteen-day variant uses the relaxed training thresholds,
which trade often enough (~40 trades: SL, TP, reverse with re-entry, end of data) to exercise every path.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from fixtures.trader import RELAXED, WARMUP, backtest_trades, journal_trades, run_replay, same_trades
from trader_runtime.config import PRODUCTION_PARAMS, StrategyParams
from trader_runtime.domain.schema import validate_combined_frame
from trader_runtime.strategy.pipeline import prepare_market


def _check(tmp_path: Path, frame: pd.DataFrame, params: StrategyParams) -> pd.DataFrame:
    market = prepare_market(frame, "XRPUSDT")
    expected = backtest_trades(market, params, WARMUP, len(market))
    path = tmp_path / "parity.sqlite"
    app = run_replay(path, frame, params)
    got = journal_trades(path)
    problems = same_trades(got, expected)
    assert problems == [], "\n".join(problems[:20])
    # funding is booked by the replay venue at the same settlements and amounts as in the backtest (D20)
    assert expected["funding"].abs().sum() > 0
    wallet = app.exchange.venue.wallet  # type: ignore[union-attr]
    assert wallet == pytest.approx(1000.0 + expected["net_pnl"].sum() + expected["funding"].sum(), abs=1e-6)
    return got


def test_sixteen_days_of_real_xrp_trade_for_trade(tmp_path: Path, xrp_real: pd.DataFrame):
    frame = validate_combined_frame(xrp_real).iloc[20_000 : 20_000 + WARMUP + 16 * 96]
    got = _check(tmp_path, frame, RELAXED)
    assert len(got) >= 20 and {"SL", "TP", "REVERSE"} <= set(got["close_reason"])


def test_the_real_xrp_year_with_production_parameters(tmp_path: Path, xrp_real: pd.DataFrame):
    got = _check(tmp_path, validate_combined_frame(xrp_real), PRODUCTION_PARAMS)
    assert len(got) > 0
