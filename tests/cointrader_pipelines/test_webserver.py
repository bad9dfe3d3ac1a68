"""The Dagster webserver, started on loopback from the repository's workspace.yaml with a temporary
DAGSTER_HOME, lists every asset of the lineage and its checks over GraphQL."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
QUERY = """{ assetNodes { assetKey { path } assetChecksOrError { ... on AssetChecks { checks { name } } } } }"""
START_TIMEOUT_S = 150


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read()


@pytest.fixture
def webserver(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "dagster" / "dagster.yaml", home / "dagster.yaml")
    port = _free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home), "PYTHONPATH": str(REPO),
           "COINTRADER_WAREHOUSE": str(tmp_path / "wh.duckdb")}
    exe = Path(sys.executable).with_name("dagster-webserver")
    proc = subprocess.Popen([str(exe), "-h", "127.0.0.1", "-p", str(port), "-w", "workspace.yaml"], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                _get(f"{base}/server_info")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"webserver did not start: {proc.stderr.read().decode()[-2000:] if proc.poll() is not None else 'timeout'}")
                time.sleep(1.0)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _graphql(base: str, query: str) -> dict:
    request = urllib.request.Request(f"{base}/graphql", data=json.dumps({"query": query}).encode(),
                                     headers={"Content-Type": "application/json"})
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:  # the code location may still be loading right after the server answers
        with urllib.request.urlopen(request, timeout=30) as response:
            data = json.loads(response.read())["data"]
        if data["assetNodes"] or time.monotonic() > deadline:
            return data
        time.sleep(1.0)


def test_graphql_lists_the_assets_and_their_checks(webserver):
    data = _graphql(webserver, QUERY)
    nodes = {"/".join(n["assetKey"]["path"]): n for n in data["assetNodes"]}
    for asset in ("klines", "combined_15m", "ml_dataset", "walk_forward_validation", "tuned_params", "filter_model",
                  "onnx_model", "ml_comparison", "registered_model", "ls_ratio"):
        assert asset in nodes
    checks = {c["name"] for c in nodes["onnx_model"]["assetChecksOrError"]["checks"]}
    assert "onnx_parity" in checks
    klines_checks = {c["name"] for c in nodes["klines"]["assetChecksOrError"]["checks"]}
    assert {"klines_no_gaps", "klines_utc_closed", "klines_ohlc_sane"} <= klines_checks
