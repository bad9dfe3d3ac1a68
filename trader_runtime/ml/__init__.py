"""Pure ML core: params, fold geometry, training, tuning, ONNX export/inference, experiments and the promotion gate.

No MLflow or Dagster here: every function returns a `*Result` that `cointrader_pipelines/tracking/` logs.
Import the submodules directly (the live runtime needs only `inference`, which avoids loading LightGBM/Optuna).
"""
