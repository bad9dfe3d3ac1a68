"""The runtime never imports Dagster (STYLE §2.1); checked in a fresh interpreter."""

import subprocess
import sys


def test_trader_runtime_does_not_import_dagster():
    code = (
        "import pkgutil, importlib, sys, trader_runtime\n"
        "for m in pkgutil.walk_packages(trader_runtime.__path__, 'trader_runtime.'):\n"
        "    if '.testing' in m.name: continue\n"
        "    importlib.import_module(m.name)\n"
        "bad = [m for m in sys.modules if m == 'dagster' or m.startswith('dagster.')]\n"
        "print('DAGSTER' if bad else 'CLEAN')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("CLEAN")
