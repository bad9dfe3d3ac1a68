"""Builders for hand-made bar arrays and small configurations used by the backtest tests."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from trader_runtime.backtest.engine import MS_PER_DAY, KernelOutput, MarketArrays, kernel_params, run_kernel
from trader_runtime.backtest.rules import EngineRules
from trader_runtime.config import BacktestConfig, RiskLimits, StrategyParams
from trader_runtime.domain.schema import BAR_MS

T0 = pd.Timestamp("2025-01-01 00:00", tz="UTC")


def make_bars(
    close, *, high=None, low=None, open_=None, atr=1.0, start: pd.Timestamp = T0
) -> MarketArrays:
    """Bars with the given closes; high/low default to the close (no intrabar range), open to the previous close."""
    close = np.asarray(close, dtype=np.float64)
    n = close.size
    high = close.copy() if high is None else np.asarray(high, dtype=np.float64)
    low = close.copy() if low is None else np.asarray(low, dtype=np.float64)
    open_ = np.concatenate(([close[0]], close[:-1])) if open_ is None else np.asarray(open_, dtype=np.float64)
    atr_arr = np.full(n, float(atr)) if np.isscalar(atr) else np.asarray(atr, dtype=np.float64)
    time_ms = start.value // 1_000_000 + np.arange(n, dtype=np.int64) * BAR_MS
    return MarketArrays(time_ms, open_, high, low, close, atr_arr, time_ms // MS_PER_DAY)


def make_cfg(rules: EngineRules | None = None, risk: RiskLimits | None = None, **kw) -> BacktestConfig:
    """1000 USDT, leverage 1, no fees or slippage, SL/TP 2×ATR, no warm-up unless overridden."""
    base = dict(
        params=StrategyParams(atr_sl_mult=2.0, atr_tp_mult=2.0),
        initial_balance=1000.0,
        leverage=1,
        fee_pct=0.0,
        slippage_pct=0.0,
        warmup=0,
        rules=rules or EngineRules(),
        risk=risk or RiskLimits(),
    )
    base.update(kw)
    return BacktestConfig(**base)


def simulate(arrays: MarketArrays, signal, cfg: BacktestConfig, allowed=None, start: int = 0, end: int | None = None) -> KernelOutput:
    signal = np.asarray(signal, dtype=np.int8)
    allowed = np.ones(signal.size, dtype=np.bool_) if allowed is None else np.asarray(allowed, dtype=np.bool_)
    fp, ip = kernel_params(cfg)
    return run_kernel(arrays, signal, allowed, start, signal.size if end is None else end, fp, ip)


def with_rules(cfg: BacktestConfig, **changes) -> BacktestConfig:
    return replace(cfg, rules=replace(cfg.rules, **changes))
