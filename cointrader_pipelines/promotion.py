"""Register a challenger and apply the promotion gate (10 §9.4, D15): the flow behind `registered_model` and the
manual `cointrader model promote` path. The gate itself is the core's `evaluate_promotion_gate`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trader_runtime.errors import ConfigError
from trader_runtime.ml.bundle import with_gate_results
from trader_runtime.ml.promotion import GateResult, GateThresholds, PromotionEvidence, evaluate_promotion_gate
from trader_runtime.ml.training import WalkForwardResult

from cointrader_pipelines.outputs import FilterModel, MLComparison, OnnxModel
from cointrader_pipelines.tracking.lineage import Lineage
from cointrader_pipelines.tracking.registry import CHALLENGER, CHAMPION, GATE_TAG, ModelVersionRef, Registry


@dataclass(frozen=True)
class RegistrationOutcome:
    version: ModelVersionRef
    gate: GateResult
    evidence: dict[str, Any]
    promoted: bool
    previous_champion: str | None

    @property
    def aliases(self) -> list[str]:
        return [CHALLENGER, CHAMPION] if self.promoted else [CHALLENGER]


def champion_evidence(registry: Registry, name: str) -> PromotionEvidence | None:
    version = registry.alias_version(name, CHAMPION)
    recorded = registry.evidence(name, version) if version else None
    return PromotionEvidence.from_dict(recorded) if recorded else None


def register_challenger(
    registry: Registry, name: str, lineage: Lineage, model: FilterModel, onnx: OnnxModel,
    walk_forward: WalkForwardResult, comparison: MLComparison, sweep_pf: float, auto_promote: bool,
    thresholds: GateThresholds = GateThresholds(),
) -> RegistrationOutcome:
    """New version tagged `challenger` with lineage, gate result and evidence; `champion` too if allowed."""
    evidence = PromotionEvidence.from_results(walk_forward, comparison.ablation, comparison.comparison, sweep_pf,
                                              model.trained)
    previous = registry.alias_version(name, CHAMPION)
    gate = evaluate_promotion_gate(evidence, champion_evidence(registry, name), thresholds)
    bundle = with_gate_results(model.trained.metadata, gate.to_dict())
    tags = {**lineage.tags(), "mlflow.training_run_id": model.mlflow_run_id, "dataset_digest": model.dataset_digest,
            "onnx_digest": onnx.digest, "threshold": model.trained.threshold}
    version = registry.register_onnx(model.mlflow_run_id, name, onnx.onnx_bytes, bundle, tags)
    registry.record_gate(name, version.version, gate.to_dict(), evidence.to_dict(), bundle)
    promoted = gate.passed and auto_promote
    if promoted:
        registry.promote(name, version.version, reason="automatic: promotion gate passed", actor="dagster",
                         evidence={"gate": gate.to_dict(), "evidence": evidence.to_dict()}, lineage=lineage)
    return RegistrationOutcome(version, gate, evidence.to_dict(), promoted, previous)


def promote_manually(registry: Registry, name: str, version: str, reason: str, force: bool) -> ModelVersionRef:
    """The explicit D15 path: the version's recorded gate must have passed unless `force` (recorded as such)."""
    tags = registry.version_tags(name, version)
    passed = tags.get(GATE_TAG) == "true"
    if not passed and not force:
        raise ConfigError(
            f"{name} v{version}: promotion gate {'failed' if GATE_TAG in tags else 'was never evaluated'} "
            f"({tags.get('gate.failed', 'no record')}); pass --force with a --reason to promote anyway"
        )
    evidence = {"gate_passed": passed, "gate_failed": tags.get("gate.failed"), "forced": force and not passed,
                "recorded_evidence": registry.evidence(name, version)}
    return registry.promote(name, version, reason=reason, actor="manual" + (" (forced)" if force and not passed else ""),
                            evidence=evidence)
