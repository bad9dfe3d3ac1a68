"""ML filter in the decision flow (D5) with real ONNX models from a temporary MLflow registry: on/shadow, the model
version on every decision, and a hot swap when the alias moves — without missing a candle."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from fixtures.trader import RELAXED, WARMUP, backtest_trades, decisions, journal_trades, options, replay_slice, run_replay, same_trades, settings
from fixtures.mlflow_store import fresh_store, mlflow_template  # noqa: F401  (fixture)
from fixtures.trader_models import move_alias, register
from trader_runtime.service.app import TraderApp


@pytest.fixture(scope="module")
def registry(tmp_path_factory, mlflow_template) -> dict[str, str]:
    root = tmp_path_factory.mktemp("mlflow")
    uri = fresh_store(mlflow_template, root)
    art = root / "artifacts"
    strict = register(uri, art, threshold=0.999, seed=1)  # blocks every entry
    lenient = register(uri, art, threshold=0.001, seed=2, alias=None)  # allows every entry
    move_alias(uri, strict)
    return {"uri": uri, "strict": strict, "lenient": lenient}


def _env(registry, mode: str) -> dict[str, str]:
    return {"ML_MODE": mode, "MLFLOW_TRACKING_URI": registry["uri"]}


START, LENGTH = WARMUP + 300, 150


def test_ml_on_gates_entries_at_the_model_threshold(tmp_path: Path, synth, registry):
    path = tmp_path / "j.sqlite"
    run_replay(path, replay_slice(synth, START, LENGTH), env=_env(registry, "on"), model_cache=tmp_path / "cache")
    d = decisions(path)
    sig = d[d["signal"] != 0]
    assert len(sig) and (sig["action"] == "BLOCKED_ML").all() and sig["ml_proba"].between(0, 0.999).all()
    assert (d["model_version"] == registry["strict"]).all() and len(journal_trades(path, status=None)) == 0


def test_shadow_predicts_and_records_but_never_gates(tmp_path: Path, synth, market, registry):
    path = tmp_path / "j.sqlite"
    run_replay(path, replay_slice(synth, START, LENGTH), env=_env(registry, "shadow"), model_cache=tmp_path / "cache")
    assert same_trades(journal_trades(path), backtest_trades(market, RELAXED, START, START + LENGTH)) == []
    trades = journal_trades(path)
    assert (trades["model_version"] == registry["strict"]).all() and trades["ml_proba"].notna().all()


def test_alias_move_hot_swaps_between_candles_without_missing_one(tmp_path: Path, synth, registry):
    path = tmp_path / "j.sqlite"
    frame = replay_slice(synth, START, 400)
    app = TraderApp(settings(**_env(registry, "on")),
                    options(path, frame, model_cache=tmp_path / "cache", model_poll_s=0.02, speed=900.0 * 60))

    async def main() -> None:
        runner = asyncio.create_task(app.run())
        while not (app.ready and app.bots["XRPUSDT"].stats.decisions >= 30):
            await asyncio.sleep(0.01)
        await asyncio.to_thread(move_alias, registry["uri"], registry["lenient"])
        while app.holders["XRPUSDT"].version != registry["lenient"]:
            await asyncio.sleep(0.01)
        swapped_at = app.bots["XRPUSDT"].stats.decisions
        while app.bots["XRPUSDT"].stats.decisions < swapped_at + 60:
            await asyncio.sleep(0.01)
        app.request_stop()
        await runner

    try:
        asyncio.run(asyncio.wait_for(main(), timeout=120))  # a missed swap fails instead of hanging
    finally:
        move_alias(registry["uri"], registry["strict"])
    d = decisions(path)
    assert d["candle_ms"].diff().dropna().eq(900_000).all()  # every candle decided once, none skipped
    versions = list(d["model_version"])
    k = versions.index(registry["lenient"])
    assert set(versions[:k]) == {registry["strict"]} and set(versions[k:]) == {registry["lenient"]} and k >= 30
    after = d.iloc[k:]
    assert after["action"].isin(["ENTRY", "REVERSE"]).any() and not d.iloc[:k]["action"].isin(["ENTRY", "REVERSE"]).any()
    trades = journal_trades(path, status=None)
    assert (trades["model_version"] == registry["lenient"]).all()
