"""`registered_model`: the ONNX filter as a new MLflow model version (alias `challenger`), gated for `champion`."""

from typing import Iterator

import dagster as dg

from trader_runtime.ml.training import WalkForwardResult

from cointrader_pipelines.defs.code_versions import code_version
from cointrader_pipelines.defs.registry.checks import REGISTRY_CHECKS, registered_version_is_documented
from cointrader_pipelines.context_lineage import lineage_for
from cointrader_pipelines.outputs import FilterModel, MLComparison, OnnxModel
from cointrader_pipelines.partitions import symbol_partitions
from cointrader_pipelines.promotion import register_challenger
from cointrader_pipelines.resources.mlflow_tracker import MlflowResource
from cointrader_pipelines.settings import get_settings


class RegistryConfig(dg.Config):
    auto_promote: bool = get_settings().auto_promote


@dg.asset(partitions_def=symbol_partitions, group_name="registry", code_version=code_version(__file__), kinds={"mlflow", "onnx"},
          check_specs=REGISTRY_CHECKS)
def registered_model(context: dg.AssetExecutionContext, config: RegistryConfig, filter_model: FilterModel,
                     onnx_model: OnnxModel, walk_forward_validation: WalkForwardResult, ml_comparison: MLComparison,
                     strategy_sweep: dict, mlflow: MlflowResource) -> Iterator[dg.Output[dict] | dg.AssetCheckResult]:
    """Model version with signature, feature list, threshold, metrics and lineage tags. It becomes `champion`
    only when the promotion gate passes (otherwise it stays `challenger`)."""
    name = mlflow.model_name(context.partition_key)
    outcome = register_challenger(
        mlflow.registry(), name, lineage_for(context, mlflow, filter_model.dataset_digest), filter_model, onnx_model,
        walk_forward_validation, ml_comparison, strategy_sweep["best_profit_factor"], config.auto_promote,
    )
    version = outcome.version
    summary = {"model": name, "version": version.version, "aliases": outcome.aliases, "promoted": outcome.promoted,
               "previous_champion": outcome.previous_champion, "gate": outcome.gate.to_dict(), "uri": version.uri,
               "url": version.url, "training_run_id": version.run_id}
    context.log.info(f"{name} v{version.version}: aliases {outcome.aliases}; gate failed: {outcome.gate.failed}")
    yield dg.Output(summary, metadata={
        "model_version": version.version, "aliases": ", ".join(outcome.aliases),
        "model_version_url": dg.MetadataValue.url(version.url), "gate_passed": outcome.gate.passed,
        "gate_failed": ", ".join(outcome.gate.failed) or "-",
        "mlflow_run_url": dg.MetadataValue.url(mlflow.tracker().run_url(
            mlflow.tracker().experiment_id(mlflow.experiment(context.partition_key)), version.run_id)),
    })
    yield registered_version_is_documented(summary, mlflow)
