"""The MTF pullback behind the strategy interface (`strategy.base.Strategy`)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from trader_runtime.strategy.base import PositionOpen, Strategy
from trader_runtime.strategy.mtf_pullback.backtest import first_candle, run_kernel, window_bounds
from trader_runtime.strategy.mtf_pullback.live import LIVE_MIN_CANDLES, MTFLiveEngine
from trader_runtime.strategy.mtf_pullback.market import MTFMarket, prepare_mtf
from trader_runtime.strategy.mtf_pullback.params import PARAM_RANGES, SWEEP_GRID, MTFParams, MTFRules


class MTFPullbackStrategy(Strategy):
    name = "mtf-pullback"
    title = "MTF pullback"
    timeframes = ("15m", "1h")
    params_type = MTFParams
    env_prefix = "MTF_"
    feature_columns = None  # no ML filter: the model was trained on the weighted strategy's signal rows

    def __init__(self, rules: MTFRules | None = None) -> None:
        self.rules = rules or MTFRules()

    def param_ranges(self) -> dict[str, tuple[float, float, float]]:
        return dict(PARAM_RANGES)

    def sweep_grid(self) -> dict[str, tuple[Any, ...]]:
        return dict(SWEEP_GRID)

    def exit_multiples(self, params: MTFParams) -> tuple[float, float]:
        return params.sl_mult, params.tp_mult

    def warmup_candles(self, params: MTFParams) -> int:
        return LIVE_MIN_CANDLES

    def live_history_candles(self, params: MTFParams) -> int:
        return LIVE_MIN_CANDLES

    def prepare(self, frame: pd.DataFrame, symbol: str) -> MTFMarket:
        return prepare_mtf(frame, symbol)

    def indicator_frame(self, prepared: MTFMarket, params: MTFParams) -> pd.DataFrame:
        return prepared.indicator_frame(params).drop(columns=["close", "volume", "hours_seen", "meta"])

    def decisions(self, prepared: MTFMarket, params: MTFParams) -> pd.Series:
        lo, hi = window_bounds(prepared, None, None)
        first, trade_from = first_candle(prepared, self.rules, lo)
        _, _, _, dec = run_kernel(prepared, params, self.rules, first, min(trade_from, hi), hi)
        return pd.Series(dec, index=prepared.index, name="decision").iloc[min(trade_from, hi) :]

    def exit_atr(self, prepared: MTFMarket, params: MTFParams) -> pd.Series:
        return pd.Series(prepared.attached(params)["atr"], index=prepared.index, name="atr_1h")

    def live_engine(self, symbol: str, params: MTFParams, *, position_open: PositionOpen) -> MTFLiveEngine:
        return MTFLiveEngine(symbol, params, self.rules, position_open=position_open)
