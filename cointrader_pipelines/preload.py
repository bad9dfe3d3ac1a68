"""Imported once by the multiprocess executor's forkserver (executors.PRELOAD_MODULES): everything a step needs,
so each step process forks with Dagster, the code location, pandas/numba, LightGBM, MLflow, Optuna and ONNX Runtime
already loaded. Besides the imports, a step process would otherwise pay two things again on every step: opening
the Dagster instance imports its storage classes (SQLAlchemy, Alembic: ~1 CPU-s), and reconstructing the job
rebuilds the definitions (~0.5 CPU-s); both are done here, once."""

import importlib
import os

import lightgbm  # noqa: F401
import mlflow  # noqa: F401
import onnxruntime  # noqa: F401
import optuna  # noqa: F401
from dagster._core.instance.ref import InstanceRef

from cointrader_pipelines import definitions


def import_instance_storage() -> list[str]:
    """Import the classes the step's instance is built from (its `dagster.yaml` under DAGSTER_HOME, Dagster's
    defaults otherwise) without opening any storage: a forked step must not inherit open database handles."""
    home = os.environ.get("DAGSTER_HOME")
    modules = ["dagster._core.instance.factory"]
    if home and os.path.isdir(home):
        ref = InstanceRef.from_dir(home)
        modules += sorted({value.module_name for value in ref._asdict().values()
                           if hasattr(value, "module_name")})
    for name in modules:
        importlib.import_module(name)
    return modules


def preload_definitions() -> None:
    """Load the definitions and resolve the repository and its jobs, then hand them to every forked step."""
    loaded = definitions.defs()  # imports every asset module (and through them the strategy core)
    repository = loaded.get_repository_def()
    for job_name in repository.job_names:
        repository.get_job(job_name)
    definitions.PRELOADED = loaded


import_instance_storage()
preload_definitions()
