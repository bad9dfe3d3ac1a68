"""The configuration of one backtest run, with the engine's rule switches (`EngineRules`).

Kept beside the engine rather than in `trader_runtime.config`, so loading the runtime settings on the trading host
imports no backtest code.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from trader_runtime.backtest.rules import EngineRules
from trader_runtime.config import RiskLimits, StrategyParams, _check
from trader_runtime.errors import ConfigError


@dataclass(frozen=True, slots=True)
class BacktestConfig:
    """One backtest run. `rules=EngineRules.legacy()` reproduces the reference engine's defects (§11 checks only)."""

    symbol: str = "XRPUSDT"
    params: StrategyParams = field(default_factory=StrategyParams)
    risk: RiskLimits = field(default_factory=RiskLimits)
    initial_balance: float = 1000.0
    leverage: int = 10
    fee_pct: float = 0.04
    slippage_pct: float = 0.01
    min_notional: float = 5.0
    quantity_step: float = 0.1
    warmup: int = 60
    ml_threshold: float = 0.55
    rules: EngineRules = field(default_factory=EngineRules)
    #: portfolio: the symbols sharing the account (empty = just `symbol`); N for sizing is their count (PF-05)
    symbols: tuple[str, ...] = ()
    #: fee of take-profit exits in percent; None = the taker `fee_pct` (TAKE_PROFIT_MARKET is a taker order)
    tp_fee_pct: float | None = None
    #: kill-switch reset policy of a continuous run: None = never (an operator decides), else days after the kill
    kill_reset_days: int | None = None
    #: maintenance-margin brackets file (None = the shipped snapshot, see backtest/accounting.py)
    brackets_path: str | None = None
    funding_interval_hours: int = 8
    #: per-symbol lot steps ((symbol, step), ...) overriding `quantity_step` (BT-10: each symbol's exchange step)
    quantity_steps: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        _check("initial_balance", self.initial_balance, 0, 1e12, lo_open=True)
        for sym, step in self.quantity_steps:
            _check(f"quantity_steps[{sym}]", step, 0, 1e9, lo_open=True)
        if self.tp_fee_pct is not None:
            _check("tp_fee_pct", self.tp_fee_pct, 0, 5)
        if self.kill_reset_days is not None:
            _check("kill_reset_days", self.kill_reset_days, 0, 100_000)
        _check("funding_interval_hours", self.funding_interval_hours, 1, 24)
        if len(set(self.symbols)) != len(self.symbols):
            raise ConfigError(f"symbols={list(self.symbols)} lists a symbol twice")
        _check("leverage", self.leverage, 1, 125)
        _check("fee_pct", self.fee_pct, 0, 5)
        _check("slippage_pct", self.slippage_pct, 0, 5)
        _check("min_notional", self.min_notional, 0, 1e9)
        _check("quantity_step", self.quantity_step, 0, 1e9, lo_open=True)
        _check("warmup", self.warmup, 0, 100_000)
        _check("ml_threshold", self.ml_threshold, 0, 1, lo_open=True)
        if not isinstance(self.rules, EngineRules):
            raise ConfigError(f"rules={self.rules!r} must be an EngineRules instance")

    @property
    def symbol_list(self) -> list[str]:
        """The account's symbols in processing order: ascending alphabetical (spec 40 §A.3)."""
        return sorted(self.symbols) if self.symbols else [self.symbol]

    def step_for(self, symbol: str) -> float:
        """The quantity step `symbol` is sized with."""
        return dict(self.quantity_steps).get(symbol, self.quantity_step)

    def with_params(self, **changes: Any) -> "BacktestConfig":
        return replace(self, params=replace(self.params, **changes))
