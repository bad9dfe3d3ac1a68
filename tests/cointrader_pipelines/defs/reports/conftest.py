"""A warehouse holding a synthetic market, a runtime journal with known trades, MLflow in tmp_path, and a local
webhook that records what the notifier posts (all real: DuckDB, SQLite, MLflow sqlite, HTTP on 127.0.0.1)."""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pandas as pd
import pytest

from trader_runtime.market.synthetic import generate_market
from trader_runtime.storage.journal import Journal, TradeRow
from trader_runtime.storage.warehouse import Warehouse

# MLflow 3 reports usage to a remote endpoint unless told not to; tests never leave 127.0.0.1
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

#: (symbol, side, entry, exit, net) — inside the 2025-12-28 report week except the first
TRADES = [
    ("XRPUSDT", "LONG", "2025-12-10 08:00", "2025-12-10 10:00", 10.0),
    ("XRPUSDT", "SHORT", "2025-12-21 08:00", "2025-12-21 09:00", -5.0),
    ("XRPUSDT", "LONG", "2025-12-22 10:00", "2025-12-22 12:00", 20.0),
]


def _ms(text: str) -> int:
    return int(pd.Timestamp(text, tz="UTC").value // 1_000_000)


@pytest.fixture(scope="session")
def synthetic_xrp():
    return generate_market("XRPUSDT", 200, 7)


@pytest.fixture
def warehouse_path(tmp_path, synthetic_xrp) -> Path:
    path = tmp_path / "market.duckdb"
    wh = Warehouse(path)
    wh.upsert_candles("XRPUSDT", synthetic_xrp.combined, now=pd.Timestamp("2026-01-02", tz="UTC"))
    wh.upsert_ls_ratio("XRPUSDT", synthetic_xrp.ls_ratio)
    return path


@pytest.fixture
def journal_path(tmp_path) -> Path:
    path = tmp_path / "journal.sqlite"
    journal = Journal(path, durable=False)
    for i, (sym, side, entry, exit_, net) in enumerate(TRADES):
        with journal.transaction() as tx:
            tx.open_trade(TradeRow(f"p{i}", sym, side, "OPEN", "replay", _ms(entry), 2.0, 10.0, entry_fee=0.4))
            tx.update_trade(f"p{i}", status="CLOSED", exit_time_ms=_ms(exit_), exit_price=2.1, gross_pnl=net + 0.8,
                            exit_fee=0.4, net_pnl=net, close_reason="TP" if net > 0 else "SL")  # fmt: skip
    journal.close()
    return path


class _Hook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        return


@pytest.fixture
def webhook():
    """URL of a local Discord stand-in and the list of JSON bodies it received."""
    received: list[dict] = []
    handler = type("Hook", (_Hook,), {"received": received})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/webhook", received
    server.shutdown()
    server.server_close()
