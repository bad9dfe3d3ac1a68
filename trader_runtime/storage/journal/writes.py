"""Writing the journal: the writer (`Journal`, one per process) and the typed writes of one transaction."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trader_runtime.errors import ConfigError, DataError
from trader_runtime.storage.journal.pending import PendingRows
from trader_runtime.storage.journal.reads import _Reads
from trader_runtime.storage.journal.rows import FillRow, KillRow, DecisionRow, OrderRow, TradeRow
from trader_runtime.storage.journal.schema import _SCHEMA, SCHEMA_VERSION

if TYPE_CHECKING:
    import pandas as pd


def _clean(value: Any) -> Any:
    """NaN/inf become NULL (INC-02): the store never holds a non-number where a number is expected."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    return value


_DECISION_FIELDS = tuple(DecisionRow.__dataclass_fields__)
_INSERT_DECISION = (f"INSERT OR REPLACE INTO decisions ({', '.join(_DECISION_FIELDS)}) "
                    f"VALUES ({', '.join('?' for _ in _DECISION_FIELDS)})")  # fmt: skip
_INSERT_STATUS = "INSERT OR REPLACE INTO status (symbol, key, value, updated_ms) VALUES (?, ?, ?, ?)"


def _decision_values(row: DecisionRow) -> tuple[Any, ...]:
    return tuple(_clean(getattr(row, f)) for f in _DECISION_FIELDS)


def _status_values(symbol: str, key: str, value: Any, updated_ms: int) -> tuple[Any, ...]:
    return symbol, key, None if value is None else str(value), int(updated_ms)


class Transaction:
    """Typed writes inside one `BEGIN IMMEDIATE … COMMIT`; created only by `Journal.transaction()`."""

    def __init__(self, con: sqlite3.Connection) -> None:
        self._con = con

    # -------------------------------------------------------------------------------------------- trades
    def open_trade(self, trade: TradeRow) -> None:
        """Insert an OPEN trade; a second OPEN trade for the same symbol violates the store's unique index."""
        if trade.status != "OPEN":
            raise DataError(f"{trade.symbol}: open_trade needs status OPEN, got {trade.status!r}")
        row = {k: _clean(v) for k, v in asdict(trade).items()}
        cols = ", ".join(row)
        marks = ", ".join(f":{k}" for k in row)
        try:
            self._con.execute(f"INSERT INTO trades ({cols}) VALUES ({marks})", row)
        except sqlite3.IntegrityError as exc:
            raise DataError(f"{trade.symbol}: cannot open trade {trade.position_id}: {exc}") from None

    def update_trade(self, position_id: str, **fields: Any) -> None:
        allowed = set(TradeRow.__dataclass_fields__) - {"position_id"}
        bad = set(fields) - allowed
        if bad:
            raise DataError(f"update_trade: unknown field(s) {sorted(bad)}")
        if not fields:
            return
        sets = ", ".join(f"{k} = :{k}" for k in fields)
        cur = self._con.execute(
            f"UPDATE trades SET {sets} WHERE position_id = :pid", {**{k: _clean(v) for k, v in fields.items()}, "pid": position_id}
        )
        if cur.rowcount != 1:
            raise DataError(f"update_trade: no trade with position_id={position_id!r}")

    # -------------------------------------------------------------------------------------------- orders
    def upsert_order(self, order: OrderRow) -> None:
        row = {k: _clean(v) for k, v in asdict(order).items()}
        cols = ", ".join(row)
        marks = ", ".join(f":{k}" for k in row)
        updates = ", ".join(f"{k} = excluded.{k}" for k in row if k not in ("client_id", "created_ms"))
        self._con.execute(
            f"INSERT INTO orders ({cols}) VALUES ({marks}) ON CONFLICT(client_id) DO UPDATE SET {updates}", row
        )

    def set_order_status(self, client_id: str, status: str, updated_ms: int, exchange_id: str | None = None) -> None:
        if exchange_id is None:
            self._con.execute(
                "UPDATE orders SET status = ?, updated_ms = ? WHERE client_id = ?", (status, updated_ms, client_id)
            )
        else:
            self._con.execute(
                "UPDATE orders SET status = ?, updated_ms = ?, exchange_id = ? WHERE client_id = ?",
                (status, updated_ms, exchange_id, client_id),
            )

    # -------------------------------------------------------------------------------------------- fills
    def insert_fill(self, fill: FillRow) -> bool:
        """True when the fill is new; False when this fill key was already applied (a duplicate delivery)."""
        row = {k: _clean(v) for k, v in asdict(fill).items()}
        row["reduce_only"] = int(fill.reduce_only)
        cols = ", ".join(row)
        marks = ", ".join(f":{k}" for k in row)
        cur = self._con.execute(f"INSERT OR IGNORE INTO fills ({cols}) VALUES ({marks})", row)
        return cur.rowcount == 1

    # -------------------------------------------------------------------------------------------- risk state
    def add_kill_row(self, row: KillRow) -> None:
        if row.action not in ("KILL", "RESET"):
            raise DataError(f"kill_switch action={row.action!r}; allowed KILL or RESET")
        self._con.execute(
            "INSERT INTO kill_switch (symbol, time_ms, action, reason, marker_ms) VALUES (?, ?, ?, ?, ?)",
            (row.symbol, row.time_ms, row.action, row.reason, row.marker_ms),
        )

    def set_daily_base(self, day_ms: int, base_balance: float, set_time_ms: int) -> None:
        """First write of a day wins: a restart on the same UTC day keeps the stored base (D2)."""
        self._con.execute(
            "INSERT OR IGNORE INTO daily_equity (day_ms, base_balance, set_time_ms) VALUES (?, ?, ?)",
            (int(day_ms), float(base_balance), int(set_time_ms)),
        )

    # -------------------------------------------------------------------------------------------- narrative
    def add_event(self, time_ms: int, kind: str, symbol: str | None = None, detail: dict[str, Any] | None = None) -> None:
        self._con.execute(
            "INSERT INTO events (time_ms, symbol, kind, detail) VALUES (?, ?, ?, ?)",
            (int(time_ms), symbol, kind, json.dumps(detail, default=str) if detail else None),
        )

    def add_decision(self, row: DecisionRow) -> None:
        self.add_decisions([row])

    def add_decisions(self, rows: list[DecisionRow]) -> None:
        self._con.executemany(_INSERT_DECISION, [_decision_values(r) for r in rows])

    def set_status(self, symbol: str, values: dict[str, Any], updated_ms: int) -> None:
        self.set_status_rows([(symbol, k, v, updated_ms) for k, v in values.items()])

    def set_status_rows(self, rows: list[tuple[str, str, Any, int]]) -> None:
        """(symbol, key, value, updated_ms) rows."""
        self._con.executemany(_INSERT_STATUS, [_status_values(*r) for r in rows])

    def set_meta(self, key: str, value: str) -> None:
        self._con.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def save_venue_state(self, name: str, state: dict[str, Any], updated_ms: int) -> None:
        self._con.execute(
            "INSERT OR REPLACE INTO venue_state (name, state, updated_ms) VALUES (?, ?, ?)",
            (name, json.dumps(state), int(updated_ms)),
        )


class Journal(_Reads):
    """The writer. One instance per process; every write goes through `transaction()`."""

    def __init__(self, path: str | Path, *, durable: bool = True, coalesce_s: float = 0.0) -> None:
        self.path = Path(path)
        #: how long per-candle rows may wait in memory (0 = written at once, as every other row)
        self.coalesce_s = float(coalesce_s)
        self._pending = PendingRows()
        self._step_written = False  # something reached the file during the current step (see `coalesced`)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._con = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=10.0)
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        self._con.execute("PRAGMA foreign_keys=ON")
        self._con.execute("PRAGMA busy_timeout=10000")
        self._con.executescript(_SCHEMA)
        version = self.meta("schema_version")
        if version is None:
            with self.transaction() as tx:
                tx.set_meta("schema_version", str(SCHEMA_VERSION))
        elif int(version) != SCHEMA_VERSION:
            raise ConfigError(f"journal {self.path}: schema_version={version}, this runtime expects {SCHEMA_VERSION}")

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One atomic state change: everything inside commits together or not at all (after any pending
        per-candle rows, which commit with it)."""
        self._con.execute("BEGIN IMMEDIATE")
        try:
            tx = Transaction(self._con)
            if self._pending:
                self._pending.write(tx)
            yield tx
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        self._con.execute("COMMIT")
        self._pending.clear()
        self._step_written = True

    @contextmanager
    def coalesced(self, *, step: bool = False) -> Iterator[Transaction | PendingRows]:
        """Per-candle rows (decision, status, replay cursor): with `coalesce_s` > 0 they wait in memory and are
        written together, at the start of a step (`step=True`: the replay cursor of the next candle) once the
        oldest has waited `coalesce_s`, or with the next ordinary transaction.

        Once anything was written during a step, the rest of that step's rows are written at once: a written
        cursor is never ahead of the decisions of its candle."""
        if step and self._pending.since is not None and time.monotonic() - self._pending.since >= self.coalesce_s:
            self.flush()
        if step:
            self._step_written = False
        if self.coalesce_s <= 0 or self._step_written:
            with self.transaction() as tx:
                yield tx
            return
        yield self._pending

    @property
    def pending(self) -> bool:
        """True while per-candle rows wait in memory (`coalesced`)."""
        return bool(self._pending)

    def flush(self) -> None:
        """Write the pending per-candle rows now."""
        if self._pending:
            with self.transaction():
                pass

    # reads of rows that may be pending see them: write first
    def decisions(self, symbol: str | None = None, limit: int | None = None) -> pd.DataFrame:
        self.flush()
        return super().decisions(symbol, limit)

    def status(self) -> dict[str, dict[str, str]]:
        self.flush()
        return super().status()

    def venue_state(self, name: str) -> dict[str, Any] | None:
        self.flush()
        return super().venue_state(name)

    def claim_mode(self, mode: str) -> None:
        """Bind the journal to one exchange mode: replay trades must never count towards a live kill switch."""
        stored = self.meta("mode")
        if stored is None:
            with self.transaction() as tx:
                tx.set_meta("mode", mode)
        elif stored != mode:
            raise ConfigError(
                f"journal {self.path} belongs to mode {stored!r}, not {mode!r}; use a separate journal "
                f"(--journal PATH or COINTRADER_JOURNAL) for each mode"
            )

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._con.close()
