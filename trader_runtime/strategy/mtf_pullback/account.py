"""The MTF pullback on the platform's account engine (`backtest.portfolio`): balance, leverage, sizing, fees,
slippage, daily-loss limit, kill switch, liquidation — single run, several symbols, walk-forward.

The engine's compiled step takes one precomputed decision per candle, but the MTF decision depends on whether
the symbol holds a position, which the account decides (it may refuse an entry or liquidate). The two are solved
together by iteration: decisions → account run → positions → decisions taken with those positions
(`kernel.decide_with_positions`, the trader's rule: a candle closing in a position moves no state) → … until the
decisions no longer change; the run of that round is then exactly what the trader would do. Each round fixes at
least the first candle where they disagreed; a round costs one account run.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from trader_runtime.config import BacktestConfig, StrategyParams, WalkForwardConfig
from trader_runtime.domain.schema import validate_combined_frame
from trader_runtime.errors import DataError
from trader_runtime.strategy.mtf_pullback import kernel as K
from trader_runtime.strategy.mtf_pullback.backtest import kernel_vectors, warmup_index
from trader_runtime.strategy.mtf_pullback.market import MTFMarket, prepare_mtf
from trader_runtime.strategy.mtf_pullback.params import MTFParams, MTFRules
from trader_runtime.strategy.pipeline import PreparedMarket
from trader_runtime.strategy.signals import SignalResult

MAX_ROUNDS = 500


@dataclass
class MTFAccountView(PreparedMarket):
    """A symbol as the account engine sees it: OHLC (+ funding), `atr` = the hourly ATR the exits multiply, and
    the MTF decisions of the current round as its signals."""

    decisions: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))

    def signals(self, params: StrategyParams) -> SignalResult:
        d = self.decisions
        z = np.zeros(d.shape[0], dtype=np.int8)
        f = np.zeros(d.shape[0], dtype=np.bool_)
        return SignalResult(d, z, z, f, f, f)


def _view(market: MTFMarket, frame: pd.DataFrame, params: MTFParams) -> MTFAccountView:
    base = validate_combined_frame(frame, source=market.symbol)
    base = base.assign(atr=market.attached(params)["atr"])
    zeros = np.zeros(len(base), dtype=np.int8)
    return MTFAccountView(symbol=market.symbol, frame=base, long_score=zeros, short_score=zeros, decisions=zeros.copy())


def _positions(trades: pd.DataFrame, symbol: str, index: pd.DatetimeIndex) -> np.ndarray:
    """Candles whose decision found the symbol in a position (entered before, not yet closed by SL/TP/liquidation)."""
    held = np.zeros(len(index), dtype=np.bool_)
    rows = trades[trades["symbol"] == symbol] if "symbol" in trades.columns else trades
    for e, x, why in zip(rows["entry_time"], rows["exit_time"], rows["close_reason"]):
        a = int(index.searchsorted(e))
        b = int(index.searchsorted(x))
        held[a + 1 : b + (1 if why == "END_OF_DATA" else 0)] = True
    return held


def _decide(market: MTFMarket, params: MTFParams, rules: MTFRules, held: np.ndarray) -> np.ndarray:
    ema_t, vol_sma = market.trigger_columns(params)
    ip, fp = kernel_vectors(params, rules)
    return K.decide_with_positions(market.close, market.volume, ema_t, vol_sma, market.attached(params)["atr"],
                                   market.meta(params), held, warmup_index(market), len(market), ip, fp)  # fmt: skip


def exit_params(params: MTFParams) -> StrategyParams:
    return StrategyParams(atr_sl_mult=params.sl_mult, atr_tp_mult=params.tp_mult)


@dataclass
class MTFAccountRun:
    result: object  # backtest.engine.BacktestResult
    rounds: int
    views: list[MTFAccountView]


MTFParamsBySymbol = MTFParams | Mapping[str, MTFParams]
#: one engine call: (markets in any order, config, exit parameters per symbol) -> BacktestResult
EngineRun = Callable[[list[PreparedMarket], BacktestConfig, dict[str, StrategyParams]], object]


def _mtf_params_of(params: MTFParamsBySymbol, symbol: str) -> MTFParams:
    return params if isinstance(params, MTFParams) else params[symbol]


def solve(frames: Mapping[str, pd.DataFrame], cfg: BacktestConfig, params: MTFParamsBySymbol, run: EngineRun,
          fixed: Mapping[str, PreparedMarket] | None = None,
          fixed_params: Mapping[str, StrategyParams] | None = None) -> MTFAccountRun:  # fmt: skip
    """Iterate decisions and account runs to their fixed point. `frames` are the MTF symbols (one parameter set
    or one per symbol); `fixed` are symbols of the same account whose signals do not depend on the account's
    positions (the weighted-signal strategy), traded with `fixed_params`. Every symbol waits for the MTF
    warm-up, as in the trader, whose history serves the most demanding strategy of the account."""
    rules = MTFRules(entry_price="close")
    fixed = dict(fixed or {})
    markets = {s: prepare_mtf(f, s) for s, f in frames.items()}
    views = {s: _view(m, frames[s], _mtf_params_of(params, s)) for s, m in markets.items()}
    warm = max(warmup_index(m) for m in markets.values())
    if any(warm >= len(m) for m in markets.values()):
        raise DataError("the MTF pullback needs 1,000 closed hourly candles before its first decision; the data is shorter")
    exits = {s: exit_params(_mtf_params_of(params, s)) for s in markets}
    exits.update({s: (fixed_params or {}).get(s, cfg.params) for s in fixed})
    first = next(iter(markets))
    cfg = replace(cfg, params=exits[first] if not fixed else cfg.params, warmup=max(cfg.warmup, warm))
    held = {s: np.zeros(len(m), dtype=np.bool_) for s, m in markets.items()}
    for s, m in markets.items():
        views[s].decisions = _decide(m, _mtf_params_of(params, s), rules, held[s])
    for round_ in range(1, MAX_ROUNDS + 1):
        result = run([*views.values(), *fixed.values()], cfg, exits)
        changed = False
        for s, m in markets.items():
            dec = _decide(m, _mtf_params_of(params, s), rules, _positions(result.trades, s, m.index))  # type: ignore[attr-defined]
            if not np.array_equal(dec, views[s].decisions):
                views[s].decisions = dec
                changed = True
        if not changed:
            return MTFAccountRun(result, round_, list(views.values()))
    raise DataError(f"the MTF decisions did not settle after {MAX_ROUNDS} account runs")


def run_mtf_account(frames: Mapping[str, pd.DataFrame], cfg: BacktestConfig, params: MTFParamsBySymbol | None = None,
                    window=None, wf: WalkForwardConfig | None = None, fixed: Mapping[str, PreparedMarket] | None = None,
                    fixed_params: Mapping[str, StrategyParams] | None = None) -> MTFAccountRun:  # fmt: skip
    """One account over one or several symbols trading the MTF pullback — next to `fixed` symbols trading the
    weighted-signal strategy, if given: a single run (optionally inside `window`) or a walk-forward (`wf`; the
    MTF strategy has no training, so the folds only cut the report)."""
    from trader_runtime.backtest.portfolio import run_portfolio, run_portfolio_walk_forward

    params = params or MTFParams()
    if wf is not None:
        return solve(frames, cfg, params, lambda views, c, sp: run_portfolio_walk_forward(views, c, wf, symbol_params=sp),
                     fixed, fixed_params)  # fmt: skip
    return solve(frames, cfg, params, lambda views, c, sp: run_portfolio(views, c, window=window, symbol_params=sp),
                 fixed, fixed_params)  # fmt: skip
