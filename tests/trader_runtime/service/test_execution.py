"""Entry order flow: SL/TP placement retries with independent legs, emergency close with real PnL (INC-17, DEF-07)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fixtures.trader import WARMUP, decisions, journal_trades, replay_slice, run_replay_until
from trader_runtime.backtest.fills import FillModel
from trader_runtime.errors import OrderRejected
from trader_runtime.exchange.factory import replay_rules
from trader_runtime.exchange.replay import ReplayExchange
from trader_runtime.exchange.simulated import SimulatedVenue
from trader_runtime.storage.journal import JournalReader


class RefusingLegs:
    """A real replay venue that refuses the first `n` placements of one leg (fault injection around a real part)."""

    def __init__(self, inner: ReplayExchange, purpose: str, n: int) -> None:
        self.inner, self.purpose, self.n = inner, purpose, n
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def place_protective(self, symbol, purpose, side, quantity, trigger_price, client_id):
        self.calls.append(purpose)
        if purpose == self.purpose and self.calls.count(purpose) <= self.n:
            raise OrderRejected(f"{symbol}: test venue refuses {purpose} #{self.calls.count(purpose)}")
        return await self.inner.place_protective(symbol, purpose, side, quantity, trigger_price, client_id)


def _exchange(frame, purpose: str, n: int) -> RefusingLegs:
    venue = SimulatedVenue({"XRPUSDT": replay_rules("XRPUSDT", 2.0)}, FillModel(), 1000.0)
    return RefusingLegs(ReplayExchange({"XRPUSDT": frame}, venue, warmup=WARMUP), purpose, n)


def _entered(app) -> bool:
    return app.bots["XRPUSDT"].stats.entries >= 1 or app.bots["XRPUSDT"].stats.closes >= 1


def test_tp_refused_twice_then_placed_sl_sent_once(tmp_path: Path, synth):
    frame = replay_slice(synth, WARMUP + 300, 200)
    ex = _exchange(frame, "TP", 2)
    path = tmp_path / "j.sqlite"
    run_replay_until(path, frame, _entered, app_kwargs={"exchange": ex})
    assert ex.calls[:4] == ["SL", "TP", "TP", "TP"]
    with JournalReader(path) as r:
        t = r.trades_frame().iloc[-1]
        legs = [o for o in r.orders(position_id=t["position_id"]) if o.purpose in ("SL", "TP")]
    assert [o.status for o in legs if o.purpose == "TP"] == ["REJECTED", "REJECTED", "NEW"]
    assert [o.status for o in legs if o.purpose == "SL"] == ["NEW"]
    assert t["close_reason"] != "EMERGENCY"


def test_tp_refused_three_times_means_emergency_close_with_real_pnl(tmp_path: Path, synth, webhook):
    frame = replay_slice(synth, WARMUP + 300, 200)
    ex = _exchange(frame, "TP", 3)
    path = tmp_path / "j.sqlite"
    app = run_replay_until(path, frame, lambda a: a.bots["XRPUSDT"].stats.closes >= 1, app_kwargs={"exchange": ex},
                           env={"DISCORD_WEBHOOK_URL": webhook.url})
    trades = journal_trades(path)
    t = trades.iloc[0]
    assert t["close_reason"] == "EMERGENCY" and t["exit_candle_ms"] == t["entry_candle_ms"]
    assert t["net_pnl"] == t["gross_pnl"] - t["entry_fee"] - t["exit_fee"] and t["net_pnl"] < 0  # fees + slippage, recorded
    assert app.risk.snapshot().open_positions == {}
    with JournalReader(path) as r:
        sl = [o for o in r.orders(position_id=t["position_id"]) if o.purpose == "SL"]
    assert [o.status for o in sl] in (["CANCELED"], ["GONE"]) and ex.inner.venue.open_orders("XRPUSDT") == []
    assert any("emergency close done" in m for m in webhook.messages)
    assert decisions(path)["action"].str.contains("EMERGENCY").any()


class RefusingEntries:
    """A real replay venue that refuses the first `n` entry market orders (e.g. -2019 insufficient margin)."""

    def __init__(self, inner: ReplayExchange, n: int) -> None:
        self.inner, self.n, self.refused = inner, n, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def market_order(self, symbol, side, quantity, *, reduce_only, client_id):
        if not reduce_only and self.refused < self.n:
            self.refused += 1
            raise OrderRejected(f"{symbol}: Binance -2019: Margin is insufficient.")
        return await self.inner.market_order(symbol, side, quantity, reduce_only=reduce_only, client_id=client_id)


def test_a_rejected_entry_is_contained_and_the_next_candles_go_on(tmp_path: Path, synth, webhook):
    frame = replay_slice(synth, WARMUP + 300, 200)
    venue = SimulatedVenue({"XRPUSDT": replay_rules("XRPUSDT", 2.0)}, FillModel(), 1000.0)
    ex = RefusingEntries(ReplayExchange({"XRPUSDT": frame}, venue, warmup=WARMUP), 1)
    path = tmp_path / "j.sqlite"
    app = run_replay_until(path, frame, lambda a: a.bots["XRPUSDT"].stats.entries >= 1, app_kwargs={"exchange": ex},
                           env={"DISCORD_WEBHOOK_URL": webhook.url})
    d = decisions(path)
    rejected = d.index[d["action"] == "REJECTED"]
    assert len(rejected) == 1 and (d.loc[rejected[0] + 1 :, "action"] == "ENTRY").any()  # DEF-08
    assert app.bots["XRPUSDT"].stats.errors == 0 and any("order error" in m for m in webhook.messages)
    with JournalReader(path) as r:
        assert [o.status for o in r.orders(purpose="ENTRY")][0] == "REJECTED"


def test_a_balance_that_cannot_margin_the_minimum_sends_no_order(tmp_path: Path, synth):
    frame = replay_slice(synth, WARMUP + 300, 60)
    venue = SimulatedVenue({"XRPUSDT": replay_rules("XRPUSDT", 2.0)}, FillModel(), 0.3)  # 5 USDT at 10x needs 0.5
    ex = ReplayExchange({"XRPUSDT": frame}, venue, warmup=WARMUP)
    path = tmp_path / "j.sqlite"
    run_replay_until(path, frame, lambda a: a.bots["XRPUSDT"].stats.decisions >= 60, app_kwargs={"exchange": ex})
    d = decisions(path)
    assert (d["action"] == "SKIPPED_SIZE").any() and not d["action"].isin(["ENTRY", "REJECTED"]).any()  # DEF-19
    with JournalReader(path) as r:
        assert r.order_count() == 0
