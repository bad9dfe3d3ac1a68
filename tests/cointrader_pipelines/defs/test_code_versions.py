"""Code versions follow the code and the strategy parameters, so a parameter change marks the assets stale."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from cointrader_pipelines.defs.code_versions import code_version

STRATEGY_ASSETS = {"ml_dataset", "strategy_sweep", "ml_comparison", "weekly_report", "position_sizing"}

#: One interpreter loads the heavy third-party libraries once, then forks one child per environment; each child
#: sets its variables and imports the code location from scratch (none of our modules is loaded before the fork,
#: the parent checks), so every variant is computed as a fresh `dagster` process with that environment would.
#: The library list only saves time: a child imports whatever is missing from it.
_PRINT_VERSIONS = """
import importlib, json, os, sys
for lib in ("dagster", "mlflow", "lightgbm", "onnx", "onnxruntime", "optuna", "pandas", "pandas_ta", "numba",
            "scipy", "sklearn", "duckdb", "polars", "matplotlib", "fastapi", "aiohttp", "binance"):
    importlib.import_module(lib)
ours = sorted(m for m in sys.modules if m.split(".")[0] in ("cointrader_pipelines", "trader_runtime"))
assert not ours, f"loaded before the fork: {ours}"
for variant in json.loads(sys.argv[1]):
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        os.environ.update(variant)
        from cointrader_pipelines.definitions import defs
        graph = (defs() if callable(defs) else defs).resolve_asset_graph()
        versions = {k.to_user_string(): graph.get(k).code_version for k in graph.get_all_asset_keys()}
        with os.fdopen(write, "w") as out:
            json.dump(versions, out)
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as got:
        text = got.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0 and text, f"variant {variant} failed"
    print(text)
"""


def _versions(*variants: dict[str, str]) -> list[dict[str, str]]:
    """The code version of every asset of the code location for each environment in `variants`."""
    clean = {k: v for k, v in os.environ.items() if k not in {"ATR_SL_MULT", "ATR_SL_MULT_XRPUSDT", "LEVERAGE", "STRATEGY", "STRATEGY_XRPUSDT"}}
    out = subprocess.run([sys.executable, "-c", _PRINT_VERSIONS, json.dumps(variants)], capture_output=True, text=True,
                         timeout=300, env={**clean, "SYMBOLS": "XRPUSDT"})  # fmt: skip
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert len(lines) == len(variants), out.stdout
    return [json.loads(line) for line in lines]


def test_a_strategy_parameter_changes_the_code_version_of_the_assets_that_use_it():
    before, after, leverage, strategy = _versions({}, {"ATR_SL_MULT_XRPUSDT": "1.7"}, {"LEVERAGE": "5"},
                                                  {"STRATEGY_XRPUSDT": "mtf-pullback"})  # fmt: skip
    changed = {key for key in before if before[key] != after[key]}
    assert changed == STRATEGY_ASSETS
    assert before["weekly_report"] != "1" and before["filter_model"] == after["filter_model"]
    assert leverage["position_sizing"] != before["position_sizing"]
    assert strategy["weekly_report"] != before["weekly_report"]


def test_the_code_version_follows_the_module_source(tmp_path):
    module = tmp_path / "assets.py"
    module.write_text("def asset():\n    return 1\n")
    first = code_version(str(module), {"atr_sl_mult": 1.5})
    assert first == code_version(str(module), {"atr_sl_mult": 1.5})
    assert first != code_version(str(module), {"atr_sl_mult": 1.7})
    module.write_text("def asset():\n    return 2\n")
    assert first != code_version(str(module), {"atr_sl_mult": 1.5})

