"""The invariant checkers themselves: each must pass on a consistent journal and fail on the defect it guards.

Orders go to the fake through the real python-binance client; the journal is written with the runtime's own
`Journal` API, once matching the exchange and once with one defect each (a lost trade, a double count, wrong PnL,
a naked position, an orphan leg)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from trader_runtime.storage.journal import FillRow, Journal, OrderRow, TradeRow
from trader_runtime.testing.fake_exchange import FakeExchange, FakeExchangeConfig, client_for

from tests.integration.faults.invariants import (ExchangeBooks, ProtectionMonitor, Report, check_all, read_books,
                                                 round_trips)
from tests.integration.faults.market import synthetic_frame

SYM = "XRPUSDT"


@pytest.fixture
def fx() -> Iterator[FakeExchange]:
    with FakeExchange(synthetic_frame(SYM, 14), symbol=SYM, config=FakeExchangeConfig(history_candles=1000)) as exchange:
        yield exchange


def trade_from(books: ExchangeBooks, **changes: object) -> TradeRow:
    (trip,) = round_trips(books)[SYM]
    entry, exit_ = trip.orders
    trade = TradeRow(
        position_id="ct-E-1", symbol=SYM, side=trip.side, status="CLOSED", mode="live", entry_time_ms=entry.time,
        entry_price=float(entry.cum_quote / entry.executed_qty), quantity=float(trip.max_qty),
        entry_fee=float(entry.commission), exit_time_ms=exit_.time, exit_price=float(exit_.cum_quote / exit_.executed_qty),
        gross_pnl=float(trip.realized), exit_fee=float(exit_.commission),
        net_pnl=float(trip.realized - entry.commission - exit_.commission), close_reason="REVERSE",
        closed_qty=float(trip.max_qty),
    )  # fmt: skip
    return replace(trade, **changes)  # type: ignore[arg-type]


def write_journal(path: Path, books: ExchangeBooks, trades: list[TradeRow], fill_factor: int = 1) -> None:
    journal = Journal(path, durable=False)
    with journal.transaction() as tx:
        for t in trades:
            tx.open_trade(replace(t, status="OPEN", exit_time_ms=None, close_reason=None))
            if t.status == "CLOSED":
                tx.update_trade(t.position_id, **{k: getattr(t, k) for k in ("status", "exit_time_ms", "exit_price",
                                "gross_pnl", "exit_fee", "net_pnl", "close_reason", "closed_qty")})  # fmt: skip
        for o in books.orders:
            for k in range(fill_factor):
                tx.insert_fill(FillRow(f"{o.order_id}-{k}", SYM, str(o.order_id), o.time, o.side,
                                       float(o.cum_quote / o.executed_qty), float(o.executed_qty), float(o.realized),
                                       float(o.commission), "USDT", o.reduce_only, "ct-E-1"))  # fmt: skip
    journal.close()


def round_trip(fx: FakeExchange) -> ExchangeBooks:
    client = client_for(fx, timeout_s=5)
    client.futures_create_order(symbol=SYM, side="BUY", type="MARKET", quantity="40")
    fx.advance()
    client.futures_create_order(symbol=SYM, side="SELL", type="MARKET", quantity="40", reduceOnly="true")
    client.close_connection()
    return read_books(fx)


def violations(fx: FakeExchange, path: Path) -> list[str]:
    return check_all(fx, path, [SYM], running=False).violations


def test_consistent_journal_passes(fx: FakeExchange, tmp_path: Path) -> None:
    books = round_trip(fx)
    write_journal(tmp_path / "j.sqlite", books, [trade_from(books)])
    report = check_all(fx, tmp_path / "j.sqlite", [SYM], running=False)
    assert report.violations == [] and report.checks >= 10


@pytest.mark.parametrize(
    "defect, expected",
    [
        ("lost", "exchange has 1 position(s)"),
        ("twice", "journal has 2 trade(s)"),
        ("pnl", "net PnL exchange"),
        ("fills", "double count"),
    ],
)
def test_each_defect_is_reported(fx: FakeExchange, tmp_path: Path, defect: str, expected: str) -> None:
    books = round_trip(fx)
    trade = trade_from(books)
    trades = {"lost": [], "twice": [trade, replace(trade, position_id="ct-E-2")], "pnl": [replace(trade, net_pnl=trade.net_pnl + 0.01)],
              "fills": [trade]}[defect]  # fmt: skip
    write_journal(tmp_path / "j.sqlite", books, trades, fill_factor=2 if defect == "fills" else 1)
    found = violations(fx, tmp_path / "j.sqlite")
    assert any(expected in v for v in found), found


def test_naked_position_and_orphan_leg_are_reported(fx: FakeExchange, tmp_path: Path) -> None:
    client = client_for(fx, timeout_s=5)
    client.futures_create_order(symbol=SYM, side="BUY", type="MARKET", quantity="40")
    path = tmp_path / "j.sqlite"
    Journal(path, durable=False).close()
    found = violations(fx, path)
    assert any("no OPEN trade" in v for v in found) and any("0 SL and 0 TP" in v for v in found), found

    client.futures_create_order(symbol=SYM, side="SELL", type="MARKET", quantity="40", reduceOnly="true")
    last = float(read_books(fx).orders[-1].cum_quote) / 40
    client.futures_create_order(symbol=SYM, side="SELL", type="STOP_MARKET", stopPrice=f"{last * 0.9:.4f}", quantity="40",
                                reduceOnly="true")  # fmt: skip
    client.close_connection()
    found = violations(fx, path)
    assert any("flat but 1 conditional order" in v for v in found), found


def test_monitor_measures_how_long_a_position_was_bare(fx: FakeExchange) -> None:
    monitor = ProtectionMonitor(fx, interval_s=0.01).start()
    monitor.service_up()
    client = client_for(fx, timeout_s=5)
    client.futures_create_order(symbol=SYM, side="BUY", type="MARKET", quantity="40")
    time.sleep(0.3)
    client.futures_create_order(symbol=SYM, side="SELL", type="MARKET", quantity="40", reduceOnly="true")
    time.sleep(0.05)
    client.close_connection()
    monitor.stop()
    report = Report()
    monitor.check(report, budget_s=0.1)
    assert 0.25 <= monitor.longest() < 2.0 and len(report.violations) == 1
