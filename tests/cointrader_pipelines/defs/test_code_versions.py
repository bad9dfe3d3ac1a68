"""Code versions follow the code and the strategy parameters, so a parameter change marks the assets stale."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from cointrader_pipelines.defs.code_versions import code_version

STRATEGY_ASSETS = {"ml_dataset", "strategy_sweep", "ml_comparison", "weekly_report", "position_sizing"}

_PRINT_VERSIONS = (
    "import json\n"
    "from cointrader_pipelines.definitions import defs\n"
    "graph = (defs() if callable(defs) else defs).resolve_asset_graph()\n"
    "print(json.dumps({k.to_user_string(): graph.get(k).code_version for k in graph.get_all_asset_keys()}))\n"
)


def _versions(**env: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"ATR_SL_MULT", "ATR_SL_MULT_XRPUSDT", "LEVERAGE", "STRATEGY", "STRATEGY_XRPUSDT"}}
    out = subprocess.run([sys.executable, "-c", _PRINT_VERSIONS], capture_output=True, text=True, timeout=300,
                         env={**clean, "SYMBOLS": "XRPUSDT", **env})  # fmt: skip
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_strategy_parameter_changes_the_code_version_of_the_assets_that_use_it():
    before = _versions()
    after = _versions(ATR_SL_MULT_XRPUSDT="1.7")
    changed = {key for key in before if before[key] != after[key]}
    assert changed == STRATEGY_ASSETS
    assert before["weekly_report"] != "1" and before["filter_model"] == after["filter_model"]
    assert _versions(LEVERAGE="5")["position_sizing"] != before["position_sizing"]
    assert _versions(STRATEGY_XRPUSDT="mtf-pullback")["weekly_report"] != before["weekly_report"]


def test_the_code_version_follows_the_module_source(tmp_path):
    module = tmp_path / "assets.py"
    module.write_text("def asset():\n    return 1\n")
    first = code_version(str(module), {"atr_sl_mult": 1.5})
    assert first == code_version(str(module), {"atr_sl_mult": 1.5})
    assert first != code_version(str(module), {"atr_sl_mult": 1.7})
    module.write_text("def asset():\n    return 2\n")
    assert first != code_version(str(module), {"atr_sl_mult": 1.5})

