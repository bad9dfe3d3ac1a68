"""Code versions derived from what decides an asset's output: its module's source and, for the assets that trade,
the strategy parameters. Dagster compares code versions with the last materialisation, so editing an asset module
or changing a strategy parameter marks the asset (and what depends on it) stale, where a fixed "1" never did."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from trader_runtime.config import load_runtime_settings

from cointrader_pipelines.resources.strategy import configured_strategy
from cointrader_pipelines.settings import get_settings

VERSION_LENGTH = 12


def code_version(module_file: str, *inputs: Any) -> str:
    """Short hash of the module file's bytes and `inputs` (JSON, sorted keys)."""
    digest = hashlib.sha256(Path(module_file).read_bytes())
    for item in inputs:
        digest.update(json.dumps(item, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:VERSION_LENGTH]


def strategy_code_version(module_file: str, *inputs: Any) -> str:
    """`code_version` that also changes with the configured strategy parameters, leverage and, per symbol, the
    strategy it trades and that strategy's parameters."""
    return code_version(module_file, trading_fingerprint(), *inputs)


@lru_cache(maxsize=1)
def trading_fingerprint() -> dict[str, Any]:
    """What the trading assets' outputs depend on besides their code and inputs, as configured for this process."""
    runtime, symbols = load_runtime_settings(), get_settings().symbol_list
    return {
        **configured_strategy().fingerprint(),
        "strategies": {s: runtime.strategy_name_for(s) for s in symbols},
        "strategy_params": {s: repr(runtime.strategy_params_for(s)) for s in symbols},
    }
