"""The journal's SQLite schema and its version (a journal of another version is refused, not migrated)."""

from __future__ import annotations

from trader_runtime.domain.enums import CloseReason

SCHEMA_VERSION = 1
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
