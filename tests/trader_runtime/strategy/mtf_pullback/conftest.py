"""Real XRP data for the MTF reference tests: absent data skips locally but fails under CI=true."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from tests.conftest import real_data_path


@pytest.fixture(scope="session")
def xrp_frame() -> pd.DataFrame:
    path = real_data_path("XRPUSDT")
    if not path.exists():
        message = f"reference data not found at {path}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return pd.read_parquet(path)
