"""What a strategy provides to the platform, so backtests, checks, the trader and reports can run any of them.

A strategy is a small object (freqtrade-like, but ours): its name and timeframes, its parameters with their ranges
and sweep grid, how it prepares indicators from closed 15m candles, the entry decision it takes at each candle
close, its SL/TP rule, the ML features it offers (if any), and the live engine the trader feeds one closed candle
at a time. Implementations: `strategy.weighted` (the weighted-signal strategy) and `strategy.mtf_pullback`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import fields
from typing import Any, ClassVar, Mapping

import pandas as pd

from trader_runtime.errors import ConfigError

PositionOpen = Callable[[], bool]


class Strategy(ABC):
    """Interface version 1. Methods take prepared data and parameter objects, never the environment."""

    name: ClassVar[str]
    title: ClassVar[str]
    timeframes: ClassVar[tuple[str, ...]]
    params_type: ClassVar[type]
    #: environment prefix of the parameters (`<PREFIX><FIELD>` and per symbol `<PREFIX><FIELD>_<SYMBOL>`)
    env_prefix: ClassVar[str]
    #: ML filter input columns in model order; None = no ML filter for this strategy
    feature_columns: ClassVar[tuple[str, ...] | None] = None

    # ----------------------------------------------------------------------------------- parameters
    def default_params(self) -> Any:
        return self.params_type()

    @abstractmethod
    def param_ranges(self) -> dict[str, tuple[float, float, float]]:
        """(low, high, step) of every tunable parameter."""

    @abstractmethod
    def sweep_grid(self) -> dict[str, tuple[Any, ...]]:
        """The documented sweep grid (key order = product order, last key varies fastest)."""

    def params_from(self, values: Mapping[str, Any]) -> Any:
        return self.params_type(**dict(values))

    def params_dict(self, params: Any) -> dict[str, Any]:
        return {f.name: getattr(params, f.name) for f in fields(params)}

    def param_variables(self, symbol: str) -> tuple[str, ...]:
        """The per-symbol environment variables of this strategy's parameters (`<PREFIX><FIELD>_<SYMBOL>`)."""
        return tuple(f"{self.env_prefix}{f.name.upper()}_{symbol}" for f in fields(self.params_type))

    def resolve_params(self, symbol: str, env: Mapping[str, str]) -> Any:
        """Parameters of `symbol` from environment variables (see `resolve_params`)."""
        return resolve_params(self, symbol, env)

    @abstractmethod
    def exit_multiples(self, params: Any) -> tuple[float, float]:
        """(SL, TP) as multiples of `exit_atr` at the decision candle."""

    # ----------------------------------------------------------------------------------- batch path
    @abstractmethod
    def warmup_candles(self, params: Any) -> int:
        """Closed 15m candles needed before the first decision."""

    def live_history_candles(self, params: Any) -> int:
        """Closed 15m candles the trader loads and keeps before it may trade (D11 and the strategy's own)."""
        return self.warmup_candles(params)

    @abstractmethod
    def prepare(self, frame: pd.DataFrame, symbol: str) -> Any:
        """Validate a combined 15m frame (closed candles only) and build what the decisions read."""

    @abstractmethod
    def indicator_frame(self, prepared: Any, params: Any) -> pd.DataFrame:
        """Every value a decision reads, one row per 15m candle (causal: row t uses candles ≤ t)."""

    @abstractmethod
    def decisions(self, prepared: Any, params: Any) -> pd.Series:
        """Entry decision (1 LONG, −1 SHORT, 0 none) at each candle close, from the first decidable candle on.

        Stateful strategies decide with their own unit-size position (no decision while it is open).
        """

    @abstractmethod
    def exit_atr(self, prepared: Any, params: Any) -> pd.Series:
        """The ATR the SL/TP rule multiplies, per decision candle."""

    # ----------------------------------------------------------------------------------- live path
    @abstractmethod
    def live_engine(self, symbol: str, params: Any, *, position_open: PositionOpen) -> Any:
        """An engine with the `IncrementalFeatureEngine` surface (seed/append/update/evaluate, min/max_candles)."""


def describe_params(strategy: Strategy, params: Any) -> str:
    return ", ".join(f"{k}={v}" for k, v in strategy.params_dict(params).items())


def resolve_params(strategy: Strategy, symbol: str, env: Mapping[str, str]) -> Any:
    """Per-symbol variable > global variable > default, for every field of the strategy's parameters."""
    values: dict[str, Any] = {}
    for f in fields(strategy.params_type):
        var = f"{strategy.env_prefix}{f.name.upper()}"
        kind = type(getattr(strategy.default_params(), f.name))
        for name in (f"{var}_{symbol}", var):
            raw = env.get(name)
            if raw is None or raw == "":
                continue
            try:
                values[f.name] = kind(float(raw)) if kind is float else kind(raw)
            except ValueError:
                raise ConfigError(f"{name}={raw!r} is not a valid {kind.__name__}") from None
            break
    try:
        return strategy.params_from(values)
    except ConfigError as exc:
        raise ConfigError(f"{strategy.title} parameters for {symbol}: {exc}") from None
