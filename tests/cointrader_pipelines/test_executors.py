"""The executor each profile gets: embedded = multiprocess with a forkserver whose preload imports cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cointrader_pipelines.executors import PRELOAD_MODULES, executor_for
from cointrader_pipelines.settings import PipelineSettings

ROOT = Path(__file__).resolve().parents[2]


def test_embedded_profile_forks_steps_from_a_preloaded_server():
    assert executor_for(PipelineSettings()).name == "multiprocess"
    assert executor_for(PipelineSettings(profile="stack")).name == "celery"
    assert PRELOAD_MODULES == ["cointrader_pipelines.preload"]


#: what a forked step does to find its job (dagster job execute -m ...): it must get the preloaded repository back
RECONSTRUCT = """
import importlib, os, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
from dagster._core.definitions.reconstruct import ReconstructableRepository
from cointrader_pipelines import definitions
repo = ReconstructableRepository.for_module("cointrader_pipelines.definitions", "defs", os.getcwd())
job = repo.get_reconstructable_job("main_job").get_definition()
print(repo.get_definition() is definitions.PRELOADED.get_repository_def(), job.name, "sqlalchemy" in sys.modules)
"""


def test_preload_modules_import_in_a_fresh_interpreter_and_steps_reuse_the_loaded_definitions(tmp_path):
    # the forkserver swallows only ImportError: anything else would kill every step, so import them for real
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    (tmp_path / "dagster.yaml").write_text((ROOT / "deploy" / "dagster" / "dagster.yaml").read_text())
    out = subprocess.run([sys.executable, "-c", RECONSTRUCT, *PRELOAD_MODULES], capture_output=True, text=True,
                         timeout=600, env=env, cwd=ROOT)
    assert out.returncode == 0 and out.stdout.split() == ["True", "main_job", "True"], out.stderr[-2000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dagster.yaml"]  # storage imported, nothing opened
