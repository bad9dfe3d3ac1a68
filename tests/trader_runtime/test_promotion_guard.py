"""A registry that cannot be bypassed: the model source serves a champion only with a verifying promotion record.

The record is written by the platform's promotion path (`Registry.promote`, behind `cointrader model promote`);
an alias moved by hand (`MlflowClient.set_registered_model_alias`, what the MLflow UI's pencil does) is refused and
the last good model stays in service; the poller alerts once per reason.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from fixtures.mlflow_store import fresh_store, mlflow_template  # noqa: F401  (fixture)
from fixtures.trader_models import MODEL, TEST_PROMOTION_KEY, move_alias_by_hand, promote, register
from trader_runtime.errors import ModelRefused
from trader_runtime.model_source import ModelHolder, ModelPoller, ModelSource


@pytest.fixture(scope="module")
def store(tmp_path_factory, mlflow_template) -> dict[str, str]:
    root = tmp_path_factory.mktemp("mlflow")
    uri = fresh_store(mlflow_template, root)
    v1 = register(uri, root / "artifacts", threshold=0.6, seed=1)  # promoted through the platform's path
    v2 = register(uri, root / "artifacts", threshold=0.4, seed=2, alias=None)
    return {"uri": uri, "v1": v1, "v2": v2}


@pytest.fixture()
def registry(store: dict[str, str]) -> dict[str, str]:
    """Every test starts with v1 promoted the proper way (a test may leave the alias moved by hand)."""
    promote(store["uri"], store["v1"])
    return store


def _source(registry, tmp_path: Path, key: bytes = TEST_PROMOTION_KEY) -> ModelSource:
    return ModelSource(registry["uri"], MODEL, cache_dir=tmp_path / "cache", key=key)


def test_promoted_champion_is_served_and_a_hand_moved_alias_is_refused(registry, tmp_path: Path):
    src = _source(registry, tmp_path)
    model = src.fetch(None)
    assert model.version == registry["v1"] and model.promotion is not None and model.promotion.actor == "test"
    move_alias_by_hand(registry["uri"], registry["v2"])
    with pytest.raises(ModelRefused, match="moved outside `cointrader model promote`"):
        src.fetch(model)
    with pytest.raises(ModelRefused):
        _source(registry, tmp_path / "fresh").fetch(None)  # a fresh trader refuses it too
    assert not (tmp_path / "cache" / MODEL / registry["v2"]).exists()  # nothing of it was downloaded
    promote(registry["uri"], registry["v2"])
    assert src.fetch(model).version == registry["v2"]
    move_alias_by_hand(registry["uri"], registry["v1"])  # back to a once-promoted version, by hand
    with pytest.raises(ModelRefused, match="moved by hand"):
        _source(registry, tmp_path / "fresh2").fetch(None)
    with pytest.raises(ModelRefused, match="signature does not verify"):
        promote(registry["uri"], registry["v1"], key=b"a-key-the-trader-does-not-have")
        _source(registry, tmp_path / "fresh3").fetch(None)


def test_poller_keeps_the_last_good_model_and_alerts_once(registry, tmp_path: Path):
    src = _source(registry, tmp_path)
    holder = ModelHolder(src.fetch(None))
    alerts: list[str] = []
    poller = ModelPoller(src, holder, interval_s=0.01, on_refused=alerts.append)
    move_alias_by_hand(registry["uri"], registry["v2"])
    for _ in range(3):
        assert asyncio.run(poller.poll_once()) is None
    assert holder.take().version == registry["v1"] and len(alerts) == 1 and "the champion alias was moved" in alerts[0]
    assert poller.refused == alerts[0]
    promote(registry["uri"], registry["v2"])
    assert asyncio.run(poller.poll_once()).version == registry["v2"] and poller.refused is None
    assert holder.take().version == registry["v2"]


def test_cached_model_needs_its_record_too(registry, tmp_path: Path):
    src = _source(registry, tmp_path)
    src.fetch(None)
    assert _source(registry, tmp_path).load_cached().version == registry["v1"]
    stored = tmp_path / "cache" / MODEL / registry["v1"] / "promotion.json"
    data = json.loads(stored.read_text())
    data["signature"] = "0" * 64
    stored.write_text(json.dumps(data))
    with pytest.raises(ModelRefused, match="cached promotion record does not verify"):
        _source(registry, tmp_path).load_cached()
