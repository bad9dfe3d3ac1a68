"""MTF pullback strategy: 1-hour EMA/ADX trend filter, 15-minute pullback on dried-up volume, ATR_1h exits."""

from trader_runtime.strategy.mtf_pullback.backtest import MTFBacktestResult, backtest_market, run_mtf_backtest
from trader_runtime.strategy.mtf_pullback.market import MTFMarket, prepare_mtf
from trader_runtime.strategy.mtf_pullback.params import MTFParams, MTFRules

__all__ = ["MTFBacktestResult", "MTFMarket", "MTFParams", "MTFRules", "backtest_market", "prepare_mtf", "run_mtf_backtest"]
