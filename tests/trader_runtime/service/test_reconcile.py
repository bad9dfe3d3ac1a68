"""Reconciliation of journal and exchange (spec 30 §6.8/§6.9, INC-10, DEF-01/03/04, D6)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from fixtures.candles import random_walk
from trader_runtime.backtest.fills import FillModel
from trader_runtime.config import RiskLimits, StrategyParams
from trader_runtime.exchange.factory import replay_rules
from trader_runtime.exchange.port import OrderResult
from trader_runtime.exchange.replay import ReplayExchange
from trader_runtime.exchange.simulated import Bar, SimulatedVenue
from trader_runtime.risk.kill_switch import KillSwitch
from trader_runtime.risk.risk_manager import LedgerAnchored, RiskManager
from trader_runtime.service.execution import OrderExecutor, RetryPolicy
from trader_runtime.service.lifecycle import PositionLedger
from trader_runtime.service.notifier import Notifier
from trader_runtime.service.reconcile import Reconciler
from trader_runtime.storage.journal import Journal, OrderRow

PARAMS = StrategyParams(atr_sl_mult=1.5, atr_tp_mult=4.0)


class World:
    """A real replay venue, journal, ledger, executor and reconciler for XRPUSDT."""

    def __init__(self, tmp: Path, venue_state: dict | None = None, limits: RiskLimits = RiskLimits(),
                 fills: FillModel = FillModel()) -> None:
        frame = random_walk(60, seed=5, with_corr=False)
        rules = {"XRPUSDT": replay_rules("XRPUSDT", 2.0)}
        self.venue = SimulatedVenue(rules, fills, 1000.0, state=venue_state)
        self.exchange = ReplayExchange({"XRPUSDT": frame}, self.venue, warmup=50)
        self.venue.leverage["XRPUSDT"] = 10
        self.journal = Journal(tmp / "j.sqlite", durable=False)
        self.risk = RiskManager(limits, 2, 1000.0)
        self.risk.apply(LedgerAnchored(1000.0))
        self.ledger = PositionLedger("XRPUSDT", "replay", self.journal, self.risk, KillSwitch("XRPUSDT", limits),
                                     leverage=10, now_ms=self.exchange.now_ms)
        self.executor = OrderExecutor("XRPUSDT", self.exchange, self.ledger, self.risk, Notifier(None, "replay"),
                                      rules=rules["XRPUSDT"], params=PARAMS, leverage=10, entry_lock=asyncio.Lock(),
                                      retry=RetryPolicy(pause_s=0.0))
        self.closed = []

        async def on_closed(c):
            self.closed.append(c)

        self.reconciler = Reconciler("XRPUSDT", self.exchange, self.ledger, self.executor, Notifier(None, "replay"),
                                     PARAMS, atr=lambda: 0.02, on_closed=on_closed)

    def run(self) -> None:
        asyncio.run(self.reconciler.run("test"))

    def enter_long(self, qty: float = 100.0) -> str:
        """An entry the runtime made and recorded, with both legs on the venue."""
        async def go() -> None:
            from trader_runtime.service.execution import EntryRequest

            await self.executor.enter(EntryRequest(1, self.exchange.now_ms() // 900_000 * 900_000, self.venue.last_price["XRPUSDT"],
                                                   0.02, {}, None, None))
        asyncio.run(go())
        return self.ledger.open.position_id


def test_stop_filled_while_away_is_recorded_from_the_fills_as_sl(tmp_path: Path):
    w = World(tmp_path)
    pid = w.enter_long()
    sl = w.ledger.open.sl
    w.venue.on_candle("XRPUSDT", Bar(sl + 0.01, sl + 0.01, sl - 0.05, sl - 0.02), w.venue.clock_ms + 900_000)  # nobody listening
    w.run()
    t = w.journal.trade(pid)
    assert t.status == "CLOSED" and t.close_reason == "SL" and t.exit_price == sl
    assert t.net_pnl == pytest.approx(t.gross_pnl - t.entry_fee - t.exit_fee) and w.closed
    assert w.venue.open_orders("XRPUSDT") == []


def test_closed_without_fill_history_is_a_sync_from_income(tmp_path: Path):
    w = World(tmp_path, fills=FillModel(fee_pct=0.0, slippage_pct=0.0))  # all commission rows belong to the exit
    pid = w.enter_long()
    entry = w.ledger.open
    state = w.venue.to_state()  # the exchange forgot the fills, only the income rows tell (INC-10)
    state["positions"] = {}
    state["legs"] = {}
    state["fills"] = []
    state["income"] = [
        {"symbol": "XRPUSDT", "type": "REALIZED_PNL", "amount": 1.2, "time_ms": entry.entry_time_ms + 1},
        {"symbol": "XRPUSDT", "type": "REALIZED_PNL", "amount": 0.3, "time_ms": entry.entry_time_ms + 2},
        {"symbol": "XRPUSDT", "type": "COMMISSION", "amount": -0.05, "time_ms": entry.entry_time_ms},
        {"symbol": "XRPUSDT", "type": "COMMISSION", "amount": -0.02, "time_ms": entry.entry_time_ms + 2},
    ]
    w.venue._load(state)
    w.run()
    t = w.journal.trade(pid)
    assert t.close_reason == "SYNC" and t.net_pnl == pytest.approx(1.43)
    assert t.exit_price == pytest.approx(entry.entry_price + 1.5 / entry.quantity)
    assert w.ledger.open is None and w.risk.snapshot().open_positions == {}


def test_unknown_exchange_position_is_adopted_registered_and_protected(tmp_path: Path):
    w = World(tmp_path, limits=RiskLimits(max_same_direction=1))
    w.venue.market_order("XRPUSDT", "BUY", 50.0, reduce_only=False, client_id="web_manual")  # opened in the app
    w.run()
    t = w.ledger.open
    assert t is not None and t.recovered == 1 and t.anomaly and t.quantity == 50.0
    assert t.sl == pytest.approx(t.entry_price - 0.02 * 1.5) and t.tp == pytest.approx(t.entry_price + 0.02 * 4.0)
    assert sorted(o.purpose for o in w.venue.open_orders("XRPUSDT")) == ["SL", "TP"]
    assert not w.risk.can_open("DOGEUSDT", 1)  # DEF-03: the recovered LONG counts
    w.run()  # a second pass changes nothing
    assert len(w.venue.open_orders("XRPUSDT")) == 2 and len(w.journal.open_trades()) == 1


def test_missing_leg_is_replaced_from_the_stored_level(tmp_path: Path):
    w = World(tmp_path)
    w.enter_long()
    tp_leg = next(o for o in w.venue.open_orders("XRPUSDT") if o.purpose == "TP")
    w.venue.cancel("XRPUSDT", tp_leg.order_id)  # someone cancelled it on the exchange
    w.run()
    legs = {o.purpose: o for o in w.venue.open_orders("XRPUSDT")}
    assert set(legs) == {"SL", "TP"} and legs["TP"].trigger_price == w.ledger.open.tp
    assert w.journal.order(tp_leg.client_id).status == "GONE"


def test_flat_symbol_with_a_stray_leg_is_cleaned(tmp_path: Path):
    w = World(tmp_path)
    w.venue.legs["stray"] = {"symbol": "XRPUSDT", "purpose": "TP", "client_id": "old", "side": "SELL", "quantity": 5.0, "trigger": 9.0}
    with w.journal.transaction() as tx:
        tx.upsert_order(OrderRow("old", "XRPUSDT", "TP", "SELL", "TAKE_PROFIT_MARKET", 5.0, "NEW", 0, 0, exchange_id="stray"))
    w.run()
    assert w.venue.open_orders("XRPUSDT") == [] and w.journal.order("old").status == "GONE"


def test_unconfirmed_close_is_settled_by_lookup(tmp_path: Path):
    w = World(tmp_path)
    pid = w.enter_long()
    qty = w.ledger.open.quantity
    with w.journal.transaction() as tx:  # the close was sent, then the answer was lost (timeout)
        tx.upsert_order(OrderRow("ct-R-x", "XRPUSDT", "REVERSE", "SELL", "MARKET", qty, "UNKNOWN", 0, 0, position_id=pid))
    res, _ = w.venue.market_order("XRPUSDT", "SELL", qty, reduce_only=True, client_id="ct-R-x")
    assert isinstance(res, OrderResult)
    w.run()
    t = w.journal.trade(pid)
    assert t.status == "CLOSED" and t.close_reason == "REVERSE"
