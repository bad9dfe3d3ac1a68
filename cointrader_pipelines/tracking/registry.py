"""MLflow model registry: ONNX filter versions, the `challenger`/`champion` aliases, promotions and rollbacks (D15).

Contract read by the runtime (`trader_runtime/model_source.py`): registered model `cointrader-filter-<SYMBOL>`,
flavour `mlflow.onnx`, artifact name `filter_model`, aliases (never stages), and MLmodel metadata keys
`feature_columns`, `feature_schema_version`, `threshold`, `label_params`, `signal_params`, `metrics`,
`trained_from`, `trained_to` (the full model bundle sits under `bundle`). Every promotion and rollback is recorded
twice: as tags on the model version (what, when, why, previous champion, evidence) and as a run in the
`cointrader-registry` experiment with the evidence as an artifact.

Every move of `champion` also writes the signed promotion record (`trader_runtime.ml.promotion_record`: version,
SHA-256 of the ONNX file, SHA-256 of the evidence, HMAC-SHA256 under the promotion key) on the version and on the
registered model, *before* the alias moves. The trader serves only a champion whose record verifies, so this class
is the one way to make a model servable; an alias moved by hand in the MLflow UI is refused.
"""

from __future__ import annotations

import importlib.metadata as md
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import mlflow
import numpy as np
import onnx
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature
from mlflow.types import Schema, TensorSpec

from trader_runtime.backtest.serialization import to_jsonable
from trader_runtime.credentials import promotion_key
from trader_runtime.errors import ConfigError, ModelUnavailable
from trader_runtime.ml import promotion_record as pr

from cointrader_pipelines.tracking.lineage import Lineage
from cointrader_pipelines.tracking.runs import MlflowTracker, clean_text

CHAMPION = "champion"
CHALLENGER = "challenger"
ARTIFACT_NAME = "filter_model"
REGISTRY_EXPERIMENT = "cointrader-registry"
EVIDENCE_TAG = "promotion_evidence"
GATE_TAG = "gate.passed"
#: what a model version's tags must carry for lineage (tested)
LINEAGE_TAGS = ("dagster.run_id", "dagster.asset_key", "dagster.data_version", "dagster.code_version")


def model_name(symbol: str, template: str = "cointrader-filter-{symbol}") -> str:
    return template.format(symbol=symbol)


def onnx_signature(n_features: int) -> ModelSignature:
    """Tensor signature of the exported graph: X float32 [N, n] -> label int64 [N], probabilities float32 [N, 2]."""
    return ModelSignature(
        inputs=Schema([TensorSpec(np.dtype(np.float32), (-1, n_features), "X")]),
        outputs=Schema([
            TensorSpec(np.dtype(np.int64), (-1,), "label"),
            TensorSpec(np.dtype(np.float32), (-1, 2), "probabilities"),
        ]),
    )


def serving_metadata(bundle: Mapping[str, Any]) -> dict[str, Any]:
    """The runtime's metadata keys, taken from the core's model bundle (`trader_runtime.ml.bundle`)."""
    rng = bundle["training_range"]
    return to_jsonable({
        "feature_columns": list(bundle["feature_columns"]),
        "feature_schema_version": bundle["feature_schema_version"],
        "filled_features": list(bundle.get("filled_features", [])),
        "threshold": float(bundle["threshold"]["value"]),
        "label_params": dict(bundle["label"]),
        "signal_params": dict(bundle["signal_thresholds"]),
        "metrics": dict(bundle["validation_metrics"]),
        "trained_from": rng["start_time"],
        "trained_to": rng["end_time"],
        "bundle": dict(bundle),
    })


def serving_requirements() -> list[str]:
    """What loading the model needs, pinned (stated, not inferred: inference spawns a process per log)."""
    return [f"onnx=={md.version('onnx')}", f"onnxruntime=={md.version('onnxruntime')}"]


@dataclass(frozen=True)
class ModelVersionRef:
    name: str
    version: str
    run_id: str
    url: str

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


class Registry:
    """Registry operations on one tracker (same URIs for tracking and registry)."""

    def __init__(self, tracker: MlflowTracker, key: bytes | None = None) -> None:
        self.tracker = tracker
        self._key = key  # None: read (or, in the embedded default, create) the promotion key on first promotion

    @property
    def key(self) -> bytes:
        if self._key is None:
            self._key = promotion_key()
        return self._key

    def version_url(self, name: str, version: str) -> str:
        return f"{self.tracker.ui_url}/#/models/{name}/versions/{version}"

    def register_onnx(
        self, run_id: str, name: str, onnx_bytes: bytes, bundle: Mapping[str, Any], tags: Mapping[str, Any]
    ) -> ModelVersionRef:
        """Log the ONNX graph into training run `run_id`, register it as a new version and tag it `challenger`.

        Idempotent per training run: when `run_id` already has a version (an earlier attempt of this step died
        after registering), that version gets the tags and the alias instead of a second version being created."""
        client = self.tracker.client
        existing = self.version_of_run(name, run_id)
        if existing is not None:
            version = existing
        else:
            model = onnx.load_from_string(onnx_bytes)
            metadata = serving_metadata(bundle)
            with self.tracker.resume_run(run_id):
                info = mlflow.onnx.log_model(
                    model, name=ARTIFACT_NAME, signature=onnx_signature(len(metadata["feature_columns"])),
                    metadata=metadata, registered_model_name=name, save_as_external_data=False,
                    pip_requirements=serving_requirements(),
                )
            version = str(info.registered_model_version)
        client.update_registered_model(name, description=model_description(name, bundle))
        for key, value in tags.items():
            client.set_model_version_tag(name, version, key, clean_text(value))
        client.set_registered_model_alias(name, CHALLENGER, version)
        return ModelVersionRef(name, version, run_id, self.version_url(name, version))

    def version_of_run(self, name: str, run_id: str) -> str | None:
        """The version of `name` registered from training run `run_id`, if any (the lowest, should there be two)."""
        try:
            found = self.tracker.client.search_model_versions(f"name = '{name}' and run_id = '{run_id}'")
        except MlflowException:
            return None
        return str(min(int(mv.version) for mv in found)) if found else None

    def alias_version(self, name: str, alias: str) -> str | None:
        try:
            return str(self.tracker.client.get_model_version_by_alias(name, alias).version)
        except MlflowException:
            return None

    def versions(self, name: str) -> list[dict[str, Any]]:
        """Every version of `name` (newest first) with its aliases and recorded gate result."""
        client = self.tracker.client
        try:
            aliases = client.get_registered_model(name).aliases
        except MlflowException:
            return []
        by_version: dict[str, list[str]] = {}
        for alias, version in aliases.items():
            by_version.setdefault(str(version), []).append(alias)
        rows = []
        for mv in client.search_model_versions(f"name = '{name}'"):
            rows.append({"version": str(mv.version), "aliases": sorted(by_version.get(str(mv.version), [])),
                         "gate": mv.tags.get(GATE_TAG, "-"), "run_id": mv.run_id,
                         "created": pd.Timestamp(mv.creation_timestamp, unit="ms", tz="UTC").isoformat()})
        return sorted(rows, key=lambda r: int(r["version"]), reverse=True)

    def version_tags(self, name: str, version: str) -> dict[str, str]:
        try:
            return dict(self.tracker.client.get_model_version(name, version).tags)
        except MlflowException:
            raise ConfigError(f"model {name} has no version {version}") from None

    def evidence(self, name: str, version: str) -> dict[str, Any] | None:
        raw = self.version_tags(name, version).get(EVIDENCE_TAG)
        return json.loads(raw) if raw else None

    def record_gate(self, name: str, version: str, gate: Mapping[str, Any], evidence: Mapping[str, Any],
                    bundle: Mapping[str, Any] | None = None) -> None:
        """Gate result and evidence as version tags, and a description a reader of the registry page understands."""
        client = self.tracker.client
        client.update_model_version(name, version, description=version_description(bundle or {}, gate))
        client.set_model_version_tag(name, version, GATE_TAG, str(bool(gate["passed"])).lower())
        client.set_model_version_tag(name, version, "gate.failed", ",".join(gate.get("failed", [])) or "-")
        client.set_model_version_tag(name, version, EVIDENCE_TAG, json.dumps(to_jsonable(dict(evidence))))

    def promote(self, name: str, version: str, *, reason: str, actor: str, evidence: Mapping[str, Any],
                lineage: Lineage | None = None) -> ModelVersionRef:
        """Point `champion` at `version` and record the event (version tags + a registry run)."""
        self.version_tags(name, version)  # refuses an unknown version before anything changes
        previous = self.alias_version(name, CHAMPION)
        return self._move_champion(name, version, previous, "promote", reason, actor, evidence, lineage)

    def rollback(self, name: str, *, reason: str, actor: str, to_version: str | None = None,
                 lineage: Lineage | None = None) -> ModelVersionRef:
        """Point `champion` back at `to_version` (default: the champion before the current one)."""
        current = self.alias_version(name, CHAMPION)
        if current is None:
            raise ModelUnavailable(f"{name} has no champion to roll back")
        target = to_version or self.version_tags(name, current).get("champion.previous_version")
        if not target or target == "-":
            raise ModelUnavailable(f"{name} v{current} records no previous champion; pass the version to restore")
        self.version_tags(name, target)
        self.tracker.client.set_model_version_tag(name, current, "champion.rolled_back_at", _now())
        return self._move_champion(name, target, current, "rollback", reason, actor, {}, lineage)

    def _move_champion(self, name: str, version: str, previous: str | None, action: str, reason: str, actor: str,
                       evidence: Mapping[str, Any], lineage: Lineage | None) -> ModelVersionRef:
        client = self.tracker.client
        when = _now()
        self._sign_move(name, version, previous, action, actor, evidence, when)
        client.set_registered_model_alias(name, CHAMPION, version)
        for key, value in {"champion.since": when, "champion.action": action, "champion.reason": reason,
                           "champion.actor": actor, "champion.previous_version": previous or "-"}.items():
            client.set_model_version_tag(name, version, key, clean_text(value))
        self.tracker._activate()
        exp_id = self.tracker.experiment_id(REGISTRY_EXPERIMENT)
        tags = {**(lineage.tags() if lineage else {}), "registry.action": action, "registry.model": name,
                "registry.version": version, "registry.previous_version": previous or "-", "registry.actor": actor}
        with mlflow.start_run(experiment_id=exp_id, run_name=f"{action} {name} v{version}",
                              tags={k: clean_text(v) for k, v in tags.items()}) as run:
            mlflow.log_params({"action": action, "model": name, "version": version,
                               "previous_version": previous or "-", "actor": actor})
            payload = {"action": action, "model": name, "version": version, "previous_version": previous,
                       "reason": reason, "actor": actor, "time": when, "evidence": dict(evidence)}
            mlflow.log_text(clean_text(json.dumps(to_jsonable(payload), indent=2)), "registry_event.json")
        return ModelVersionRef(name, version, run.info.run_id, self.version_url(name, version))

    def _sign_move(self, name: str, version: str, previous: str | None, action: str, actor: str,
                   evidence: Mapping[str, Any], when: str) -> pr.PromotionRecord:  # fmt: skip
        """Write the signed record on the version, then on the registered model (the alias moves after)."""
        record, evidence_text = pr.build_record(name, version, self.onnx_bytes(name, version), to_jsonable(dict(evidence)),
                                                action=action, actor=clean_text(actor), time=when,
                                                previous_version=previous)  # fmt: skip
        signature = record.sign(self.key)
        client = self.tracker.client
        client.set_model_version_tag(name, version, pr.EVIDENCE_TAG, evidence_text)
        client.set_model_version_tag(name, version, pr.RECORD_TAG, record.to_json())
        client.set_model_version_tag(name, version, pr.SIGNATURE_TAG, signature)
        client.set_registered_model_tag(name, pr.CHAMPION_RECORD_TAG, record.to_json())
        client.set_registered_model_tag(name, pr.CHAMPION_SIGNATURE_TAG, signature)
        return record

    def onnx_bytes(self, name: str, version: str) -> bytes:
        """The ONNX file of a version exactly as the trader will download it (the record hashes these bytes)."""
        uri = self.tracker.client.get_model_version_download_uri(name, version)
        with tempfile.TemporaryDirectory(prefix="cointrader-promote-") as tmp:
            local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=tmp,
                                                             tracking_uri=self.tracker.tracking_uri))  # fmt: skip
            files = sorted(local.rglob("*.onnx")) if local.is_dir() else [local]
            if not files:
                raise ModelUnavailable(f"{name} v{version}: no .onnx file in its artifacts; nothing to promote")
            return files[0].read_bytes()


def model_description(name: str, bundle: Mapping[str, Any]) -> str:
    """What the registered model is, for the top of its MLflow page."""
    symbol = bundle.get("symbol") or name.rsplit("-", 1)[-1]
    return (
        f"LightGBM entry filter for the {symbol} futures strategy, exported to ONNX. The trader asks it for the "
        "probability that a signalled entry reaches its take-profit before its stop-loss and skips entries below "
        "the version's threshold (ML_MODE=on; shadow only records). Alias `challenger` = the newest version; "
        "`champion` = the version the trader serves, moved only when the promotion gate passes or by "
        "`cointrader model promote`. Each version's description gives its data window and gate result."
    )


def _threshold(bundle: Mapping[str, Any]) -> str:
    value = bundle.get("threshold")
    value = value.get("value") if isinstance(value, Mapping) else value
    return "n/a" if value is None else f"{float(value):.3f}"


def version_description(bundle: Mapping[str, Any], gate: Mapping[str, Any]) -> str:
    """This version: the data it was trained on, its threshold and the promotion gate with values and thresholds."""
    data = bundle.get("training_range") or {}
    window = f"{str(data.get('start_time', '?'))[:16]} → {str(data.get('end_time', '?'))[:16]} UTC"
    lines = [f"Trained on candles {window}" + (f", trained at {str(bundle['trained_at'])[:16]} UTC" if bundle.get("trained_at") else "") + ".",
             f"Decision threshold: {_threshold(bundle)}.",
             f"Promotion gate: {'passed' if gate.get('passed') else 'failed'}."]  # fmt: skip
    for rule in gate.get("rules", []):
        lines.append(f"- {'passed' if rule.get('passed') else 'failed'} {rule.get('name')}: {rule.get('message')}")
    return "\n".join(lines)


def _now() -> str:
    return pd.Timestamp.now(tz="UTC").isoformat()
