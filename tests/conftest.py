"""Root fixtures: locate the real reference data beside the repository (skipped cleanly when absent)."""

from __future__ import annotations

import socket
from pathlib import Path

import pandas as pd
import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "binance-um-15m"


def real_data_path(symbol: str) -> Path:
    return SHARED_DATA / f"{symbol.lower()}_combined_15m.parquet"


@pytest.fixture(scope="session")
def xrp_real() -> pd.DataFrame:
    path = real_data_path("XRPUSDT")
    if not path.exists():
        pytest.skip(f"reference data not found at {path}")
    return pd.read_parquet(path)


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch):
    """Tests may talk to 127.0.0.1 only."""
    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in ("127.0.0.1", "localhost", "::1") and not host.startswith("/"):
            raise RuntimeError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
