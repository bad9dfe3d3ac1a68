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

`positions` is a view over the open trades. `JournalReader` opens the file read-only for the pipelines
(`read_live_trades` is the weekly report's `live_trades` source). This is the only module importing sqlite3.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from trader_runtime.domain.enums import CloseReason
from trader_runtime.errors import ConfigError, DataError

SCHEMA_VERSION = 1
MS_PER_DAY = 86_400_000
_REASONS = ",".join(f"'{r.value}'" for r in CloseReason)

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trades (
    position_id TEXT PRIMARY KEY,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL CHECK (side IN ('LONG', 'SHORT')),
    status TEXT NOT NULL CHECK (status IN ('OPEN', 'CLOSED')),
    mode TEXT NOT NULL,
    entry_time_ms INTEGER NOT NULL,
    entry_candle_ms INTEGER,
    entry_price REAL NOT NULL,
    quantity REAL NOT NULL CHECK (quantity > 0),
    leverage INTEGER,
    sl REAL,
    tp REAL,
    entry_fee REAL NOT NULL DEFAULT 0,
    closed_qty REAL NOT NULL DEFAULT 0,
    realized_acc REAL NOT NULL DEFAULT 0,
    exit_fee_acc REAL NOT NULL DEFAULT 0,
    exit_notional_acc REAL NOT NULL DEFAULT 0,
    exit_time_ms INTEGER,
    exit_candle_ms INTEGER,
    exit_price REAL,
    gross_pnl REAL,
    exit_fee REAL,
    net_pnl REAL,
    close_reason TEXT CHECK (close_reason IS NULL OR close_reason IN ({_REASONS})),
    model_version TEXT,
    ml_proba REAL,
    rsi REAL, macd_hist REAL, atr REAL, adx REAL,
    recovered INTEGER NOT NULL DEFAULT 0,
    anomaly TEXT,
    extra TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS one_open_trade_per_symbol ON trades(symbol) WHERE status = 'OPEN';
CREATE INDEX IF NOT EXISTS trades_by_exit ON trades(symbol, exit_time_ms);
CREATE TABLE IF NOT EXISTS orders (
    client_id TEXT PRIMARY KEY,
    symbol TEXT NOT NULL,
    position_id TEXT,
    purpose TEXT NOT NULL,
    side TEXT NOT NULL,
    type TEXT NOT NULL,
    quantity REAL NOT NULL,
    trigger_price REAL,
    exchange_id TEXT,
    status TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS orders_by_position ON orders(position_id, purpose);
CREATE TABLE IF NOT EXISTS fills (
    fill_key TEXT PRIMARY KEY,
    symbol TEXT NOT NULL,
    position_id TEXT,
    order_id TEXT NOT NULL,
    client_id TEXT,
    time_ms INTEGER NOT NULL,
    side TEXT NOT NULL,
    price REAL NOT NULL,
    quantity REAL NOT NULL,
    realized_pnl REAL NOT NULL,
    commission REAL NOT NULL,
    commission_asset TEXT NOT NULL,
    reduce_only INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS kill_switch (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    symbol TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('KILL', 'RESET')),
    reason TEXT NOT NULL,
    marker_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS daily_equity (day_ms INTEGER PRIMARY KEY, base_balance REAL NOT NULL, set_time_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, time_ms INTEGER NOT NULL, symbol TEXT, kind TEXT NOT NULL, detail TEXT
);
CREATE TABLE IF NOT EXISTS decisions (
    symbol TEXT NOT NULL,
    candle_ms INTEGER NOT NULL,
    close REAL NOT NULL,
    signal INTEGER NOT NULL,
    long_score INTEGER, short_score INTEGER,
    adx REAL, atr REAL,
    action TEXT NOT NULL,
    reason TEXT,
    ml_mode TEXT, model_version TEXT, ml_proba REAL,
    latency_ms REAL,
    PRIMARY KEY (symbol, candle_ms)
);
CREATE TABLE IF NOT EXISTS status (
    symbol TEXT NOT NULL, key TEXT NOT NULL, value TEXT, updated_ms INTEGER NOT NULL, PRIMARY KEY (symbol, key)
);
CREATE TABLE IF NOT EXISTS venue_state (name TEXT PRIMARY KEY, state TEXT NOT NULL, updated_ms INTEGER NOT NULL);
CREATE VIEW IF NOT EXISTS positions AS
    SELECT symbol, position_id, side, quantity - closed_qty AS quantity, entry_price, sl, tp, entry_time_ms,
           model_version, recovered
    FROM trades WHERE status = 'OPEN';
"""


@dataclass(frozen=True, slots=True)
class TradeRow:
    """One position as stored (open or closed); times are epoch ms UTC."""

    position_id: str
    symbol: str
    side: str
    status: str
    mode: str
    entry_time_ms: int
    entry_price: float
    quantity: float
    entry_fee: float = 0.0
    entry_candle_ms: int | None = None
    leverage: int | None = None
    sl: float | None = None
    tp: float | None = None
    closed_qty: float = 0.0
    realized_acc: float = 0.0
    exit_fee_acc: float = 0.0
    exit_notional_acc: float = 0.0
    exit_time_ms: int | None = None
    exit_candle_ms: int | None = None
    exit_price: float | None = None
    gross_pnl: float | None = None
    exit_fee: float | None = None
    net_pnl: float | None = None
    close_reason: str | None = None
    model_version: str | None = None
    ml_proba: float | None = None
    rsi: float | None = None
    macd_hist: float | None = None
    atr: float | None = None
    adx: float | None = None
    recovered: int = 0
    anomaly: str | None = None
    extra: str | None = None

    @property
    def open_quantity(self) -> float:
        return self.quantity - self.closed_qty


@dataclass(frozen=True, slots=True)
class OrderRow:
    client_id: str
    symbol: str
    purpose: str  # ENTRY, SL, TP, REVERSE, EMERGENCY, END_OF_DATA, CLOSE
    side: str  # BUY / SELL
    type: str
    quantity: float
    status: str  # INTENT, NEW, FILLED, CANCELED, EXPIRED, REJECTED, UNKNOWN
    created_ms: int
    updated_ms: int
    position_id: str | None = None
    trigger_price: float | None = None
    exchange_id: str | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class FillRow:
    fill_key: str
    symbol: str
    order_id: str
    time_ms: int
    side: str
    price: float
    quantity: float
    realized_pnl: float
    commission: float
    commission_asset: str
    reduce_only: bool
    position_id: str | None = None
    client_id: str | None = None


@dataclass(frozen=True, slots=True)
class KillRow:
    """`marker_ms`: for KILL the exit time of the trade that triggered it; for RESET the exit time of the symbol's
    newest closed trade when the reset was written — only trades closed after it count again (DEF-12). Exit times
    rather than wall-clock times, so a reset works the same on a replay clock and a live one."""

    symbol: str
    time_ms: int
    action: str  # KILL / RESET
    reason: str
    marker_ms: int


@dataclass(frozen=True, slots=True)
class DecisionRow:
    symbol: str
    candle_ms: int
    close: float
    signal: int
    action: str
    long_score: int | None = None
    short_score: int | None = None
    adx: float | None = None
    atr: float | None = None
    reason: str | None = None
    ml_mode: str | None = None
    model_version: str | None = None
    ml_proba: float | None = None
    latency_ms: float | None = None


@dataclass
class JournalSnapshot:
    """What a restarting runtime needs from the store, read in one go."""

    open_trades: dict[str, TradeRow] = field(default_factory=dict)
    kill_rows: list[KillRow] = field(default_factory=list)


def day_start_ms(time_ms: int) -> int:
    return (int(time_ms) // MS_PER_DAY) * MS_PER_DAY


def _clean(value: Any) -> Any:
    """NaN/inf become NULL (INC-02): the store never holds a non-number where a number is expected."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    return value


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
        data = {k: _clean(v) for k, v in asdict(row).items()}
        cols = ", ".join(data)
        marks = ", ".join(f":{k}" for k in data)
        self._con.execute(f"INSERT OR REPLACE INTO decisions ({cols}) VALUES ({marks})", data)

    def set_status(self, symbol: str, values: dict[str, Any], updated_ms: int) -> None:
        self._con.executemany(
            "INSERT OR REPLACE INTO status (symbol, key, value, updated_ms) VALUES (?, ?, ?, ?)",
            [(symbol, k, None if v is None else str(v), int(updated_ms)) for k, v in values.items()],
        )

    def set_meta(self, key: str, value: str) -> None:
        self._con.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def save_venue_state(self, name: str, state: dict[str, Any], updated_ms: int) -> None:
        self._con.execute(
            "INSERT OR REPLACE INTO venue_state (name, state, updated_ms) VALUES (?, ?, ?)",
            (name, json.dumps(state), int(updated_ms)),
        )


class _Reads:
    """Queries shared by the writer and the read-only reader."""

    _con: sqlite3.Connection

    def meta(self, key: str) -> str | None:
        row = self._con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def open_trade(self, symbol: str) -> TradeRow | None:
        rows = self._trades("status = 'OPEN' AND symbol = ?", (symbol,))
        return rows[0] if rows else None

    def open_trades(self) -> dict[str, TradeRow]:
        return {t.symbol: t for t in self._trades("status = 'OPEN'", ())}

    def trade(self, position_id: str) -> TradeRow | None:
        rows = self._trades("position_id = ?", (position_id,))
        return rows[0] if rows else None

    def closed_trades(self, symbol: str | None = None, since_ms: int | None = None, limit: int | None = None) -> list[TradeRow]:
        """Closed trades in close order (oldest first); `limit` keeps the newest ones."""
        where, args = ["status = 'CLOSED'"], []
        if symbol is not None:
            where.append("symbol = ?")
            args.append(symbol)
        if since_ms is not None:
            where.append("exit_time_ms >= ?")
            args.append(int(since_ms))
        sql = " AND ".join(where)
        if limit is not None:
            inner = f"SELECT rowid AS r, * FROM trades WHERE {sql} ORDER BY exit_time_ms DESC, rowid DESC LIMIT {int(limit)}"
            cur = self._con.execute(f"SELECT * FROM ({inner}) ORDER BY exit_time_ms, r", args)
            return [self._trade_from(cur, row, skip=1) for row in cur.fetchall()]
        return self._trades(sql + " ORDER BY exit_time_ms, rowid", tuple(args))

    def _trades(self, where: str, args: tuple[Any, ...]) -> list[TradeRow]:
        cur = self._con.execute(f"SELECT * FROM trades WHERE {where}", args)
        return [self._trade_from(cur, row) for row in cur.fetchall()]

    @staticmethod
    def _trade_from(cur: sqlite3.Cursor, row: tuple[Any, ...], skip: int = 0) -> TradeRow:
        names = [d[0] for d in cur.description][skip:]
        return TradeRow(**dict(zip(names, row[skip:])))

    def orders(self, position_id: str | None = None, symbol: str | None = None, status: str | None = None,
               purpose: str | None = None) -> list[OrderRow]:
        where, args = [], []
        for col, val in (("position_id", position_id), ("symbol", symbol), ("status", status), ("purpose", purpose)):
            if val is not None:
                where.append(f"{col} = ?")
                args.append(val)
        sql = "SELECT * FROM orders" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY created_ms, rowid"
        cur = self._con.execute(sql, args)
        names = [d[0] for d in cur.description]
        return [OrderRow(**dict(zip(names, r))) for r in cur.fetchall()]

    def order_count(self) -> int:
        return int(self._con.execute("SELECT COUNT(*) FROM orders").fetchone()[0])

    def order(self, client_id: str) -> OrderRow | None:
        cur = self._con.execute("SELECT * FROM orders WHERE client_id = ?", (client_id,))
        row = cur.fetchone()
        return None if row is None else OrderRow(**dict(zip([d[0] for d in cur.description], row)))

    def fills(self, position_id: str | None = None, symbol: str | None = None) -> list[FillRow]:
        where, args = [], []
        if position_id is not None:
            where.append("position_id = ?")
            args.append(position_id)
        if symbol is not None:
            where.append("symbol = ?")
            args.append(symbol)
        sql = "SELECT * FROM fills" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY time_ms, rowid"
        cur = self._con.execute(sql, args)
        names = [d[0] for d in cur.description]
        out = []
        for r in cur.fetchall():
            d = dict(zip(names, r))
            d["reduce_only"] = bool(d["reduce_only"])
            out.append(FillRow(**d))
        return out

    def order_fill_keys(self, order_id: str) -> list[str]:
        return [r[0] for r in self._con.execute("SELECT fill_key FROM fills WHERE order_id = ?", (str(order_id),))]

    def has_fill(self, fill_key: str) -> bool:
        return self._con.execute("SELECT 1 FROM fills WHERE fill_key = ?", (fill_key,)).fetchone() is not None

    def last_kill_row_id(self, symbol: str) -> int:
        row = self._con.execute("SELECT MAX(id) FROM kill_switch WHERE symbol = ?", (symbol,)).fetchone()
        return int(row[0] or 0)

    def last_exit_ms(self, symbol: str) -> int:
        row = self._con.execute(
            "SELECT MAX(exit_time_ms) FROM trades WHERE symbol = ? AND status = 'CLOSED'", (symbol,)
        ).fetchone()
        return int(row[0] or 0)

    def kill_rows(self, symbol: str | None = None) -> list[KillRow]:
        sql = "SELECT symbol, time_ms, action, reason, marker_ms FROM kill_switch"
        args: tuple[Any, ...] = ()
        if symbol is not None:
            sql += " WHERE symbol = ?"
            args = (symbol,)
        return [KillRow(*r) for r in self._con.execute(sql + " ORDER BY id", args).fetchall()]

    def daily_base(self, day_ms: int) -> float | None:
        row = self._con.execute("SELECT base_balance FROM daily_equity WHERE day_ms = ?", (int(day_ms),)).fetchone()
        return None if row is None else float(row[0])

    def daily_net_pnl(self, day_ms: int) -> float:
        """Σ net PnL of trades closed in the UTC day starting at `day_ms`, summed in close order."""
        rows = self._con.execute(
            "SELECT net_pnl FROM trades WHERE status = 'CLOSED' AND exit_time_ms >= ? AND exit_time_ms < ? "
            "ORDER BY exit_time_ms, rowid",
            (int(day_ms), int(day_ms) + MS_PER_DAY),
        ).fetchall()
        total = 0.0
        for (net,) in rows:
            total += float(net or 0.0)
        return total

    def realised_series(self) -> list[tuple[int, float]]:
        """(exit time ms, net PnL) of every closed trade in close order: the realised equity curve and total PnL."""
        rows = self._con.execute(
            "SELECT exit_time_ms, net_pnl FROM trades WHERE status = 'CLOSED' ORDER BY exit_time_ms, rowid"
        ).fetchall()
        return [(int(t), float(n or 0.0)) for t, n in rows]

    def decisions(self, symbol: str | None = None, limit: int | None = None) -> pd.DataFrame:
        sql = "SELECT * FROM decisions" + (" WHERE symbol = ?" if symbol else "") + " ORDER BY candle_ms DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return pd.read_sql_query(sql, self._con, params=(symbol,) if symbol else None).iloc[::-1].reset_index(drop=True)

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT time_ms, symbol, kind, detail FROM events" + (" WHERE kind = ?" if kind else "") + " ORDER BY id"
        rows = self._con.execute(sql, (kind,) if kind else ()).fetchall()
        return [{"time_ms": t, "symbol": s, "kind": k, "detail": json.loads(d) if d else None} for t, s, k, d in rows]

    def status(self) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        for sym, key, value in self._con.execute("SELECT symbol, key, value FROM status ORDER BY symbol, key"):
            out.setdefault(sym, {})[key] = value
        return out

    def venue_state(self, name: str) -> dict[str, Any] | None:
        row = self._con.execute("SELECT state FROM venue_state WHERE name = ?", (name,)).fetchone()
        return None if row is None else json.loads(row[0])

    def trades_frame(self, symbol: str | None = None, status: str | None = None, limit: int | None = None) -> pd.DataFrame:
        """Trades as a frame (newest first when `limit` is given), with tz-aware UTC time columns."""
        where, args = [], []
        if symbol:
            where.append("symbol = ?")
            args.append(symbol)
        if status:
            where.append("status = ?")
            args.append(status)
        sql = "SELECT * FROM trades" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY entry_time_ms DESC, rowid DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        df = pd.read_sql_query(sql, self._con, params=args or None)
        for col in ("entry_time", "exit_time", "entry_candle", "exit_candle"):
            df[col if col.endswith("time") else f"{col}_time"] = pd.to_datetime(df[f"{col}_ms"], unit="ms", utc=True)
        return df


class Journal(_Reads):
    """The writer. One instance per process; every write goes through `transaction()`."""

    def __init__(self, path: str | Path, *, durable: bool = True) -> None:
        self.path = Path(path)
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
        """One atomic state change: everything inside commits together or not at all."""
        self._con.execute("BEGIN IMMEDIATE")
        try:
            yield Transaction(self._con)
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        self._con.execute("COMMIT")

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
        self._con.close()


class JournalReader(_Reads):
    """Read-only view for the pipelines and the status command; never writes, never creates the file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise DataError(f"journal {self.path} does not exist; start the trader once (cointrader trader run)")
        self._con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False, timeout=10.0)

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> "JournalReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


LIVE_TRADE_COLUMNS = (
    "position_id", "symbol", "side", "mode", "entry_time", "exit_time", "entry_price", "exit_price", "quantity",
    "leverage", "sl", "tp", "gross_pnl", "entry_fee", "exit_fee", "net_pnl", "close_reason", "model_version",
    "ml_proba", "recovered",
)  # fmt: skip


def read_live_trades(path: str | Path, start: pd.Timestamp | None = None, end: pd.Timestamp | None = None) -> pd.DataFrame:
    """Closed trades with exit time in [start, end), oldest first: the weekly report's `live_trades` source."""
    with JournalReader(path) as reader:
        df = reader.trades_frame(status="CLOSED")
    if start is not None:
        df = df[df["exit_time"] >= pd.Timestamp(start)]
    if end is not None:
        df = df[df["exit_time"] < pd.Timestamp(end)]
    df = df.sort_values(["exit_time", "entry_time"]).reset_index(drop=True)
    return df[list(LIVE_TRADE_COLUMNS)]
