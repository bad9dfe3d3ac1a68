"""`onnx_model`: the filter model as an ONNX graph (onnxmltools, zipmap=False); guarded by the parity check."""

import dagster as dg

from trader_runtime.ml.onnx_export import export_onnx

from cointrader_pipelines.defs.code_versions import code_version
from cointrader_pipelines.outputs import FilterModel, OnnxModel
from cointrader_pipelines.partitions import symbol_partitions
from cointrader_pipelines.tracking.lineage import bytes_digest


@dg.asset(partitions_def=symbol_partitions, group_name="export", code_version=code_version(__file__), kinds={"onnx"})
def onnx_model(filter_model: FilterModel) -> dg.Output[OnnxModel]:
    trained = filter_model.trained
    onnx_bytes = export_onnx(trained.model, len(trained.feature_columns))
    digest = bytes_digest(onnx_bytes)
    return dg.Output(
        OnnxModel(onnx_bytes, digest, tuple(trained.feature_columns)),
        data_version=dg.DataVersion(digest),
        metadata={"bytes": len(onnx_bytes), "n_features": len(trained.feature_columns), "digest": digest},
    )
