"""Candles for the fault scenarios: the seeded synthetic market, and where the strategy fires on it.

Scenarios start the fake exchange a candle or two before a signal, so each one trades within seconds. Signals are
located with the strategy core itself (`prepare_market(...).signals`), never re-derived here; the live engine
reproduces the batch signal once it holds 1,000 candles (D11).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from trader_runtime.config import StrategyParams
from trader_runtime.market.synthetic import generate_market
from trader_runtime.strategy.features import MIN_LIVE_CANDLES
from trader_runtime.strategy.pipeline import prepare_market

#: relaxed gates and tight exits: many entries, SL/TP hit within a few candles (fault scenarios need trades)
FAST_PARAMS = StrategyParams(atr_sl_mult=1.0, atr_tp_mult=1.0, signal_threshold=2, adx_threshold=15.0, volume_multiplier=1.5)
SEED = 11


@lru_cache(maxsize=8)
def synthetic_frame(symbol: str = "XRPUSDT", days: int = 24, seed: int = SEED) -> pd.DataFrame:
    """Combined-15m frame (BTC/ETH columns, OI change, funding) of `days` days; cached per session."""
    return generate_market(symbol, days, seed).combined


@lru_cache(maxsize=16)
def _signals(symbol: str, days: int, seed: int, params: StrategyParams) -> np.ndarray:
    return prepare_market(synthetic_frame(symbol, days, seed), symbol).signals(params).signal


def signal_indices(symbol: str = "XRPUSDT", days: int = 24, seed: int = SEED, params: StrategyParams = FAST_PARAMS,
                   *, side: int | None = None, after: int = MIN_LIVE_CANDLES) -> list[int]:  # fmt: skip
    """Candle indices (>= `after`) whose close gives a LONG/SHORT signal (`side` 1 or -1 to pick one)."""
    sig = _signals(symbol, days, seed, params)
    idx = np.flatnonzero(sig != 0) if side is None else np.flatnonzero(sig == side)
    return [int(i) for i in idx if i >= after]


def history_for(signal_index: int, lead: int = 1) -> int:
    """The fake's `history_candles` so that the `lead`-th advance closes candle `signal_index`."""
    history = signal_index - lead + 1
    if history < MIN_LIVE_CANDLES:
        raise ValueError(f"signal at {signal_index} with lead {lead} leaves {history} < {MIN_LIVE_CANDLES} history candles")
    return history


def first_trade_window(params: StrategyParams, reason: str, *, reentered: bool = False, symbol: str = "XRPUSDT",
                       days: int = 24, seed: int = SEED) -> tuple[int, int]:  # fmt: skip
    """(entry candle, exit candle) of the backtest's first trade closed by `reason` — starting the service flat
    one candle before the entry reproduces it (the live path and the kernel share the decision rules). With
    `reentered`, only a trade whose exit candle opens the next trade (a reverse that re-entered)."""
    from fixtures.trader import backtest_trades  # the shared backtest builder (tests/fixtures)

    frame = synthetic_frame(symbol, days, seed)
    trades = backtest_trades(prepare_market(frame, symbol), params, MIN_LIVE_CANDLES, len(frame))
    entries = set(trades["entry_time"])
    for t in trades.itertuples():
        if t.close_reason == reason and (not reentered or t.exit_time in entries):
            return int(frame.index.get_loc(t.entry_time)), int(frame.index.get_loc(t.exit_time))
    raise AssertionError(f"no {reason} trade in the {days}-day synthetic {symbol} market with {params}")


def reverse_window(params: StrategyParams, **kw: object) -> tuple[int, int]:
    return first_trade_window(params, "REVERSE", reentered=True, **kw)  # type: ignore[arg-type]


def batch_signals(params: StrategyParams, symbol: str = "XRPUSDT", days: int = 24, seed: int = SEED) -> pd.DataFrame:
    """Signal and scores of every candle computed in one batch, indexed by open time in ms: what the live
    decision of that candle must show when its buffer holds every candle before it (D11, DEF-09)."""
    frame = synthetic_frame(symbol, days, seed)
    sig = prepare_market(frame, symbol).signals(params)
    index = frame.index.as_unit("ms").asi8
    return pd.DataFrame({"signal": sig.signal, "long_score": sig.long_score, "short_score": sig.short_score}, index=index)
