"""Strategy names → implementations; the one place a configured name becomes a strategy object."""

from __future__ import annotations

from typing import Any, Mapping

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


def params_for_reload(running: str, symbol: str, env: Mapping[str, str], configured: str | None = None) -> Any:
    """The parameters `symbol` reloads to (operator `reload`): those of the strategy it runs, from `env`.

    Refused (ConfigError, nothing changes) when the configuration now names another strategy for it (`configured`;
    a strategy changes on restart only) or sets a per-symbol parameter of another strategy for it, which would
    otherwise be silently ignored."""
    strategy = get_strategy(running)
    if configured is not None and get_strategy(configured).name != strategy.name:
        raise ConfigError(f"the configuration now names {configured} for {symbol}, which runs {strategy.name}; "
                          "a symbol's strategy changes on restart only")  # fmt: skip
    for name in STRATEGY_NAMES:
        other = get_strategy(name)
        if other.name == strategy.name:
            continue
        stray = [v for v in other.param_variables(symbol) if env.get(v)]
        if stray:
            raise ConfigError(f"{stray[0]} is a parameter of the {other.title} strategy, but {symbol} runs the {strategy.title} strategy; "
                              f"remove it (its parameters are like {strategy.param_variables(symbol)[0]})")  # fmt: skip
    return strategy.resolve_params(symbol, env)
