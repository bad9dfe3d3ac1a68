"""Imported once by the multiprocess executor's forkserver (executors.PRELOAD_MODULES): everything a step needs,
so each step process forks with Dagster, the code location, pandas/numba, LightGBM, MLflow, Optuna and ONNX Runtime
already loaded. `definitions` alone would not do: its definitions are built lazily, inside each step process."""

import lightgbm  # noqa: F401
import mlflow  # noqa: F401
import onnxruntime  # noqa: F401
import optuna  # noqa: F401

from cointrader_pipelines.definitions import defs

defs()  # imports every asset module (and through them the strategy core)
