"""Real XRP data for the MTF reference tests: absent data skips locally but fails under CI=true."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.conftest import missing_reference_data, real_data_path


@pytest.fixture(scope="session")
def xrp_frame() -> pd.DataFrame:
    path = real_data_path("XRPUSDT")
    if not path.exists():
        missing_reference_data(path)
    return pd.read_parquet(path)
