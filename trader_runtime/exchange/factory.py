"""Mode → adapter table (D4): `replay`, `paper`, `demo`, `live`. A table of builders, not an if-chain (STYLE 2.1).

Each builder receives an `ExchangeContext` (settings, options, the journal's checkpoint hooks) and returns an
object implementing `exchange.port.Exchange`. Replay data comes from the synthetic market (default), the DuckDB
warehouse or a parquet file in the combined schema; its symbol rules are the real Binance filters for the usual
symbols (continuous prices: the backtester does not round to ticks either).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from trader_runtime.backtest.fills import FillModel
from trader_runtime.config import RuntimeSettings
from trader_runtime.errors import ConfigError, DataError
from trader_runtime.exchange.port import Exchange, SymbolRules
from trader_runtime.exchange.replay import CURSOR_KEY, VENUE_KEY, ReplayExchange
from trader_runtime.exchange.simulated import SimulatedVenue
from trader_runtime.market.symbols import LOT_RULES

#: LOT_SIZE step and MIN_NOTIONAL of common USD-M symbols
KNOWN_RULES = LOT_RULES


@dataclass(frozen=True)
class ReplaySource:
    kind: str = "synthetic"  # synthetic | warehouse | parquet
    path: Path | None = None
    days: int = 30
    seed: int = 42
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    frames: dict[str, pd.DataFrame] | None = field(default=None, compare=False, repr=False)  # given directly (tests)

    def fingerprint(self, symbols: list[str]) -> str:
        if self.frames is not None:
            digest = hashlib.sha256()
            for s in symbols:
                f = self.frames[s]
                digest.update(f"{s}:{len(f)}:{f.index[0]}:{f.index[-1]}:{float(f['close'].sum()):.10g}".encode())
            return f"frames:{digest.hexdigest()[:16]}"
        where = self.path if self.kind != "synthetic" else f"days={self.days},seed={self.seed}"
        return f"{self.kind}:{where}:{','.join(symbols)}:{self.start}:{self.end}"


@dataclass
class ExchangeContext:
    settings: RuntimeSettings
    symbols: list[str]
    warmup: int
    replay: ReplaySource = field(default_factory=ReplaySource)
    speed: float = 0.0
    initial_balance: float = 1000.0
    fill_model: FillModel = field(default_factory=FillModel)
    rest_url: str | None = None
    ws_url: str | None = None
    load_state: Callable[[str], dict[str, Any] | None] = lambda key: None
    save_state: Callable[[str, dict[str, Any]], None] | None = None
    #: the replay cursor's per-candle save (may be coalesced with the other per-candle rows); else `save_state`
    save_progress: Callable[[str, dict[str, Any]], None] | None = None


def replay_rules(symbol: str, price: float) -> SymbolRules:
    if symbol in KNOWN_RULES:
        step, min_notional = KNOWN_RULES[symbol]
    else:  # a step worth ~0.1-1 USDT at the current price, like Binance's listings
        step = 10.0 ** math.ceil(math.log10(max(0.1 / price, 1e-8))) if price > 0 else 1.0
        step = max(step, 1e-8)
        min_notional = 5.0
    return SymbolRules(symbol, qty_step=step, tick_size=0.0, min_notional=min_notional)


def load_replay_frames(source: ReplaySource, symbols: list[str]) -> dict[str, pd.DataFrame]:
    if source.frames is not None:
        missing = [s for s in symbols if s not in source.frames]
        if missing:
            raise DataError(f"replay frames missing for {missing}")
        return {s: source.frames[s] for s in symbols}
    if source.kind == "synthetic":
        from trader_runtime.market.synthetic import generate_market

        if source.days < 12:
            raise ConfigError(f"--days={source.days}: the synthetic replay needs >= 12 days (1,000 warm-up candles + trading)")
        return {s: generate_market(s, source.days, source.seed).combined for s in symbols}
    if source.kind == "warehouse":
        from trader_runtime.storage.warehouse import Warehouse

        if source.path is None or not Path(source.path).exists():
            raise ConfigError(f"warehouse {source.path} does not exist; import data first (cointrader data import)")
        wh = Warehouse(source.path)
        frames = {s: wh.read_candles(s, source.start, source.end) for s in symbols}
        empty = [s for s, f in frames.items() if f.empty]
        if empty:
            raise DataError(f"warehouse {source.path} has no candles for {empty} in [{source.start}, {source.end})")
        return _common_axis(frames)
    if source.kind == "parquet":
        if source.path is None or not Path(source.path).exists():
            raise ConfigError(f"replay file {source.path} does not exist")
        if len(symbols) != 1:
            raise ConfigError("a parquet replay file holds one symbol; pass exactly one --symbols entry")
        from trader_runtime.market.quality import admit_candles

        try:
            raw = pd.read_parquet(source.path)
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several unrelated types for unreadable files
            raise DataError(f"{source.path}: not a readable parquet file ({type(exc).__name__})") from None
        df = admit_candles(raw, source=str(source.path)).frame  # the data gate every entry point uses
        if source.start is not None or source.end is not None:
            idx = df.index
            mask = (idx >= (source.start or idx.min())) & (idx < (source.end or idx.max() + pd.Timedelta(1, "ms")))
            df = df[mask]
            if df.empty:
                raise DataError(f"{source.path} has no candles in [{source.start}, {source.end})")
        return {symbols[0]: df}
    raise ConfigError(f"replay source {source.kind!r}; allowed synthetic, warehouse or a parquet file")


def _common_axis(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    common = None
    for f in frames.values():
        common = f.index if common is None else common.intersection(f.index)
    return {s: f.loc[common] for s, f in frames.items()}


def _build_replay(ctx: ExchangeContext) -> Exchange:
    frames = load_replay_frames(ctx.replay, ctx.symbols)
    fingerprint = ctx.replay.fingerprint(ctx.symbols)
    cursor = ctx.load_state(CURSOR_KEY)
    venue_state = ctx.load_state(VENUE_KEY) if cursor is not None else None
    first = {s: float(f["close"].iloc[min(ctx.warmup, len(f) - 1)]) for s, f in frames.items()}
    rules = {s: replay_rules(s, first[s]) for s in ctx.symbols}
    venue = SimulatedVenue(rules, ctx.fill_model, ctx.initial_balance, state=venue_state)
    return ReplayExchange(frames, venue, warmup=ctx.warmup, speed=ctx.speed, persist=ctx.save_state,
                          persist_progress=ctx.save_progress, resume=cursor, fingerprint=fingerprint)  # fmt: skip


def _build_paper(ctx: ExchangeContext) -> Exchange:
    from trader_runtime.exchange.paper import build_paper

    return build_paper(ctx)


def _build_binance(ctx: ExchangeContext) -> Exchange:
    from trader_runtime.exchange.binance.client import build_binance

    return build_binance(ctx)


BUILDERS: dict[str, Callable[[ExchangeContext], Exchange]] = {
    "replay": _build_replay,
    "paper": _build_paper,
    "demo": _build_binance,
    "live": _build_binance,
}


def build_exchange(ctx: ExchangeContext) -> Exchange:
    mode = ctx.settings.mode
    if mode not in BUILDERS:
        raise ConfigError(f"COINTRADER_MODE={mode!r}; allowed {sorted(BUILDERS)}")
    return BUILDERS[mode](ctx)
