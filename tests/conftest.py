"""Root fixtures: locate the real reference data beside the repository (skipped cleanly when absent)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pandas as pd
import pytest

from fixtures.trader_models import TEST_PROMOTION_KEY
from trader_runtime.testing.network_guard import loopback_only

# one promotion key for every test (the pipelines sign promotion records with it, the trader verifies them), so
# no key file is generated in the working directory; child processes inherit it
os.environ["COINTRADER_PROMOTION_KEY"] = TEST_PROMOTION_KEY.decode()

#: the real data beside the repository; COINTRADER_REFERENCE_DATA points elsewhere (e.g. from a git worktree)
SHARED_DATA = Path(
    os.environ.get("COINTRADER_REFERENCE_DATA")
    or Path(__file__).resolve().parents[1].parent / "shared" / "data" / "binance-um-15m"
)


def real_data_path(symbol: str) -> Path:
    return SHARED_DATA / f"{symbol.lower()}_combined_15m.parquet"


def missing_reference_data(path: Path) -> None:
    """A test that needs the real data fails under CI=true (where it must run) and skips elsewhere."""
    message = f"reference data not found at {path}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def xrp_real() -> pd.DataFrame:
    path = real_data_path("XRPUSDT")
    if not path.exists():
        missing_reference_data(path)
    return pd.read_parquet(path)


@pytest.fixture(autouse=True)
def loopback_guard():
    """Tests may talk to 127.0.0.1 only (connects and name lookups elsewhere are refused, from any thread)."""
    with loopback_only() as refused:
        yield refused
    assert not refused, f"test tried to reach the network: {refused}"


@pytest.fixture(autouse=True)
def _reset_mlflow_globals():
    """MLflow keeps the tracking/registry URI in process globals *and* exports them as environment variables;
    one test's store must not leak into the next (a leaked registry URI sends registrations to another store)."""
    yield
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    os.environ.pop("MLFLOW_REGISTRY_URI", None)
    if "mlflow" in sys.modules:
        from mlflow.tracking._model_registry import utils as registry_utils
        from mlflow.tracking._tracking_service import utils as tracking_utils

        tracking_utils._tracking_uri = None
        registry_utils._registry_uri = None


#: the few tests (or modules, kept whole for their module fixtures) that take many times longer than the rest, in
#: three groups, one at the head of each pytest-xdist worker's first block, so none starts late and becomes the run's
#: tail. The first group mostly waits (replay clock, browser, web server start-up): one worker takes those one after
#: the other while the two others keep both cores busy with the groups that compute.
LONG_FIRST: tuple[tuple[str, ...], ...] = (
    ("tests/integration/faults/test_soak.py::test_soak_one_week",
     "tests/trader_runtime/service/test_dashboard.py",
     "tests/cointrader_pipelines/test_webserver.py"),
    ("tests/cointrader_pipelines/test_demo.py",
     "tests/cointrader_pipelines/defs/test_code_versions.py",
     "tests/cointrader_pipelines/test_executors.py"),
    ("tests/integration/test_cpu_independence.py",
     "tests/trader_runtime/strategy/mtf_pullback/test_live.py"),
)  # fmt: skip


def _long_group(item: pytest.Item) -> tuple[int, int] | None:
    for g, group in enumerate(LONG_FIRST):
        for k, prefix in enumerate(group):
            if item.nodeid.startswith(prefix):
                return g, k
    return None


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put each group of long tests at the head of one worker's first block. pytest-xdist's work stealing hands
    worker k the k-th of n contiguous blocks and steals only from the end of a queue, so a test at the head of a
    block starts at once on its worker."""
    workers = max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    found: dict[tuple[int, int], list[pytest.Item]] = {}
    rest: list[pytest.Item] = []
    for item in items:
        key = _long_group(item)
        (found.setdefault(key, []) if key is not None else rest).append(item)
    if not found:
        return
    heads: list[list[pytest.Item]] = [[] for _ in range(workers)]
    for (g, _), group_items in sorted(found.items(), key=lambda kv: kv[0]):
        heads[g % workers].extend(group_items)
    ordered: list[pytest.Item] = []
    left = len(items)
    for w in range(workers):  # block sizes as the scheduler cuts them: len(pending) // nodes remaining
        size = left // (workers - w)
        take = max(0, size - len(heads[w]))
        ordered += heads[w] + rest[:take]
        rest = rest[take:]
        left -= size
    items[:] = ordered + rest
