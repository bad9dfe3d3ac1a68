"""The strategy parameters the assets trade with, as a Dagster resource.

Resolved once from the runtime settings (`ATR_SL_MULT`, `..._<SYMBOL>` overrides, `LEVERAGE`) when the definitions
load, so assets never read the environment themselves; the same values feed the assets' code versions
(`defs/code_versions.py`), so changing a parameter marks the assets that use it stale.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import dagster as dg
from pydantic import Field

from trader_runtime.config import RuntimeSettings, StrategyParams, load_runtime_settings
from trader_runtime.errors import ConfigError


class SymbolParams(dg.Config):
    """One symbol's strategy parameters (the fields of `StrategyParams`)."""

    atr_sl_mult: float
    atr_tp_mult: float
    signal_threshold: int
    adx_threshold: float
    volume_multiplier: float


class StrategyResource(dg.ConfigurableResource):
    """Per-symbol strategy parameters and the account leverage."""

    params: dict[str, SymbolParams] = Field(
        default_factory=dict, description="strategy parameters per traded symbol (SL/TP ATR multiples, thresholds)"
    )
    leverage: int = Field(default=10, description="account leverage used by the backtests and position sizing")

    @classmethod
    def from_runtime(cls, runtime: RuntimeSettings, symbols: list[str]) -> StrategyResource:
        return cls(params={s: SymbolParams(**runtime.params_for(s).as_dict()) for s in symbols},
                   leverage=runtime.leverage)

    @property
    def symbols(self) -> list[str]:
        return list(self.params)

    def for_symbol(self, symbol: str) -> StrategyParams:
        if symbol not in self.params:
            raise ConfigError(f"{symbol} has no strategy parameters (configured symbols: {', '.join(self.params)})")
        return StrategyParams(**self.params[symbol].model_dump())

    def fingerprint(self) -> dict[str, Any]:
        """What the assets' code versions are derived from."""
        return {"params": {s: p.model_dump() for s, p in self.params.items()}, "leverage": self.leverage}


@lru_cache(maxsize=1)
def configured_strategy() -> StrategyResource:
    """The deployment's strategy resource (the configured symbols, their resolved parameters)."""
    from cointrader_pipelines.settings import get_settings

    return StrategyResource.from_runtime(load_runtime_settings(), get_settings().symbol_list)
