"""The runtime's own store: SQLite in WAL mode, one transaction per state change (spec 30 §11, INC-24, DEF-11).

Why: the reference kept risk state in memory and let a log parser rebuild trades, which lost, duplicated and
mislabelled trades (INC-24, DEF-22). Here the runtime writes what it does at the moment it does it:

- `trades`: one row per position (stable `position_id`), gross PnL, entry fee, exit fee and net PnL apart (D3);
  a partial index allows at most one OPEN trade per symbol, so a restart can never create a second one;
- `orders`: every order the runtime sends, keyed by its own client id (written *before* it is sent, so a crash
  between sending and recording is found again by reconciliation), plus the exchange ids of SL/TP legs;
- `fills`: every execution, keyed by the exchange's fill key, so a fill delivered twice (REST answer and user
  stream, or a replay after a crash) is applied once;
- `kill_switch`: activation and reset history (DEF-12); `daily_equity`: the base of each UTC day (D2);
- `events`, `decisions`, `status`: the narrative, one row per candle decision, and the operator's status view;
- `venue_state`: the simulated venue of replay/paper mode, so a restarted replay resumes where it stopped.

A replay at full speed coalesces the per-candle rows (decision, status, replay cursor) through
`Journal.coalesced()`: they wait in memory for about `coalesce_s` and reach the file in one transaction, and any
ordinary transaction (a trade, an order, a fill, a kill-switch row, a venue change) first writes them, in order,
before its own rows. A crash therefore loses only per-candle rows younger than the last write, together with the
cursor that would skip their candles: a resumed replay decides those candles again, and no trade is lost or booked
twice.

`positions` is a view over the open trades. `JournalReader` opens the file read-only for the pipelines
(`read_live_trades` is the weekly report's `live_trades` source). The package is the only place importing sqlite3:
`schema` (tables), `rows` (row types), `writes` (`Journal`, `Transaction`), `reads` (queries, `JournalReader`),
`pending` (the coalesced per-candle rows).
"""

from __future__ import annotations

from trader_runtime.storage.journal.reads import LIVE_TRADE_COLUMNS, JournalReader, _Reads, read_live_trades
from trader_runtime.storage.journal.rows import (
    MS_PER_DAY,
    DecisionRow,
    FillRow,
    JournalSnapshot,
    KillRow,
    OrderRow,
    TradeRow,
    day_start_ms,
)
from trader_runtime.storage.journal.schema import _SCHEMA, SCHEMA_VERSION
from trader_runtime.storage.journal.writes import Journal, Transaction, _clean

__all__ = [
    "LIVE_TRADE_COLUMNS", "MS_PER_DAY", "SCHEMA_VERSION", "DecisionRow", "FillRow", "Journal", "JournalReader",
    "JournalSnapshot", "KillRow", "OrderRow", "TradeRow", "Transaction", "day_start_ms", "read_live_trades",
]  # fmt: skip
