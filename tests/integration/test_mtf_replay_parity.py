"""The trader in replay mode with STRATEGY=mtf-pullback makes exactly the MTF backtest's trades.

Same decision candles, sides, exit candles and reasons; prices equal to 1e-9 relative. The backtest runs with the
trader's execution rules (entry at the decision candle's close with the fill model's slippage, SL/TP from that
fill, gaps filled at the open, END_OF_DATA at the last close); its decision state runs over the history as flat,
as the trader's start-up does. The unit-size backtest has no account, so the replay runs at 1x leverage, where
no loss reaches the daily limit. Real XRP data around the research result's first trades (TP, SL and the end).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from fixtures.trader import journal_trades, run_replay
from tests.conftest import missing_reference_data, real_data_path
from trader_runtime.backtest.fills import FillModel
from trader_runtime.domain.schema import validate_combined_frame
from trader_runtime.storage.journal import JournalReader
from trader_runtime.strategy.mtf_pullback import MTFParams, MTFRules, prepare_mtf
from trader_runtime.strategy.mtf_pullback.backtest import first_candle, run_kernel, trades_frame
from trader_runtime.strategy.mtf_pullback.live import LIVE_MIN_CANDLES


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    path = real_data_path("XRPUSDT")
    if not path.exists():
        missing_reference_data(path)
    df = validate_combined_frame(pd.read_parquet(path))
    start = int(df.index.searchsorted(pd.Timestamp("2026-01-31", tz="UTC")))
    return df.iloc[start - LIVE_MIN_CANDLES : start + 8 * 96]


def test_replay_trades_equal_the_backtest(tmp_path: Path, frame: pd.DataFrame):
    params = MTFParams()
    fills = FillModel()
    rules = MTFRules(entry_price="close", slippage_rate=fills.slippage_rate)
    market = prepare_mtf(frame, "XRPUSDT")
    first, trade_from = first_candle(market, rules, LIVE_MIN_CANDLES)
    ti, tf, _, _ = run_kernel(market, params, rules, first, trade_from, len(market))
    expected = trades_frame(market, ti, tf, rules.fee_rate)
    assert len(expected) >= 4 and {"TP", "SL", "END_OF_DATA"} <= set(expected["close_reason"])

    journal = tmp_path / "mtf.sqlite"
    # 1x leverage keeps every loss under the daily limit: account gates are not part of the strategy's decisions
    run_replay(journal, frame, params, env={"STRATEGY": "mtf-pullback", "LEVERAGE": 1}, fill_model=fills)
    got = journal_trades(journal)
    assert len(got) == len(expected)
    for n, (r, b) in enumerate(zip(got.itertuples(), expected.itertuples())):
        assert (r.entry_candle_time, r.side, r.exit_candle_time, r.close_reason) == (
            b.signal_time, b.side, b.exit_time, b.close_reason,
        ), n
        for name, x, y in (("entry", r.entry_price, b.entry_price), ("exit", r.exit_price, b.exit_price),
                           ("sl", r.sl, b.sl), ("tp", r.tp, b.tp)):  # fmt: skip
            assert x == pytest.approx(y, rel=1e-9), (n, name)
    with JournalReader(journal) as reader:
        decisions = reader.decisions()
        status = reader.status()
    assert "XRPUSDT=mtf-pullback" in status[""]["strategies"]
    assert (decisions["action"] == "ENTRY").sum() == len(expected)
    assert decisions["action"].iloc[0] != "WARMUP"  # the replay's history covered the 1,000 closed hours


def test_replay_at_10x_equals_the_account_backtest(tmp_path: Path, frame: pd.DataFrame):
    """With the account's limits in play (the daily-loss limit refuses an entry here), the trader and the account
    backtest of the MTF strategy still make the same trades: same candles, prices, quantities and net PnL."""
    from fixtures.trader import same_trades
    from trader_runtime.backtest.engine import Window
    from trader_runtime.config import BacktestConfig
    from trader_runtime.strategy.mtf_pullback.account import run_mtf_account

    params = MTFParams()
    idx = frame.index
    cfg = BacktestConfig(symbol="XRPUSDT")  # funding included: the replay venue books the same settlements
    run = run_mtf_account({"XRPUSDT": frame}, cfg, params,
                          window=Window(idx[LIVE_MIN_CANDLES], idx[-1] + pd.Timedelta(minutes=15)))  # fmt: skip
    trades = run.result.trades
    assert run.result.halts[0]["daily_limit_days"] >= 1 and len(trades) >= 4
    expected = pd.DataFrame({
        "entry_time": trades["entry_time"], "exit_time": trades["exit_time"], "side": trades["side"],
        "close_reason": trades["close_reason"], "entry_price": trades["entry_price"], "exit_price": trades["exit_price"],
        "quantity": trades["quantity"], "sl": trades["sl"], "tp": trades["tp"], "net_pnl": trades["net_pnl"],
    }).sort_values("entry_time").reset_index(drop=True)  # fmt: skip
    journal = tmp_path / "mtf10.sqlite"
    run_replay(journal, frame, params, env={"STRATEGY": "mtf-pullback"})
    got = journal_trades(journal)
    problems = same_trades(got, expected, rtol=1e-6)  # the account's trade frame rounds money to 6 dp
    assert problems == [], "\n".join(problems)
