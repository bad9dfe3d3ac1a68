"""Mode → adapter table and replay data sources."""

from __future__ import annotations

import pytest

from fixtures.candles import random_walk
from trader_runtime.config import load_runtime_settings
from trader_runtime.errors import ConfigError, DataError
from trader_runtime.exchange.factory import BUILDERS, ExchangeContext, ReplaySource, build_exchange, load_replay_frames, replay_rules
from trader_runtime.exchange.replay import ReplayExchange


def test_every_mode_has_a_builder():
    assert set(BUILDERS) == {"replay", "paper", "demo", "live"}


def test_replay_from_given_frames_and_known_symbol_rules():
    settings = load_runtime_settings(SYMBOLS="XRPUSDT", COINTRADER_MODE="replay")
    frames = {"XRPUSDT": random_walk(60, seed=1)}
    ex = build_exchange(ExchangeContext(settings, ["XRPUSDT"], warmup=50, replay=ReplaySource(frames=frames)))
    assert isinstance(ex, ReplayExchange) and ex.mode == "replay"
    rules = ex.venue.rules["XRPUSDT"]
    assert (rules.qty_step, rules.min_notional, rules.tick_size) == (0.1, 5.0, 0.0)


def test_unknown_symbol_rules_scale_with_price():
    assert replay_rules("ABCUSDT", 0.002).qty_step == 100.0
    assert replay_rules("ABCUSDT", 3000.0).qty_step == 0.0001


def test_synthetic_source_needs_enough_days_and_files_must_exist(tmp_path):
    with pytest.raises(ConfigError, match="days"):
        load_replay_frames(ReplaySource("synthetic", days=5), ["XRPUSDT"])
    with pytest.raises(ConfigError, match="does not exist"):
        load_replay_frames(ReplaySource("parquet", path=tmp_path / "none.parquet"), ["XRPUSDT"])
    with pytest.raises(ConfigError, match="does not exist"):
        load_replay_frames(ReplaySource("warehouse", path=tmp_path / "none.duckdb"), ["XRPUSDT"])
    with pytest.raises(DataError):
        load_replay_frames(ReplaySource(frames={"XRPUSDT": random_walk(10)}), ["DOGEUSDT"])


def test_parquet_source_with_a_time_window(tmp_path):
    frame = random_walk(200, seed=2)
    path = tmp_path / "x.parquet"
    frame.to_parquet(path)
    got = load_replay_frames(ReplaySource("parquet", path=path, start=frame.index[50], end=frame.index[150]), ["XRPUSDT"])
    assert len(got["XRPUSDT"]) == 100
