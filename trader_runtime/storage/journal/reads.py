"""Reading the journal: the queries the writer and the read-only reader share, and the weekly report's source."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pandas as pd

from trader_runtime.errors import DataError
from trader_runtime.storage.journal.rows import MS_PER_DAY, FillRow, KillRow, OrderRow, TradeRow


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
