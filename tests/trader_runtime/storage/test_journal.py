"""The runtime journal: one transaction per state change, one OPEN trade per symbol, duplicate fills ignored."""

from __future__ import annotations

import math
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from trader_runtime.errors import ConfigError, DataError
from trader_runtime.storage.journal import (
    MS_PER_DAY,
    DecisionRow,
    FillRow,
    Journal,
    JournalReader,
    KillRow,
    OrderRow,
    TradeRow,
    read_live_trades,
)

DAY = 1_767_225_600_000  # 2026-01-01 00:00 UTC


def _trade(pid: str = "ct-E-1", symbol: str = "XRPUSDT", t: int = DAY + 1000) -> TradeRow:
    return TradeRow(pid, symbol, "LONG", "OPEN", "replay", t, 2.0, 100.0, entry_fee=0.08, sl=1.9, tp=2.2)


def _fill(key: str, pid: str | None = "ct-E-1", t: int = DAY + 1000) -> FillRow:
    return FillRow(key, "XRPUSDT", "42", t, "BUY", 2.0, 100.0, 0.0, 0.08, "USDT", False, pid, "ct-E-1")


@pytest.fixture()
def journal(tmp_path: Path) -> Journal:
    j = Journal(tmp_path / "j" / "trader.sqlite")
    yield j
    j.close()


def test_wal_mode_and_schema(journal: Journal):
    mode = journal._con.execute("PRAGMA journal_mode").fetchone()[0]
    tables = {r[0] for r in journal._con.execute("SELECT name FROM sqlite_master WHERE type IN ('table','view')")}
    assert mode == "wal"
    assert {"trades", "orders", "fills", "kill_switch", "daily_equity", "events", "decisions", "positions"} <= tables


def test_second_open_trade_for_a_symbol_is_refused_and_nothing_changes(journal: Journal):
    with journal.transaction() as tx:
        tx.open_trade(_trade())
    with pytest.raises(DataError, match="cannot open trade"):
        with journal.transaction() as tx:
            tx.insert_fill(_fill("f2", "ct-E-2"))
            tx.open_trade(_trade("ct-E-2"))
    assert list(journal.open_trades()) == ["XRPUSDT"]
    assert journal.open_trade("XRPUSDT").position_id == "ct-E-1"
    assert not journal.has_fill("f2")  # the whole transaction rolled back


def test_duplicate_fill_key_is_applied_once(journal: Journal):
    with journal.transaction() as tx:
        assert tx.insert_fill(_fill("42:1")) is True
        assert tx.insert_fill(_fill("42:1")) is False
    assert len(journal.fills()) == 1


def test_closed_trade_keeps_gross_fees_and_net_apart(journal: Journal):
    with journal.transaction() as tx:
        tx.open_trade(_trade())
        tx.update_trade("ct-E-1", status="CLOSED", exit_time_ms=DAY + 5000, exit_price=2.01, gross_pnl=1.0, exit_fee=0.02,
                        entry_fee=0.02, net_pnl=0.96, close_reason="TP")
    t = journal.trade("ct-E-1")
    assert (t.gross_pnl, t.entry_fee, t.exit_fee, t.net_pnl, t.close_reason) == (1.0, 0.02, 0.02, 0.96, "TP")
    assert journal.open_trade("XRPUSDT") is None
    assert journal.daily_net_pnl(DAY) == pytest.approx(0.96)
    assert journal.daily_net_pnl(DAY + MS_PER_DAY) == 0.0


def test_unknown_close_reason_is_refused_by_the_store(journal: Journal):
    with journal.transaction() as tx:
        tx.open_trade(_trade())
    with pytest.raises(sqlite3.IntegrityError):
        with journal.transaction() as tx:
            tx.update_trade("ct-E-1", status="CLOSED", close_reason="WHATEVER")


def test_nan_values_are_stored_as_null(journal: Journal):
    with journal.transaction() as tx:
        tx.open_trade(TradeRow("p", "XRPUSDT", "LONG", "OPEN", "replay", DAY, 2.0, 1.0, rsi=math.nan, atr=float("inf")))
    t = journal.trade("p")
    assert t.rsi is None and t.atr is None


def test_daily_base_first_write_of_the_day_wins(journal: Journal):
    with journal.transaction() as tx:
        tx.set_daily_base(DAY, 1000.0, DAY + 1)
    with journal.transaction() as tx:
        tx.set_daily_base(DAY, 900.0, DAY + 2)
    assert journal.daily_base(DAY) == 1000.0
    assert journal.daily_base(DAY + MS_PER_DAY) is None


def test_orders_upsert_by_client_id(journal: Journal):
    row = OrderRow("ct-E-1", "XRPUSDT", "ENTRY", "BUY", "MARKET", 100.0, "INTENT", DAY, DAY, position_id="ct-E-1")
    with journal.transaction() as tx:
        tx.upsert_order(row)
        tx.set_order_status("ct-E-1", "FILLED", DAY + 5, "42")
    got = journal.order("ct-E-1")
    assert (got.status, got.exchange_id, got.created_ms, got.updated_ms) == ("FILLED", "42", DAY, DAY + 5)
    assert journal.order_count() == 1


def test_kill_rows_in_write_order(journal: Journal):
    with journal.transaction() as tx:
        tx.add_kill_row(KillRow("XRPUSDT", DAY, "KILL", "Fast Kill", DAY))
        tx.add_kill_row(KillRow("XRPUSDT", DAY + 9, "RESET", "manual", DAY))
    rows = journal.kill_rows("XRPUSDT")
    assert [r.action for r in rows] == ["KILL", "RESET"]
    assert journal.last_kill_row_id("XRPUSDT") == 2 and journal.last_kill_row_id("DOGEUSDT") == 0
    with pytest.raises(DataError):
        with journal.transaction() as tx:
            tx.add_kill_row(KillRow("XRPUSDT", DAY, "PAUSE", "?", DAY))


def test_journal_is_bound_to_one_mode(journal: Journal):
    journal.claim_mode("replay")
    journal.claim_mode("replay")
    with pytest.raises(ConfigError, match="belongs to mode 'replay'"):
        journal.claim_mode("live")


def test_reader_is_read_only_and_never_creates_a_file(tmp_path: Path, journal: Journal):
    with pytest.raises(DataError, match="does not exist"):
        JournalReader(tmp_path / "missing.sqlite")
    assert not (tmp_path / "missing.sqlite").exists()
    with journal.transaction() as tx:
        tx.open_trade(_trade())
    with JournalReader(journal.path) as reader:
        assert reader.open_trade("XRPUSDT").position_id == "ct-E-1"
        with pytest.raises(sqlite3.OperationalError):
            reader._con.execute("DELETE FROM trades")


def test_live_trades_source_for_the_weekly_report(journal: Journal):
    for i, (exit_day, net) in enumerate([(0, 1.5), (1, -0.5), (3, 2.0)]):
        pid = f"p{i}"
        with journal.transaction() as tx:
            tx.open_trade(_trade(pid, t=DAY + exit_day * MS_PER_DAY - 10))
            tx.update_trade(pid, status="CLOSED", exit_time_ms=DAY + exit_day * MS_PER_DAY + 60_000, exit_price=2.1,
                            gross_pnl=net + 0.1, exit_fee=0.02, net_pnl=net, close_reason="SL")
    df = read_live_trades(journal.path, pd.Timestamp(DAY, unit="ms", tz="UTC"), pd.Timestamp(DAY + 2 * MS_PER_DAY, unit="ms", tz="UTC"))
    assert list(df["net_pnl"]) == [1.5, -0.5]
    assert str(df["exit_time"].dt.tz) == "UTC" and {"gross_pnl", "entry_fee", "exit_fee", "close_reason"} <= set(df.columns)


_CRASH = """
import os, sys
sys.path.insert(0, {root!r})
from trader_runtime.storage.journal import Journal, TradeRow
j = Journal({path!r})
with j.transaction() as tx:
    tx.open_trade(TradeRow("p1", "XRPUSDT", "LONG", "OPEN", "live", 1, 2.0, 1.0))
    if {crash_inside!r}:
        os._exit(9)
os._exit(9)
"""


@pytest.mark.parametrize("crash_inside,expected", [(True, 0), (False, 1)], ids=["before-commit", "after-commit"])
def test_a_crash_neither_loses_nor_duplicates_a_trade(tmp_path: Path, crash_inside: bool, expected: int):
    path = tmp_path / "crash.sqlite"
    root = str(Path(__file__).resolve().parents[3])
    code = _CRASH.format(root=root, path=str(path), crash_inside=crash_inside)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert proc.returncode == 9, proc.stderr.decode()
    j = Journal(path)
    assert len(j.open_trades()) == expected
    j.close()


def _decision(t: int, action: str = "HOLD") -> DecisionRow:
    return DecisionRow("XRPUSDT", t, 2.0, 0, action)


def _written(path: Path) -> list[int]:
    """Decision candles in the file, as another process sees them."""
    with JournalReader(path) as r:
        return [int(t) for t in r.decisions()["candle_ms"]]


def test_coalesced_rows_wait_and_reach_the_file_before_the_next_trade(tmp_path: Path):
    path = tmp_path / "replay.sqlite"
    j = Journal(path, durable=False, coalesce_s=3600.0)
    for t in (1, 2):
        with j.coalesced(step=True) as tx:
            tx.save_venue_state("replay.cursor", {"cursor": t}, t)
        with j.coalesced() as tx:
            tx.add_decision(_decision(t))
            tx.set_status("XRPUSDT", {"action": "HOLD", "candle": t}, t)
    assert j.pending and _written(path) == []
    with j.transaction() as tx:  # a trade: the waiting rows go first, in the same commit
        tx.open_trade(_trade(t=3))
    assert not j.pending and _written(path) == [1, 2]
    with JournalReader(path) as r:
        assert r.venue_state("replay.cursor") == {"cursor": 2} and r.status()["XRPUSDT"]["candle"] == "2"
    # later rows of the same step go straight to the file (a written cursor is never ahead of its decisions)
    with j.coalesced() as tx:
        tx.add_decision(_decision(3, "ENTRY"))
    assert _written(path) == [1, 2, 3]
    with j.coalesced(step=True) as tx:  # the next candle waits again
        tx.save_venue_state("replay.cursor", {"cursor": 4}, 4)
    with j.coalesced() as tx:
        tx.add_decision(_decision(4))
    assert _written(path) == [1, 2, 3] and j.decisions()["candle_ms"].tolist() == [1, 2, 3, 4]  # a read writes first
    j.close()


def test_coalesced_rows_are_written_at_the_first_step_after_the_wait(tmp_path: Path):
    path = tmp_path / "replay.sqlite"
    j = Journal(path, durable=False, coalesce_s=0.05)
    with j.coalesced(step=True) as tx:
        tx.save_venue_state("replay.cursor", {"cursor": 1}, 1)
    with j.coalesced() as tx:
        tx.add_decision(_decision(1))
    time.sleep(0.06)
    with j.coalesced() as tx:  # within a step: still waiting
        tx.set_status("XRPUSDT", {"action": "HOLD"}, 1)
    assert _written(path) == []
    with j.coalesced(step=True) as tx:  # the next step starts with writing the previous ones
        tx.save_venue_state("replay.cursor", {"cursor": 2}, 2)
    assert _written(path) == [1] and j.pending
    j.close()  # closing writes the rest
    with JournalReader(path) as r:
        assert r.venue_state("replay.cursor") == {"cursor": 2}


def test_without_coalescing_every_row_is_written_at_once(journal: Journal):
    with journal.coalesced(step=True) as tx:
        tx.add_decision(_decision(1))
    assert not journal.pending and _written(journal.path) == [1]
