"""Operator control of a trader running two strategies (XRP weighted signal, DOGE MTF pullback), through the real
HTTP endpoint: `reload` re-reads each symbol's parameters for the strategy it runs (MTF parameters included; a
parameter of the other strategy set for a symbol is refused in one line, nothing changed), and switching the ML
filter on is refused while a symbol trades a strategy without one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from fixtures.trader import RELAXED, settings
from tests.trader_runtime.service.test_control import SLOW, _token, drive, post, until
from trader_runtime.credentials import write_private_file
from trader_runtime.exchange.factory import ReplaySource
from trader_runtime.market.synthetic import generate_market
from trader_runtime.service.app import TraderApp, TraderOptions
from trader_runtime.service.execution import RetryPolicy
from trader_runtime.storage.journal import JournalReader
from trader_runtime.strategy.mtf_pullback import MTFParams
from trader_runtime.strategy.mtf_pullback.live import LIVE_MIN_CANDLES


def test_reload_and_ml_mode_with_a_mixed_trader(tmp_path: Path, monkeypatch):
    token_file = tmp_path / "control.token"
    write_private_file(token_file)
    monkeypatch.chdir(tmp_path)  # the default reload reads ./.env and the environment
    frames = {s: generate_market(s, 46, seed=5).combined.iloc[-(LIVE_MIN_CANDLES + 200):] for s in ("XRPUSDT", "DOGEUSDT")}
    opts = TraderOptions(journal_path=tmp_path / "j.sqlite", replay=ReplaySource(frames=frames), http_port=0, speed=SLOW,
                         retry=RetryPolicy(attempts=3, pause_s=0.0), params={"XRPUSDT": RELAXED, "DOGEUSDT": MTFParams()})  # fmt: skip
    app = TraderApp(settings(SYMBOLS="XRPUSDT,DOGEUSDT", COINTRADER_CONTROL_TOKEN_FILE=str(token_file)), opts,
                    strategy_env={"STRATEGY_DOGEUSDT": "mtf-pullback"})  # fmt: skip
    token = _token(token_file)
    seen: dict[str, Any] = {}

    async def scenario(app: TraderApp, base: str, s: aiohttp.ClientSession) -> None:
        doge, xrp = app.bots["DOGEUSDT"], app.bots["XRPUSDT"]
        await until(lambda: doge.stats.decisions >= 2, "a few decisions")
        (tmp_path / ".env").write_text("ATR_SL_MULT_DOGEUSDT=2.5\n")  # a weighted-signal parameter for the MTF symbol
        seen["stray"] = await post(s, base, "reload", {"reason": "wrong variable"}, token)
        seen["after_stray"] = (doge.params.atr_sl_mult, doge.engine.params.sl_mult)
        (tmp_path / ".env").write_text("MTF_SL_MULT_DOGEUSDT=2.0\nMTF_DRY_RATIO=0.8\nSIGNAL_THRESHOLD=3\n")
        seen["reload"] = await post(s, base, "reload", {"reason": "wider MTF stop"}, token)
        seen["doge"] = (doge.params.atr_sl_mult, doge.params.atr_tp_mult, doge.executor.params.atr_sl_mult,
                        doge.engine.params.sl_mult, doge.engine.params.dry_ratio, app.strategy_params["DOGEUSDT"].sl_mult)  # fmt: skip
        seen["xrp"] = (xrp.params.signal_threshold, xrp.engine.params.signal_threshold, xrp.params.atr_sl_mult)
        seen["again"] = await post(s, base, "reload", {"reason": "same again"}, token)
        (tmp_path / ".env").write_text("MTF_SL_MULT_DOGEUSDT=2.0\nMTF_DRY_RATIO=0.8\nSIGNAL_THRESHOLD=3\nSTRATEGY_DOGEUSDT=weighted-signal\n")
        seen["switch"] = await post(s, base, "reload", {"reason": "other strategy"}, token)
        seen["shadow"] = await post(s, base, "ml-mode", {"mode": "shadow", "reason": "watch it"}, token)
        seen["on"] = await post(s, base, "ml-mode", {"mode": "on", "reason": "use it"}, token)
        seen["ml"] = (app.ml_mode, xrp.ml_mode, doge.ml_mode)
        last = doge.stats.last_candle_ms
        await until(lambda: doge.stats.last_candle_ms > last, "a later candle")  # still deciding after the reload

    drive(app, scenario)
    code, body = seen["stray"]
    assert code == 400 and "ATR_SL_MULT_DOGEUSDT is a parameter of the weighted signal strategy, but DOGEUSDT runs the MTF pullback" in body["error"]
    assert "\n" not in body["error"] and seen["after_stray"] == (1.5, 1.5)
    code, body = seen["reload"]
    assert code == 200 and body["changed"]
    assert "DOGEUSDT dry_ratio 0.5→0.8, sl_mult 1.5→2.0 (" in body["detail"] and "XRPUSDT signal_threshold 2→3" in body["detail"]
    assert seen["doge"] == (2.0, 2.3, 2.0, 2.0, 0.8, 2.0)
    assert seen["xrp"] == (3, 3, RELAXED.atr_sl_mult)
    assert seen["again"][0] == 200 and seen["again"][1]["changed"] is False
    code, body = seen["switch"]  # a strategy is chosen at start; a new name in the file changes nothing running
    assert code == 200 and body["changed"] is False and app.strategies["DOGEUSDT"].name == "mtf-pullback"
    for mode in ("shadow", "on"):
        code, body = seen[mode]
        assert code == 409 and body["error"] == "DOGEUSDT trades the MTF pullback strategy, which has no ML filter; ML mode stays off"
    assert seen["ml"] == ("off", "off", "off")
    with JournalReader(tmp_path / "j.sqlite") as r:
        actions = [(e["detail"]["action"], e["detail"]["changed"]) for e in r.events("CONTROL")]
    assert actions == [("reload", True), ("reload", False), ("reload", False)]  # refusals change and record nothing
