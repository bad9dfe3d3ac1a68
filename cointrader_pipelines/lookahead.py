"""Look-ahead analysis in the spirit of freqtrade's lookahead-analysis: recompute signals and features on history
truncated at a cut candle and compare that candle's values with the full-history ones. Any difference means a
value at t used data after t. Pure; used by the `no_lookahead` asset check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from trader_runtime.config import StrategyParams
from trader_runtime.strategy.pipeline import PreparedMarket, prepare_market

#: cuts never fall inside the z-score warm-up, where both sides are NaN anyway
MIN_HISTORY = 400


@dataclass(frozen=True)
class LookaheadReport:
    cuts: list[pd.Timestamp]
    signal_mismatches: list[pd.Timestamp] = field(default_factory=list)
    feature_mismatches: dict[str, list[str]] = field(default_factory=dict)  # column -> cut times
    max_abs_diff: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.signal_mismatches and not self.feature_mismatches


def cut_positions(n: int, n_cuts: int) -> list[int]:
    """`n_cuts` positions spread over [MIN_HISTORY, n − 1], the last candle included."""
    if n <= MIN_HISTORY:
        return [n - 1] if n else []
    return sorted({int(p) for p in np.linspace(MIN_HISTORY, n - 1, n_cuts)})


def lookahead_report(combined: pd.DataFrame, symbol: str, params: StrategyParams, n_cuts: int = 4,
                     tolerance: float = 1e-9,
                     prepare: Callable[[pd.DataFrame, str], PreparedMarket] = prepare_market) -> LookaheadReport:
    """Compare each cut candle's signal and 30 features on truncated vs full history (`prepare` is the
    strategy under analysis: the platform's one implementation by default)."""
    full = prepare(combined, symbol)
    full_sig = full.signals(params).signal
    full_feat = full.features(params)
    cuts = cut_positions(len(full), n_cuts)
    sig_bad: list[pd.Timestamp] = []
    feat_bad: dict[str, list[str]] = {}
    worst = 0.0
    for pos in cuts:
        part = prepare(combined.iloc[: pos + 1], symbol)
        ts = full.index[pos]
        if part.signals(params).signal[-1] != full_sig[pos]:
            sig_bad.append(ts)
        a = part.features(params, start=pos).iloc[-1]
        b = full_feat.iloc[pos]
        both_nan = a.isna() & b.isna()
        diff = (a - b).abs().where(~both_nan, 0.0).fillna(np.inf)
        worst = max(worst, float(diff.max()))
        for col in diff.index[diff > tolerance]:
            feat_bad.setdefault(str(col), []).append(ts.isoformat())
    return LookaheadReport([full.index[p] for p in cuts], sig_bad, feat_bad, worst)
