"""Strategy names → implementations; the one place a configured name becomes a strategy object."""

from __future__ import annotations

from trader_runtime.errors import ConfigError
from trader_runtime.strategy.base import Strategy

DEFAULT_STRATEGY = "weighted-signal"
STRATEGY_NAMES = ("weighted-signal", "mtf-pullback")


def get_strategy(name: str) -> Strategy:
    """The strategy called `name` (platform rules); unknown names give a ConfigError listing the choices."""
    key = (name or "").strip().lower()
    if key == "weighted-signal":
        from trader_runtime.strategy.weighted import WeightedSignalStrategy

        return WeightedSignalStrategy()
    if key == "mtf-pullback":
        from trader_runtime.strategy.mtf_pullback.strategy import MTFPullbackStrategy

        return MTFPullbackStrategy()
    raise ConfigError(f"strategy {name!r} is unknown; choose one of {', '.join(STRATEGY_NAMES)}")
