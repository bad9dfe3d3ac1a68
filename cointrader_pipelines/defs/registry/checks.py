"""The registered model version can be read and trusted by someone who never saw the run that made it.

Evaluated by `registered_model` right after it registers the version (`check_specs`), reading the registry back."""

import dagster as dg

from cointrader_pipelines.partitions import symbol_partitions
from cointrader_pipelines.resources.mlflow_tracker import MlflowResource
from cointrader_pipelines.tracking.registry import CHALLENGER, CHAMPION, GATE_TAG

REGISTRY_CHECKS = (
    dg.AssetCheckSpec("registered_version_is_documented", asset="registered_model", partitions_def=symbol_partitions,
                      description=(
                          "The new model version carries its promotion-gate result and evidence, describes itself (data "
                          "window, gate), holds the challenger alias, and is champion only if the gate passed.")),
)


def registered_version_is_documented(registered_model: dict, mlflow: MlflowResource) -> dg.AssetCheckResult:
    name, version = registered_model["model"], str(registered_model["version"])
    registry = mlflow.registry()
    tags = registry.version_tags(name, version)
    description = mlflow.tracker().client.get_model_version(name, version).description or ""
    gate = tags.get(GATE_TAG)
    problems = []
    if gate not in ("true", "false"):
        problems.append("no promotion-gate result recorded")
    if "Promotion gate:" not in description or "Trained on candles" not in description:
        problems.append("the version description lacks its data window or gate result")
    if registry.alias_version(name, CHALLENGER) != version:
        problems.append(f"alias {CHALLENGER} does not point at version {version}")
    if registry.alias_version(name, CHAMPION) == version and gate != "true" and registered_model.get("promoted"):
        problems.append("promoted automatically although the gate failed")
    return dg.AssetCheckResult(check_name="registered_version_is_documented", passed=not problems, metadata={
        "model": name, "version": version, "gate_passed": gate == "true",
        "problems": "; ".join(problems) or "none"})
