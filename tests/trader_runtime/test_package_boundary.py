"""`trader_runtime` is deployed alone on the trading host: no file of it may import the pipelines or Dagster.

A static scan (not an import in a fresh interpreter, which only sees module-level imports) of every .py file under
trader_runtime: import statements anywhere, including inside functions, and module names handed to importlib.
"""

from __future__ import annotations

import ast
from pathlib import Path

import trader_runtime

FORBIDDEN = ("cointrader_pipelines", "dagster")
#: calls that import the module named by their first argument
IMPORTERS = {"import_module", "__import__", "find_spec", "import_string"}


def _forbidden(module: str | None) -> bool:
    root = (module or "").split(".")[0]
    return any(root == name or root.startswith(f"{name}_") for name in FORBIDDEN)


def boundary_violations(source: str, filename: str = "<source>") -> list[str]:
    """`file:line what` for every import of a forbidden package in `source`."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if called in IMPORTERS and isinstance(first, ast.Constant) and isinstance(first.value, str):
                names = [first.value]
        found += [f"{filename}:{node.lineno} imports {name}" for name in names if _forbidden(name)]
    return found


def test_no_file_of_the_runtime_imports_the_pipelines_or_dagster():
    root = Path(trader_runtime.__file__).parent
    files = sorted(root.rglob("*.py"))
    assert len(files) > 100  # the scan really walked the package
    violations = [v for path in files for v in boundary_violations(path.read_text(), str(path.relative_to(root)))]
    assert violations == []


def test_the_scan_sees_imports_inside_functions_and_through_importlib():
    source = (
        "import os\n"
        "from trader_runtime.errors import ConfigError\n"
        "def f():\n"
        "    from cointrader_pipelines.reporting import weekly\n"
        "    import dagster as dg\n"
        "    import importlib\n"
        "    importlib.import_module('cointrader_pipelines.demo')\n"
        "    __import__('dagster_webserver')\n"
        "    return importlib.import_module('trader_runtime.config')\n"
    )
    assert boundary_violations(source) == [
        "<source>:4 imports cointrader_pipelines.reporting",
        "<source>:5 imports dagster",
        "<source>:7 imports cointrader_pipelines.demo",
        "<source>:8 imports dagster_webserver",
    ]
