"""The weighted-signal strategy (spec 10 §3) behind the strategy interface: a thin adapter over the existing
indicator, signal and incremental modules (which stay the single implementation)."""

from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from trader_runtime.config import _PARAM_ENV, StrategyParams, resolve_strategy_params
from trader_runtime.strategy.base import PositionOpen, Strategy
from trader_runtime.strategy.features import FEATURE_COLUMNS, MIN_LIVE_CANDLES
from trader_runtime.strategy.indicators import INDICATOR_COLUMNS, INDICATOR_WARMUP
from trader_runtime.strategy.pipeline import PreparedMarket, prepare_market

#: sweep grid of spec 20 §5.1 (kept here so the core does not import the backtest package)
WEIGHTED_GRID: dict[str, tuple[float | int, ...]] = {
    "atr_sl_mult": (1.0, 1.5, 2.0),
    "atr_tp_mult": (2.0, 3.0, 4.0),
    "signal_threshold": (3, 4, 5),
    "adx_threshold": (0.0, 20.0, 25.0, 30.0),
    "volume_multiplier": (1.5, 2.0, 2.5),
}


class WeightedSignalStrategy(Strategy):
    name = "weighted-signal"
    title = "weighted signal"
    timeframes = ("15m",)
    params_type = StrategyParams
    env_prefix = ""
    feature_columns = FEATURE_COLUMNS

    def param_ranges(self) -> dict[str, tuple[float, float, float]]:
        return {
            "atr_sl_mult": (0.5, 4.0, 0.25),
            "atr_tp_mult": (1.0, 6.0, 0.25),
            "signal_threshold": (1, 6, 1),
            "adx_threshold": (0.0, 40.0, 1.0),
            "volume_multiplier": (1.0, 4.0, 0.1),
        }

    def sweep_grid(self) -> dict[str, tuple[Any, ...]]:
        return dict(WEIGHTED_GRID)

    def param_variables(self, symbol: str) -> tuple[str, ...]:
        return tuple(f"{var}_{symbol}" for var, _kind in _PARAM_ENV.values())

    def resolve_params(self, symbol: str, env: Mapping[str, str]) -> StrategyParams:
        return resolve_strategy_params(symbol, env)

    def exit_multiples(self, params: StrategyParams) -> tuple[float, float]:
        return params.atr_sl_mult, params.atr_tp_mult

    def warmup_candles(self, params: StrategyParams) -> int:
        return INDICATOR_WARMUP

    def live_history_candles(self, params: StrategyParams) -> int:
        return MIN_LIVE_CANDLES

    def prepare(self, frame: pd.DataFrame, symbol: str) -> PreparedMarket:
        return prepare_market(frame, symbol)

    def indicator_frame(self, prepared: PreparedMarket, params: StrategyParams) -> pd.DataFrame:
        return prepared.frame[list(INDICATOR_COLUMNS)].copy()

    def decisions(self, prepared: PreparedMarket, params: StrategyParams) -> pd.Series:
        sig = prepared.signals(params).signal
        s = pd.Series(sig.astype("int8"), index=prepared.index, name="decision")
        return s.iloc[min(self.warmup_candles(params), len(s)) :]

    def exit_atr(self, prepared: PreparedMarket, params: StrategyParams) -> pd.Series:
        return prepared.frame["atr"]

    def live_engine(self, symbol: str, params: StrategyParams, *, position_open: PositionOpen) -> Any:
        from trader_runtime.strategy.incremental import IncrementalFeatureEngine

        return IncrementalFeatureEngine(symbol, params, min_candles=MIN_LIVE_CANDLES)
