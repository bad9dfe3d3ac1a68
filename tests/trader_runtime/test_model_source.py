"""The only MLflow reader: alias → version → validated ONNX filter, local cache, last good model on failure."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pandas as pd
import pytest

from fixtures.mlflow_store import fresh_store, mlflow_template  # noqa: F401  (fixture)
from fixtures.trader_models import MODEL, move_alias, register
from trader_runtime.errors import ModelUnavailable
from trader_runtime.model_source import ModelHolder, ModelPoller, ModelSource
from trader_runtime.strategy.features import FEATURE_COLUMNS


@pytest.fixture(scope="module")
def registry(tmp_path_factory, mlflow_template) -> dict[str, str]:
    root = tmp_path_factory.mktemp("mlflow")
    uri = fresh_store(mlflow_template, root)
    art = root / "artifacts"
    versions = {
        "good": register(uri, art, threshold=0.6, seed=1),
        "other": register(uri, art, threshold=0.4, seed=2, alias=None),
        "wrong_columns": register(uri, art, threshold=0.5, alias=None, metadata={"feature_columns": list(reversed(FEATURE_COLUMNS))}),
        "no_signature": register(uri, art, threshold=0.5, alias=None, signature=False),
        "narrow": register(uri, art, threshold=0.5, alias=None, width=18),
        "old_schema": register(uri, art, threshold=0.5, alias=None, metadata={"feature_schema_version": 0}),
        "metrics_model": register(uri, art, threshold=0.5, alias=None,
                                  metadata={"filled_features": ["oi_change", "funding_rate", "top_acct_ls_ratio"]}),
        "oi_model": register(uri, art, threshold=0.5, alias=None,
                             metadata={"filled_features": ["oi_change", "funding_rate", "oi_change_ma5"]}),
    }
    move_alias(uri, versions["good"])
    return {"uri": uri, **versions}


def _source(registry, tmp_path: Path, **kw) -> ModelSource:
    return ModelSource(registry["uri"], MODEL, cache_dir=tmp_path / "cache", **kw)


def test_champion_is_downloaded_validated_and_cached(registry, tmp_path: Path):
    src = _source(registry, tmp_path)
    model = src.fetch(None)
    assert model.version == registry["good"] and model.alias == "champion" and model.source == "mlflow"
    assert model.threshold == 0.6 and model.model_threshold == 0.6  # D5: the threshold stored with the version
    p = model.predict_one(pd.Series(0.1, index=list(FEATURE_COLUMNS)))
    assert 0.0 <= p <= 1.0
    assert src.fetch(model) is None  # unchanged alias: nothing to do
    assert (tmp_path / "cache" / MODEL / registry["good"] / "MLmodel").exists()


def test_configured_threshold_when_asked_to_ignore_the_models(registry, tmp_path: Path):
    model = _source(registry, tmp_path, threshold=0.55, use_model_threshold=False).fetch(None)
    assert model.threshold == 0.55 and model.model_threshold == 0.6


@pytest.mark.parametrize("which,match", [("wrong_columns", "order differs"), ("no_signature", "no signature"),
                                         ("narrow", "float32 tensor"), ("old_schema", "feature schema 0"),
                                         ("metrics_model", r"features the live market feed cannot fill \(top_acct_ls_ratio\)")])
def test_a_model_that_does_not_fit_the_core_is_refused(registry, tmp_path: Path, which, match):
    move_alias(registry["uri"], registry[which])
    try:
        with pytest.raises(ModelUnavailable, match=match):
            _source(registry, tmp_path).fetch(None)
    finally:
        move_alias(registry["uri"], registry["good"])
    assert not (tmp_path / "cache" / MODEL / registry[which]).exists()  # never enters the cache


def test_registry_down_keeps_the_last_good_model_and_restart_uses_the_cache(registry, tmp_path: Path):
    src = _source(registry, tmp_path)
    holder = ModelHolder(src.fetch(None))
    dead = ModelSource("http://127.0.0.1:9", MODEL, cache_dir=tmp_path / "cache")
    poller = ModelPoller(dead, holder, interval_s=0.01)
    assert asyncio.run(poller.poll_once()) is None
    assert holder.take().version == registry["good"] and poller.failures == 1 and "127.0.0.1:9" in poller.last_error
    cached = dead.load_cached()  # a restart while MLflow is down
    assert cached.version == registry["good"] and cached.source == "cache"


def test_alias_move_is_staged_and_swapped_at_the_next_take(registry, tmp_path: Path):
    src = _source(registry, tmp_path)
    holder = ModelHolder(src.fetch(None))
    poller = ModelPoller(src, holder)
    move_alias(registry["uri"], registry["other"])
    try:
        new = asyncio.run(poller.poll_once())
    finally:
        move_alias(registry["uri"], registry["good"])
    assert new.version == registry["other"] and holder.current.version == registry["good"]  # not yet
    assert holder.take().version == registry["other"] and holder.version == registry["other"]


def test_unknown_model_name_is_unavailable(registry, tmp_path: Path):
    with pytest.raises(ModelUnavailable, match="cannot resolve"):
        ModelSource(registry["uri"], "cointrader-filter-NOPE", cache_dir=tmp_path).fetch(None)
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_a_model_using_only_features_the_live_feed_fills_is_served(registry, tmp_path: Path):
    move_alias(registry["uri"], registry["oi_model"])
    try:
        model = _source(registry, tmp_path).fetch(None)
    finally:
        move_alias(registry["uri"], registry["good"])
    assert model.version == registry["oi_model"]
