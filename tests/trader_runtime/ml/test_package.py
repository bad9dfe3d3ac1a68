"""The ML core stays free of tracking/orchestration imports; the serving path does not load training libraries."""

import subprocess
import sys


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return set(out.stdout.split())


def test_ml_core_imports_no_mlflow_or_dagster():
    mods = _modules_after(
        "import importlib, pkgutil, trader_runtime.ml as ml\n"
        "for m in pkgutil.iter_modules(ml.__path__): importlib.import_module('trader_runtime.ml.' + m.name)"
    )
    assert "trader_runtime.ml.promotion" in mods
    assert not {m for m in mods if m.split(".")[0] in ("mlflow", "dagster")}


def test_inference_does_not_load_lightgbm_or_optuna():
    mods = _modules_after("import trader_runtime.ml.inference")
    assert not {m for m in mods if m.split(".")[0] in ("lightgbm", "optuna", "sklearn")}
