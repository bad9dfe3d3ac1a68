"""ONNX parity (blocking): on the held-out validation rows (plus NaN-holed copies), onnxruntime and LightGBM give
the same probability within 1e-5, so a model that would serve differently is never registered."""

import dagster as dg

from trader_runtime.ml.onnx_export import PARITY_TOLERANCE, verify_parity

from cointrader_pipelines.defs.export.assets import onnx_model
from cointrader_pipelines.outputs import FilterModel, MLDataset, OnnxModel
from cointrader_pipelines.partitions import symbol_partitions


@dg.asset_check(asset=onnx_model, partitions_def=symbol_partitions, blocking=True,
                additional_ins={"filter_model": dg.AssetIn(), "ml_dataset": dg.AssetIn()})
def onnx_parity(onnx_model: OnnxModel, filter_model: FilterModel, ml_dataset: MLDataset) -> dg.AssetCheckResult:
    trained = filter_model.trained
    rows = ml_dataset.frame["row"].isin(trained.holdout_predictions["row"])
    parity = verify_parity(trained.model, onnx_model.onnx_bytes, ml_dataset.frame.loc[rows, list(trained.feature_columns)])
    return dg.AssetCheckResult(
        passed=parity.passed,
        metadata={"max_abs_diff": parity.max_abs_diff, "tolerance": PARITY_TOLERANCE, "rows": parity.n_rows,
                  "rows_with_nan": parity.n_nan_rows},
    )
