"""Registry: ONNX versions with signature and the runtime's metadata contract; challenger/champion aliases;
promotions and rollbacks recorded with evidence; the manual path refuses a version whose gate failed."""

from __future__ import annotations

import mlflow
import numpy as np
import onnxruntime as ort
import pytest
import yaml

from cointrader_pipelines.promotion import promote_manually
from cointrader_pipelines.tracking.registry import CHALLENGER, CHAMPION, REGISTRY_EXPERIMENT
from trader_runtime.errors import ConfigError, ModelRefused, ModelUnavailable
from trader_runtime.ml import promotion_record as pr
from trader_runtime.strategy.features import FEATURE_COLUMNS


NAME = "cointrader-filter-XRPUSDT"
RUNTIME_KEYS = {"feature_columns", "feature_schema_version", "threshold", "label_params", "signal_params",
                "metrics", "trained_from", "trained_to"}


def _register(registry, tracker, lineage, onnx_bytes, bundle, gate_passed: bool):
    with tracker.start_run(NAME, "filter_model", lineage) as run:
        pass
    ref = registry.register_onnx(run.run_id, NAME, onnx_bytes, bundle, {**lineage.tags(), "onnx_digest": "abc"})
    rules = [{"name": "pf_gain", "passed": gate_passed, "message": "PF(ML on) 1.30 − PF(ML off) 1.10 = +0.20, need >= +0.1"}]
    gate = {"passed": gate_passed, "failed": [] if gate_passed else ["pf_gain"], "rules": rules}
    registry.record_gate(NAME, ref.version, gate, {"mean_auc_signal": 0.6}, bundle)
    return ref


def test_registered_model_and_version_describe_themselves(registry, tracker, lineage, onnx_bytes, bundle):
    ref = _register(registry, tracker, lineage, onnx_bytes, bundle, gate_passed=False)
    client = tracker.client
    assert "entry filter" in client.get_registered_model(NAME).description
    text = client.get_model_version(NAME, ref.version).description
    window = f"{str(bundle['training_range']['start_time'])[:16]} → {str(bundle['training_range']['end_time'])[:16]} UTC"
    assert f"Trained on candles {window}" in text and "Promotion gate: failed." in text
    assert "- failed pf_gain: PF(ML on) 1.30 − PF(ML off) 1.10 = +0.20, need >= +0.1" in text


def test_registered_version_serves_the_runtime_contract(registry, tracker, lineage, onnx_bytes, bundle):
    ref = _register(registry, tracker, lineage, onnx_bytes, bundle, gate_passed=False)
    assert ref.version == "1" and registry.alias_version(NAME, CHALLENGER) == "1"
    assert registry.alias_version(NAME, CHAMPION) is None
    mv = tracker.client.get_model_version(NAME, "1")
    for key in ("dagster.run_id", "dagster.asset_key", "dagster.data_version", "dagster.code_version"):
        assert mv.tags[key] == lineage.tags()[key]
    local = mlflow.artifacts.download_artifacts(f"models:/{NAME}@{CHALLENGER}", tracking_uri=tracker.tracking_uri)
    meta = yaml.safe_load(open(f"{local}/MLmodel"))
    assert RUNTIME_KEYS <= set(meta["metadata"])
    assert meta["metadata"]["threshold"] == 0.61 and meta["metadata"]["feature_columns"] == list(FEATURE_COLUMNS)
    assert meta["metadata"]["metrics"]["oof_precision"] is None  # inf is not JSON: null + flag
    signature = mlflow.models.get_model_info(f"models:/{NAME}/1").signature
    assert list(signature.inputs.to_dict()[0]["tensor-spec"]["shape"]) == [-1, 30]
    session = ort.InferenceSession(f"{local}/model.onnx")
    proba = session.run(["probabilities"], {"X": np.zeros((2, 30), np.float32)})[0]
    assert proba.shape == (2, 2)


def test_promote_and_rollback_are_recorded(registry, tracker, lineage, onnx_bytes, bundle):
    _register(registry, tracker, lineage, onnx_bytes, bundle, gate_passed=True)
    _register(registry, tracker, lineage, onnx_bytes, bundle, gate_passed=True)
    registry.promote(NAME, "1", reason="first", actor="test", evidence={"gate": "ok"})
    registry.promote(NAME, "2", reason="better", actor="test", evidence={"gate": "ok"})
    tags = registry.version_tags(NAME, "2")
    assert tags["champion.previous_version"] == "1" and tags["champion.reason"] == "better"
    back = registry.rollback(NAME, reason="live PF fell", actor="test")
    assert back.version == "1" and registry.alias_version(NAME, CHAMPION) == "1"
    assert "champion.rolled_back_at" in registry.version_tags(NAME, "2")
    exp = tracker.client.get_experiment_by_name(REGISTRY_EXPERIMENT)
    runs = tracker.client.search_runs([exp.experiment_id], order_by=["attributes.start_time ASC"])
    assert [r.data.params["action"] for r in runs] == ["promote", "promote", "rollback"]
    listed = registry.versions(NAME)
    assert [(r["version"], r["aliases"]) for r in listed] == [("2", ["challenger"]), ("1", ["champion"])]


def test_every_champion_move_writes_a_record_the_trader_verifies(registry, tracker, lineage, onnx_bytes, bundle):
    """The record covers the version, the ONNX file as stored and the evidence; rollback writes a new one."""
    _register(registry, tracker, lineage, onnx_bytes, bundle, gate_passed=True)
    _register(registry, tracker, lineage, onnx_bytes, bundle, gate_passed=True)
    client = tracker.client

    def verified(version: str) -> pr.PromotionRecord:
        record = pr.verify_champion(model=NAME, version=version, version_tags=client.get_model_version(NAME, version).tags,
                                    model_tags=client.get_registered_model(NAME).tags, key=registry.key)  # fmt: skip
        pr.check_model_bytes(record, registry.onnx_bytes(NAME, version))
        return record

    first = registry.promote(NAME, "1", reason="first", actor="test", evidence={"gate": {"passed": True}})
    assert verified(first.version).action == "promote"
    registry.promote(NAME, "2", reason="better", actor="test", evidence={"gate": {"passed": True}})
    assert verified("2").previous_version == "1"
    with pytest.raises(ModelRefused, match="moved by hand"):
        verified("1")  # once promoted, but no longer the recorded champion
    back = registry.rollback(NAME, reason="live PF fell", actor="test")
    assert verified(back.version).action == "rollback"


def test_manual_promotion_needs_a_passed_gate_or_force(registry, tracker, lineage, onnx_bytes, bundle):
    _register(registry, tracker, lineage, onnx_bytes, bundle, gate_passed=False)
    with pytest.raises(ConfigError, match="gate failed"):
        promote_manually(registry, NAME, "1", "try", force=False)
    assert registry.alias_version(NAME, CHAMPION) is None
    ref = promote_manually(registry, NAME, "1", "operator decision", force=True)
    assert registry.alias_version(NAME, CHAMPION) == "1"
    assert registry.version_tags(NAME, "1")["champion.actor"] == "manual (forced)"
    assert ref.run_id


def test_rollback_without_history_is_refused(registry, tracker, lineage, onnx_bytes, bundle):
    with pytest.raises(ModelUnavailable, match="no champion"):
        registry.rollback(NAME, reason="x", actor="test")
    _register(registry, tracker, lineage, onnx_bytes, bundle, gate_passed=True)
    registry.promote(NAME, "1", reason="first", actor="test", evidence={})
    with pytest.raises(ModelUnavailable, match="no previous champion"):
        registry.rollback(NAME, reason="x", actor="test")


def test_unknown_version_is_refused_before_anything_changes(registry):
    with pytest.raises(ConfigError, match="no version 7"):
        registry.promote(NAME, "7", reason="x", actor="test", evidence={})
