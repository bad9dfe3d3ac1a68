"""Parameters and rule switches of the MTF pullback strategy (1-hour trend, 15-minute pullback; spec 40 Part B).

`MTFParams` are the tunable numbers (their sweep ranges sit in `PARAM_RANGES`); `MTFRules` switch between the
platform behaviour and the research script's (`MTFRules.legacy()`, only to reproduce its reference result).
Both are frozen, hashable and picklable, so sweeps can ship them to worker processes.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Literal

from trader_runtime.errors import ConfigError

Sequence = Literal["sticky", "strict3"]
VolumeRule = Literal["current", "previous"]
EntryPrice = Literal["next_open", "close"]
Warmup = Literal["research", "converged"]

#: integer codes the compiled kernel reads
SEQ_STICKY, SEQ_STRICT3 = 0, 1
VOL_CURRENT, VOL_PREVIOUS = 0, 1
ENTRY_NEXT_OPEN, ENTRY_CLOSE = 0, 1

#: hours of 15m history before START that the research script reads (B.2.1)
RESEARCH_LOOKBACK_HOURS = 250
#: closed 1h candles needed before the platform trades (EMA200 convergence, MTF-C)
MIN_HOURLY_CANDLES = 1000
#: closed 15m candles needed before the platform trades (D11)
MIN_15M_CANDLES = 1000


def _in(name: str, value: float, lo: float, hi: float) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or math.isnan(value) or not lo <= value <= hi:
        raise ConfigError(f"{name}={value!r} is out of range; allowed [{lo}, {hi}]")


def _int_in(name: str, value: int, lo: int, hi: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ConfigError(f"{name}={value!r} must be an integer in [{lo}, {hi}]")
    _in(name, value, lo, hi)


@dataclass(frozen=True, slots=True)
class MTFParams:
    """Strategy numbers; defaults are the research script's constants (B.1)."""

    ema_fast_1h: int = 50
    ema_slow_1h: int = 200
    adx_length: int = 14
    adx_threshold: float = 20.0
    atr_length: int = 14
    trigger_ema: int = 20
    volume_sma: int = 20
    dry_ratio: float = 0.5
    sl_mult: float = 1.5
    tp_mult: float = 2.3

    def __post_init__(self) -> None:
        _int_in("ema_fast_1h", self.ema_fast_1h, 2, 500)
        _int_in("ema_slow_1h", self.ema_slow_1h, 2, 1000)
        if self.ema_fast_1h >= self.ema_slow_1h:
            raise ConfigError(f"ema_fast_1h={self.ema_fast_1h} must be below ema_slow_1h={self.ema_slow_1h}")
        _int_in("adx_length", self.adx_length, 2, 200)
        _in("adx_threshold", self.adx_threshold, 0.0, 100.0)
        _int_in("atr_length", self.atr_length, 2, 200)
        _int_in("trigger_ema", self.trigger_ema, 2, 500)
        _int_in("volume_sma", self.volume_sma, 2, 500)
        _in("dry_ratio", self.dry_ratio, 0.01, 10.0)
        _in("sl_mult", self.sl_mult, 0.05, 50.0)
        _in("tp_mult", self.tp_mult, 0.05, 50.0)

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)

    def replace(self, **changes: float | int) -> "MTFParams":
        return replace(self, **changes)


#: sweep/tuning ranges: (low, high, step) per parameter; the sweep grid below is a subset of these
PARAM_RANGES: dict[str, tuple[float, float, float]] = {
    "sl_mult": (0.5, 4.0, 0.25),
    "tp_mult": (0.5, 6.0, 0.1),
    "adx_threshold": (10.0, 40.0, 1.0),
    "dry_ratio": (0.2, 1.0, 0.05),
    "trigger_ema": (10, 50, 1),
    "ema_fast_1h": (20, 100, 5),
    "ema_slow_1h": (100, 300, 10),
}

#: the documented sweep grid (key order = product order, last varies fastest): 3 × 3 × 3 × 3 × 2 = 162 combinations
SWEEP_GRID: dict[str, tuple[float | int, ...]] = {
    "sl_mult": (1.0, 1.5, 2.0),
    "tp_mult": (1.5, 2.3, 3.0),
    "adx_threshold": (15.0, 20.0, 25.0),
    "dry_ratio": (0.4, 0.5, 0.7),
    "trigger_ema": (15, 20),
}


@dataclass(frozen=True, slots=True)
class MTFRules:
    """Behaviour switches; the defaults are the platform behaviour (decisions MTF-A…F of spec 40 §B.8).

    - sequence: "sticky" = research rule (a pullback stays armed while the trend persists); "strict3" = the old
      dry-run bot's three-candle rule (pullback on t−1, resumption on t).
    - volume_rule: "current" = volume(t) < ratio × SMA(t) (research); "previous" = volume(t−1) / SMA(t−2) (bot).
    - entry_price: "next_open" = open of the candle after the resumption (research); "close" = resumption close.
    - warmup: "research" = 15m history from START − 250 h only, bar 0 of the window never decided (B.2, R-M1);
      "converged" = all history before START, no decision before 1,000 closed 1h and 1,000 closed 15m candles.
    - close_at_end: True = a trade still open after the last candle closes there as END_OF_DATA (MTF-F);
      False = it is dropped (research).
    - gap_fills: True = a candle opening beyond SL/TP fills at its open (platform engine rule); False = at the level.
    - fee_rate: taker fee per side; a trade pays it twice (−8 bps at the default).
    - slippage_rate: market fills (entries, the end-of-data close) are this much worse than the candle price.
    """

    sequence: Sequence = "sticky"
    volume_rule: VolumeRule = "current"
    entry_price: EntryPrice = "next_open"
    warmup: Warmup = "converged"
    close_at_end: bool = True
    gap_fills: bool = True
    fee_rate: float = 0.0004
    slippage_rate: float = 0.0

    def __post_init__(self) -> None:
        for name, value, allowed in (
            ("sequence", self.sequence, ("sticky", "strict3")),
            ("volume_rule", self.volume_rule, ("current", "previous")),
            ("entry_price", self.entry_price, ("next_open", "close")),
            ("warmup", self.warmup, ("research", "converged")),
        ):
            if value not in allowed:
                raise ConfigError(f"{name}={value!r}; allowed {' or '.join(map(repr, allowed))}")
        _in("fee_rate", self.fee_rate, 0.0, 0.05)
        _in("slippage_rate", self.slippage_rate, 0.0, 0.05)

    @classmethod
    def legacy(cls) -> "MTFRules":
        """The research script's rules (reproduces R-M1; keeps its known defects)."""
        return cls(warmup="research", close_at_end=False, gap_fills=False)

    @classmethod
    def old_bot(cls) -> "MTFRules":
        """The old dry-run bot's trigger (EMA length is a parameter: use trigger_ema=15 with it)."""
        return cls(sequence="strict3", volume_rule="previous", entry_price="close")

    @property
    def is_legacy(self) -> bool:
        return self == MTFRules.legacy()

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def kernel_codes(self) -> tuple[int, int, int]:
        return (
            SEQ_STICKY if self.sequence == "sticky" else SEQ_STRICT3,
            VOL_CURRENT if self.volume_rule == "current" else VOL_PREVIOUS,
            ENTRY_NEXT_OPEN if self.entry_price == "next_open" else ENTRY_CLOSE,
        )
