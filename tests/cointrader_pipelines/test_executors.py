"""The executor each profile gets: embedded = multiprocess with a forkserver whose preload imports cleanly."""

from __future__ import annotations

import subprocess
import sys

from cointrader_pipelines.executors import PRELOAD_MODULES, executor_for
from cointrader_pipelines.settings import PipelineSettings


def test_embedded_profile_forks_steps_from_a_preloaded_server():
    assert executor_for(PipelineSettings()).name == "multiprocess"
    assert executor_for(PipelineSettings(profile="stack")).name == "celery"
    assert PRELOAD_MODULES == ["cointrader_pipelines.preload"]


def test_preload_modules_import_in_a_fresh_interpreter():
    # the forkserver swallows only ImportError: anything else would kill every step, so import them for real
    code = "import importlib, sys; [importlib.import_module(m) for m in sys.argv[1:]]; print('ok')"
    out = subprocess.run([sys.executable, "-c", code, *PRELOAD_MODULES], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
