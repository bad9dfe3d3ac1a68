"""Indicators computed once per data set and reused by every backtest, sweep point and dataset build."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from trader_runtime.config import StrategyParams
from trader_runtime.domain.schema import validate_combined_frame
from trader_runtime.strategy.features import compute_features, side_feature
from trader_runtime.strategy.indicators import INDICATOR_COLUMNS, compute_indicators
from trader_runtime.strategy.signals import SignalResult, score_sides, signals_from_scores


@dataclass
class PreparedMarket:
    """A validated combined frame joined with its indicators, plus cached scores and signals."""

    symbol: str
    frame: pd.DataFrame  # combined schema + indicator columns
    long_score: np.ndarray
    short_score: np.ndarray
    _signals: dict[tuple[int, float, float], SignalResult] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def index(self) -> pd.DatetimeIndex:
        return self.frame.index  # type: ignore[return-value]

    def signals(self, params: StrategyParams) -> SignalResult:
        key = (params.signal_threshold, float(params.adx_threshold), float(params.volume_multiplier))
        if key not in self._signals:
            self._signals[key] = signals_from_scores(
                self.long_score,
                self.short_score,
                self.frame["volume"].to_numpy(),
                self.frame["vol_ma20"].to_numpy(),
                self.frame["adx"].to_numpy(),
                params,
            )
        return self._signals[key]

    def features(self, params: StrategyParams, start: int = 0) -> pd.DataFrame:
        """Feature rows with `side`/`signal_strength` taken from the signals under `params`."""
        sig = self.signals(params)
        return compute_features(self.frame, side_feature(sig.signal), sig.strength, start=start)

    def slice(self, start: pd.Timestamp | None = None, end: pd.Timestamp | None = None) -> "PreparedMarket":
        """Rows in [start, end] recomputed from scratch (used only where history must restart, e.g. legacy folds)."""
        df = self.frame.loc[start:end]
        raw_cols = [c for c in df.columns if c not in INDICATOR_COLUMNS]
        return prepare_market(df[raw_cols], self.symbol)


def prepare_market(df: pd.DataFrame, symbol: str = "XRPUSDT") -> PreparedMarket:
    """Validate the combined table and compute indicators and side scores once."""
    base = validate_combined_frame(df, source=symbol)
    ind = compute_indicators(base)
    frame = base.join(ind)
    long_score, short_score = score_sides(frame)
    return PreparedMarket(symbol=symbol, frame=frame, long_score=long_score, short_score=short_score)

