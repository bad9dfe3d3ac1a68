"""`cointrader model list|promote|rollback` against a real MLflow store in tmp_path."""

from __future__ import annotations

import pytest

from cointrader_pipelines.tracking.registry import CHAMPION, Registry
from cointrader_pipelines.tracking.runs import MlflowTracker
from fixtures.mlflow_store import fresh_store, mlflow_template, register_tiny_model  # noqa: F401  (fixture)
from trader_runtime.cli.main import main

NAME = "cointrader-filter-XRPUSDT"


@pytest.fixture
def store(tmp_path, mlflow_template, monkeypatch):
    monkeypatch.chdir(tmp_path)
    uri = fresh_store(mlflow_template, tmp_path)
    tracker = MlflowTracker(uri, str(tmp_path / "mlruns" / "artifacts"), "http://127.0.0.1:5000")
    register_tiny_model(tracker, NAME, gate_passed=True)
    register_tiny_model(tracker, NAME, gate_passed=False)
    return uri, Registry(tracker)


def _run(store, *argv: str) -> int:
    return main(["model", argv[0], "--symbol", "xrpusdt", "--tracking-uri", store[0], *argv[1:]])


def test_list_shows_versions_aliases_and_gates(store, capsys):
    assert _run(store, "list") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{NAME} v2") and "challenger" in out[0] and "gate false" in out[0]
    assert out[1].startswith(f"{NAME} v1") and "gate true" in out[1]


def test_promote_then_rollback(store, capsys):
    assert _run(store, "promote", "--version", "1", "--reason", "gate passed, reviewed") == 0
    assert store[1].alias_version(NAME, CHAMPION) == "1"
    assert _run(store, "promote", "--version", "2", "--reason", "operator override", "--force") == 0
    assert store[1].alias_version(NAME, CHAMPION) == "2"
    assert _run(store, "rollback", "--reason", "live PF fell") == 0
    assert store[1].alias_version(NAME, CHAMPION) == "1"
    assert "rolled back to v1" in capsys.readouterr().out


def test_promoting_a_failed_gate_without_force_is_refused(store, capsys):
    assert _run(store, "promote", "--version", "2", "--reason", "try") == 2
    assert "pass --force" in capsys.readouterr().err
    assert store[1].alias_version(NAME, CHAMPION) is None


def test_rollback_without_a_champion_is_a_clear_error(store, capsys):
    assert _run(store, "rollback", "--reason", "x") == 2
    assert "no champion" in capsys.readouterr().err
