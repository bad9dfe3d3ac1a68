"""The executor every job of the code location uses, chosen by the deployment profile.

- embedded (default): Dagster's multiprocess executor with the `forkserver` start method and the code location
  preloaded, so each step forks from a warm server instead of starting a fresh interpreter and importing Dagster,
  MLflow, LightGBM and the platform again (about 6 s per step before). `cointrader demo` and the tests execute
  in-process and are not affected.
- stack: `dagster-celery` — every step is a task on the Redis broker, run by Celery workers on any host that share
  the PostgreSQL instance and the step storage (deploy/stack). Chosen over dagster-docker/dagster-k8s here because
  it runs on plain hosts (no container engine on the development machine or CI) and keeps long-lived warm workers;
  on Kubernetes the Helm path uses the k8s run launcher with `k8s_job_executor` (deploy/k8s).
"""

from __future__ import annotations

import dagster as dg

from cointrader_pipelines.settings import PipelineSettings

#: modules imported once by the forkserver (everything a step imports: the definitions pull in the whole graph)
PRELOAD_MODULES = ["cointrader_pipelines.preload"]
#: the embedded profile's step processes (both cores of the reference machine)
EMBEDDED_MAX_CONCURRENT = 2


def embedded_executor() -> dg.ExecutorDefinition:
    return dg.multiprocess_executor.configured({
        "max_concurrent": EMBEDDED_MAX_CONCURRENT,
        "start_method": {"forkserver": {"preload_modules": PRELOAD_MODULES}},
    }, name="multiprocess")


def stack_executor() -> dg.ExecutorDefinition:
    from dagster_celery import celery_executor  # the [stack] extra

    from cointrader_pipelines.celery_app import BACKEND_ENV, BROKER_ENV

    return celery_executor.configured({
        "broker": {"env": BROKER_ENV},
        "backend": {"env": BACKEND_ENV},
        "include": ["cointrader_pipelines.celery_app"],
        "retries": {"enabled": {}},
    }, name="celery")


def k8s_executor() -> dg.ExecutorDefinition:
    from dagster_k8s import k8s_job_executor  # installed in the Kubernetes image only (deploy/k8s/README.md)

    return k8s_job_executor.configured({"max_concurrent": 8, "retries": {"enabled": {}}}, name="k8s")


def executor_for(settings: PipelineSettings) -> dg.ExecutorDefinition:
    if settings.profile == "stack":
        return stack_executor()
    if settings.profile == "k8s":
        return k8s_executor()
    return embedded_executor()
