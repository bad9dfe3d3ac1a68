"""The service in live/demo mode end to end: the real python-binance client against the local fake Binance venue.

An entry is sent on the standard order endpoint, SL/TP on the algo endpoint (INC-22/23); a stop that fires on the
live venue (`ot = MARKET`, new order id) is recorded as SL through the ALGO_UPDATE linkage and the surviving TP
leg is cancelled (no orphan); every candle is decided once.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from fixtures.trader import RELAXED, options, settings
from trader_runtime.errors import ConfigError
from trader_runtime.market.synthetic import generate_market
from trader_runtime.service.app import TraderApp
from trader_runtime.storage.journal import JournalReader
from trader_runtime.testing.fake_exchange import DEMO, LIVE, FakeExchange, FakeExchangeConfig

HISTORY = 1100


@pytest.fixture(scope="module")
def frame():
    f = generate_market("XRPUSDT", 16, seed=5).combined
    f["oi_change"] = f["oi_change"].fillna(0.0)
    return f


def _drive(app: TraderApp, fx: FakeExchange, max_candles: int, done) -> int:
    async def main() -> int:
        runner = asyncio.create_task(app.run())
        while not app.ready:
            if runner.done():
                await runner
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)  # streams connected
        bot = app.bots["XRPUSDT"]
        n = 0
        for n in range(1, max_candles + 1):
            before = bot.stats.candles
            await fx.aadvance()
            for _ in range(500):
                if bot.stats.candles > before and bot.queue.empty():
                    break
                await asyncio.sleep(0.01)
            if done(app):
                break
        await asyncio.sleep(0.3)
        app.request_stop()
        await runner
        return n

    return asyncio.run(main())


def _closed_by_level(app: TraderApp) -> bool:
    with JournalReader(app.journal_path) as r:
        return any(t.close_reason in ("SL", "TP") for t in r.closed_trades())


@pytest.mark.parametrize("venue,mode", [(LIVE, "live"), (DEMO, "demo")], ids=["live-venue", "demo-venue"])
def test_entry_protection_and_level_exit_against_the_fake_venue(tmp_path: Path, frame, venue, mode):
    cfg = FakeExchangeConfig(history_candles=HISTORY, venue=venue, taker_fee_rate=0.0004)
    with FakeExchange(frame, symbol="XRPUSDT", config=cfg) as fx:
        keys = {"live": ("BINANCE_API_KEY", "BINANCE_API_SECRET"), "demo": ("BINANCE_DEMO_API_KEY", "BINANCE_DEMO_API_SECRET")}[mode]
        env = {"COINTRADER_MODE": mode, keys[0]: fx.api_key, keys[1]: fx.api_secret}
        path = tmp_path / "j.sqlite"
        app = TraderApp(settings(**env), options(path, frame, RELAXED, rest_url=fx.rest_url, ws_url=fx.ws_url,
                                                 reconcile_interval_s=3600))
        n = _drive(app, fx, 300, _closed_by_level)
        requests = fx.requests()
        snap = fx.snapshot()
    with JournalReader(path) as r:
        closed = r.closed_trades()
        decisions = r.decisions()
    level = [t for t in closed if t.close_reason in ("SL", "TP")]
    assert level, f"no SL/TP close in {n} candles: {[t.close_reason for t in closed]}"
    t = level[0]
    assert t.exit_price == pytest.approx(t.sl if t.close_reason == "SL" else t.tp, rel=1e-9)
    assert t.net_pnl == pytest.approx(t.gross_pnl - t.entry_fee - t.exit_fee) and t.entry_fee > 0 and t.exit_fee > 0
    assert len(decisions) == n and decisions["candle_ms"].diff().dropna().eq(900_000).all()
    posts = [(m, p) for m, p, _ in requests if m == "POST" and "order" in p.lower()]
    assert {p for _, p in posts} <= {"/fapi/v1/order", "/fapi/v1/algoOrder"}
    algo = [params for m, p, params in requests if m == "POST" and p == "/fapi/v1/algoOrder"]
    assert {a["type"] for a in algo} >= {"STOP_MARKET", "TAKE_PROFIT_MARKET"} and all(a["reduceOnly"] == "true" for a in algo)
    if not snap.positions:
        assert snap.open_algo_ids == []  # the surviving leg was cancelled: no orphan (INC-22)


def test_paper_mode_trades_live_candles_on_the_simulated_venue(tmp_path: Path, frame):
    with FakeExchange(frame, symbol="XRPUSDT", config=FakeExchangeConfig(history_candles=HISTORY)) as fx:
        path = tmp_path / "j.sqlite"
        app = TraderApp(settings(COINTRADER_MODE="paper"), options(path, frame, RELAXED, rest_url=fx.rest_url, ws_url=fx.ws_url))
        n = _drive(app, fx, 200, lambda a: a.bots["XRPUSDT"].stats.closes >= 1)
        requests = fx.requests()
    with JournalReader(path) as r:
        closed = r.closed_trades()
        decisions = r.decisions()
        venue = r.venue_state("paper.venue")
    assert closed and len(decisions) == n
    assert not any(m in ("POST", "DELETE") and "order" in p.lower() for m, p, _ in requests)  # no order ever left
    private = ("listenKey", "balance", "positionRisk", "account", "marginType", "leverage", "income")
    assert not any(any(k in p for k in private) for _, p, _ in requests)  # public endpoints only, no keys
    t = closed[0]
    assert t.net_pnl == pytest.approx(t.gross_pnl - t.entry_fee - t.exit_fee) and venue["wallet"] != 1000.0


def test_hedge_mode_account_is_refused_before_any_order(tmp_path: Path, frame):
    cfg = FakeExchangeConfig(history_candles=HISTORY, hedge_mode=True)
    with FakeExchange(frame, symbol="XRPUSDT", config=cfg) as fx:
        env = {"COINTRADER_MODE": "live", "BINANCE_API_KEY": fx.api_key, "BINANCE_API_SECRET": fx.api_secret}
        app = TraderApp(settings(**env), options(tmp_path / "j.sqlite", frame, RELAXED, rest_url=fx.rest_url, ws_url=fx.ws_url))
        with pytest.raises(ConfigError, match="hedge"):
            asyncio.run(app.run())
        requests = fx.requests()
    assert not any(m == "POST" and "order" in p.lower() for m, p, _ in requests)


def test_live_mode_without_keys_is_a_configuration_error(tmp_path: Path, frame):
    with FakeExchange(frame, symbol="XRPUSDT", config=FakeExchangeConfig(history_candles=HISTORY)) as fx:
        app = TraderApp(settings(COINTRADER_MODE="live"), options(tmp_path / "j.sqlite", frame, RELAXED, rest_url=fx.rest_url,
                                                                 ws_url=fx.ws_url))
        with pytest.raises(ConfigError, match="BINANCE_API_KEY"):
            asyncio.run(app.run())
