"""The deployment documents (compose file, Helm values, Kubernetes manifests) are valid YAML and say the same as
the tested profile: the same instance limits, worker queue, environment names and server flags, and no secret."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def _stack_module():
    spec = importlib.util.spec_from_file_location("stack_ctl", DEPLOY / "stack" / "stack.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _load(path: Path) -> list:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


@pytest.mark.parametrize("path", sorted(DEPLOY.rglob("*.yaml")) + sorted(DEPLOY.rglob("*.yml")),
                         ids=lambda p: str(p.relative_to(DEPLOY)))
def test_yaml_parses_and_holds_no_secret(path: Path) -> None:
    docs = _load(path)
    assert docs, f"{path} is empty"
    text = path.read_text()
    # every password-like value is a placeholder or a reference, never a literal
    for match in re.finditer(r"(?im)^[ \t-]*[\w-]*(password|secret)[\w-]*:[ \t]*(\S.*)$", text):
        value = match.group(2)
        assert value.startswith(("{", "CHANGE_ME", "[", "cointrader-", "./secrets/", "/run/secrets/", "false", "true")), match.group(0)


def test_compose_matches_the_tested_profile() -> None:
    compose = _load(DEPLOY / "compose" / "docker-compose.yml")[0]
    services = compose["services"]
    assert {"postgres", "redis", "mlflow", "code-server", "dagster-webserver", "dagster-daemon", "worker"} <= set(services)
    stack = _stack_module()
    worker = services["worker"]["command"]
    assert worker[:3] == ["celery", "-A", "cointrader_pipelines.celery_app"]
    assert worker[worker.index("-Q") + 1] == stack.WORKER_QUEUE
    mlflow = services["mlflow"]["command"]
    assert "--serve-artifacts" in mlflow and "--artifacts-destination" in mlflow
    env = services["dagster-daemon"]["environment"]
    profile = stack.profile_env({"COINTRADER_STACK_PG_PASSWORD": "x", "COINTRADER_STACK_REDIS_PASSWORD": "y"})
    assert set(env) <= set(profile) | {"SYMBOLS"}
    assert env["COINTRADER_PROFILE"] == profile["COINTRADER_PROFILE"] == "stack"
    # the secret-carrying variables come from the entrypoint (secret files), never from the compose file
    script = (DEPLOY / "compose" / "entrypoint.sh").read_text()
    for name in ("DAGSTER_PG_PASSWORD", "COINTRADER_CELERY_BROKER", "COINTRADER_CELERY_BACKEND",
                 "COINTRADER_OPTUNA_STORAGE", "MLFLOW_BACKEND_STORE_URI"):
        assert name not in env and f"export {name}" in script or f"{name}\n" in script
    assert "/opt/dagster/home/dagster.yaml" in (DEPLOY / "compose" / "Dockerfile").read_text()
    assert "deploy/stack/dagster.yaml" in (DEPLOY / "compose" / "Dockerfile").read_text()


@pytest.mark.skipif(shutil.which("sh") is None, reason="no POSIX shell")
def test_shell_scripts_parse() -> None:
    for script in (DEPLOY / "compose" / "entrypoint.sh", DEPLOY / "stack" / "install-deps.sh"):
        assert subprocess.run(["sh" if script.suffix == ".sh" and "compose" in str(script) else "bash", "-n",
                               str(script)]).returncode == 0, script


def test_helm_values_carry_the_instance_limits() -> None:
    instance = _load(DEPLOY / "stack" / "dagster.yaml")[0]
    values = _load(DEPLOY / "k8s" / "dagster-values.yaml")[0]
    queued = values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    assert queued["maxConcurrentRuns"] == instance["concurrency"]["runs"]["max_concurrent_runs"]
    assert queued["tagConcurrencyLimits"] == instance["concurrency"]["runs"]["tag_concurrency_limits"]
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert values["postgresql"]["enabled"] is False
    env = {e["name"]: e.get("value") for e in values["dagster-user-deployments"]["deployments"][0]["env"]}
    assert env["COINTRADER_PROFILE"] == "k8s"
    mlflow = _load(DEPLOY / "k8s" / "mlflow.yaml")
    container = mlflow[0]["spec"]["template"]["spec"]["containers"][0]
    assert "--serve-artifacts" in container["command"]
    assert container["env"][0]["valueFrom"]["secretKeyRef"]["key"] == "MLFLOW_BACKEND_STORE_URI"


def test_instance_file_reads_every_secret_from_the_environment() -> None:
    storage = _load(DEPLOY / "stack" / "dagster.yaml")[0]["storage"]["postgres"]["postgres_db"]
    for key in ("hostname", "port", "username", "password", "db_name"):
        assert isinstance(storage[key], dict) and set(storage[key]) == {"env"}
