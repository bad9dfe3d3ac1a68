"""Fills in, trade records out: partial fills (INC-13, DEF-24), D3 net PnL (DEF-13), reasons from intent (DEF-06/14)."""

from __future__ import annotations

from pathlib import Path

import pytest

from trader_runtime.config import RiskLimits
from trader_runtime.exchange.port import Fill, OrderResult
from trader_runtime.risk.kill_switch import KillSwitch
from trader_runtime.risk.risk_manager import LedgerAnchored, RiskManager
from trader_runtime.service.lifecycle import PositionLedger
from trader_runtime.storage.journal import Journal, OrderRow

T0 = 1_767_225_600_000


@pytest.fixture()
def ledger(tmp_path: Path) -> PositionLedger:
    j = Journal(tmp_path / "j.sqlite", durable=False)
    risk = RiskManager(RiskLimits(), 1, 1000.0)
    risk.apply(LedgerAnchored(1000.0))
    return PositionLedger("XRPUSDT", "replay", j, risk, KillSwitch("XRPUSDT", RiskLimits()), leverage=10, now_ms=lambda: T0)


def _fill(key, side, price, qty, rp=0.0, fee=0.0, client=None, order="9", kind="MARKET", reduce=False, liq=False, t=T0):
    return Fill("XRPUSDT", key, order, client, t, side, price, qty, rp, fee, "USDT", reduce, kind, liq)


def _open_long(ledger: PositionLedger, qty: float = 100.0, fee: float = 0.02) -> None:
    ledger.record_order(OrderRow("E1", "XRPUSDT", "ENTRY", "BUY", "MARKET", qty, "INTENT", T0, T0, position_id="E1"))
    result = OrderResult("XRPUSDT", "1", "E1", "FILLED", (_fill("1:1", "BUY", 1.30, qty, fee=fee, client="E1", order="1"),))
    ledger.open_from_order(result, side=1, candle_ms=T0, sl=1.2, tp=1.4, snapshot={}, model_version="7", ml_proba=0.6)


def test_net_pnl_is_gross_minus_both_fees(ledger: PositionLedger):
    _open_long(ledger, fee=0.02)
    closed = ledger.apply_fill(_fill("2:1", "SELL", 1.31, 100.0, rp=1.00, fee=0.02, reduce=True, t=T0 + 5))
    t = closed.trade
    assert (t.gross_pnl, t.entry_fee, t.exit_fee) == (1.00, 0.02, 0.02) and t.net_pnl == pytest.approx(0.96)
    assert t.model_version == "7" and t.ml_proba == 0.6


def test_partial_fills_accumulate_into_one_close(ledger: PositionLedger):
    _open_long(ledger, qty=100.0, fee=0.0)
    assert ledger.apply_fill(_fill("3:1", "SELL", 1.34, 50.0, rp=0.5, fee=0.01, reduce=True, order="3"), order_status="PARTIALLY_FILLED") is None
    assert ledger.apply_fill(_fill("3:2", "SELL", 1.34, 30.0, rp=0.3, fee=0.01, reduce=True, order="3"), order_status="PARTIALLY_FILLED") is None
    assert ledger.open.open_quantity == pytest.approx(20.0)
    closed = ledger.apply_fill(_fill("3:3", "SELL", 1.34, 20.0, rp=0.2, fee=0.01, reduce=True, order="3"))
    assert closed.trade.net_pnl == pytest.approx(0.97) and closed.trade.exit_price == pytest.approx(1.34)
    assert closed.trade.close_reason == "MANUAL"  # not our order, no leg: never guessed as SL/TP
    assert ledger.journal.closed_trades("XRPUSDT")[0].net_pnl == pytest.approx(0.97)


def test_a_fill_delivered_twice_is_applied_once(ledger: PositionLedger):
    _open_long(ledger)
    f = _fill("4:1", "SELL", 1.25, 40.0, rp=-2.0, reduce=True)
    ledger.apply_fill(f)
    ledger.apply_fill(f)
    assert ledger.open.closed_qty == 40.0 and len(ledger.journal.fills()) == 2


@pytest.mark.parametrize(
    "purpose,kwargs,reason",
    [
        ("SL", {"kind": "STOP_MARKET"}, "SL"),
        ("TP", {"kind": "MARKET"}, "TP"),  # live algo trigger: `ot = MARKET`, matched by the stored leg id
        (None, {"liq": True, "kind": "LIQUIDATION"}, "LIQUIDATION"),
        ("REVERSE", {}, "REVERSE"),
        (None, {}, "MANUAL"),
    ],
)
def test_close_reason_from_intent_and_linkage(ledger: PositionLedger, purpose, kwargs, reason):
    _open_long(ledger)
    client = None
    if purpose is not None:
        client = f"c-{purpose}"
        ledger.record_order(OrderRow(client, "XRPUSDT", purpose, "SELL", "MARKET", 100.0, "NEW", T0, T0, position_id="E1",
                                     trigger_price=1.2 if purpose == "SL" else 1.4, exchange_id="77"))
    price = {"SL": 1.2, "TP": 1.4}.get(reason, 1.33)
    fill = _fill("5:1", "SELL", price, 100.0, rp=1.0, reduce=True, order="77" if purpose in ("SL", "TP") else "88",
                 client=client if purpose == "REVERSE" else None, **kwargs)
    closed = ledger.apply_fill(fill)
    assert closed.trade.close_reason == reason


def test_trigger_linked_through_the_algo_update(ledger: PositionLedger):
    _open_long(ledger)
    ledger.record_order(OrderRow("c-tp", "XRPUSDT", "TP", "SELL", "TAKE_PROFIT_MARKET", 100.0, "NEW", T0, T0,
                                 position_id="E1", trigger_price=1.4, exchange_id="algo-5"))
    ledger.linked["order-123"] = "c-tp"  # ALGO_UPDATE: algo-5 fired as order-123 (INC-22)
    closed = ledger.apply_fill(_fill("6:1", "SELL", 1.41, 100.0, rp=11.0, reduce=True, order="order-123"))
    assert closed.trade.close_reason == "TP"
    assert ledger.journal.order("c-tp").status == "FILLED"


def test_an_opening_fill_we_did_not_send_is_not_applied(ledger: PositionLedger):
    assert ledger.apply_fill(_fill("7:1", "BUY", 1.3, 10.0, client="web_123")) is None
    assert ledger.open is None and not ledger.journal.has_fill("7:1")
    assert ledger.journal.events("UNMATCHED_FILL")


def test_close_updates_risk_and_kill_switch_atomically(ledger: PositionLedger):
    for k in range(8):
        _open_long_k(ledger, k)
        closed = ledger.apply_fill(_fill(f"c{k}", "SELL", 1.2, 100.0, rp=-10.0, reduce=True, t=T0 + k * 1000 + 500))
    assert closed.kill is not None and ledger.kill.killed
    assert [r.action for r in ledger.journal.kill_rows("XRPUSDT")] == ["KILL"]
    assert ledger.risk.snapshot().open_positions == {} and ledger.risk.ledger == pytest.approx(1000.0 - 8 * 10.02)


def _open_long_k(ledger: PositionLedger, k: int) -> None:
    cid = f"E{k}"
    ledger.record_order(OrderRow(cid, "XRPUSDT", "ENTRY", "BUY", "MARKET", 100.0, "INTENT", T0, T0, position_id=cid))
    res = OrderResult("XRPUSDT", f"o{k}", cid, "FILLED", (_fill(f"e{k}", "BUY", 1.3, 100.0, fee=0.02, client=cid, order=f"o{k}", t=T0 + k * 1000),))
    ledger.open_from_order(res, side=1, candle_ms=None, sl=1.2, tp=1.4, snapshot={}, model_version=None, ml_proba=None)
