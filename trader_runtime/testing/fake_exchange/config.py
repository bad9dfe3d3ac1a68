"""Settings of one fake exchange instance and the two venue behaviours it can imitate (spec 30 §5.6)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class VenueBehaviour:
    """How conditional (algo) orders look from the client, which differs between Binance live and demo."""

    name: str
    #: standard `openOrders`, `allOpenOrders` cancel and `DELETE /order` also see algo orders
    algo_in_standard_queries: bool
    #: the order created by a trigger reports `ot = STOP_MARKET/TAKE_PROFIT_MARKET` (else `ot = MARKET`)
    trigger_keeps_original_type: bool
    #: the user-stream order id `i` of a triggered order equals the `algoId` (else a new id)
    trigger_reuses_algo_id: bool
    #: reduce-only conditional orders are EXPIRED as soon as the position is flat (else they stay: orphans)
    expire_reduce_only_when_flat: bool
    #: the placement answer carries `orderId` besides `algoId`
    algo_response_has_order_id: bool


#: Binance production as observed on 2026-03-23: only `algoId`, `ot = MARKET`, orphans, invisible to standard queries
LIVE = VenueBehaviour("live", False, False, False, False, False)
#: Binance demo trading as observed on the same day (the "testnet" column of spec 30 §5.6)
DEMO = VenueBehaviour("demo", True, True, True, True, True)


@dataclass(frozen=True, slots=True)
class FakeExchangeConfig:
    """Knobs of the fake; defaults are Binance's where Binance has one.

    time_source: "replay" stamps every exchange time (server time, events, orders, income) with the replay clock —
    the instant the last candle closed — so runs are deterministic; "wall" uses the machine clock like the real venue.
    history_candles: candles already closed when the exchange starts (None = min(1000, n - 1)).
    hedge_mode: only what `GET positionSide/dual` reports (for the one-way-mode start-up check); trading is one-way.
    recv_window_check: refuse signed requests whose `timestamp` is off the exchange time by more than recvWindow
    (-1021); with time_source="replay" only clients that synced to the server time (AsyncClient) pass.
    """

    api_key: str = "fake-api-key"
    api_secret: str = "fake-api-secret"
    initial_balance_usdt: float = 1000.0
    taker_fee_rate: float = 0.0005
    slippage_bps: float = 0.0
    default_leverage: int = 20
    default_margin_type: Literal["ISOLATED", "CROSSED"] = "CROSSED"
    hedge_mode: bool = False
    venue: VenueBehaviour = LIVE
    time_source: Literal["replay", "wall"] = "replay"
    history_candles: int | None = None
    emit_forming_klines: bool = True
    listen_key_ttl_s: float = 3600.0
    recv_window_check: bool = False
    open_interest_base: float = 5_000_000.0
    funding_rate_default: float = 0.0001

    def __post_init__(self) -> None:
        if self.initial_balance_usdt < 0:
            raise ValueError(f"initial_balance_usdt={self.initial_balance_usdt} must be >= 0")
        if not 0 <= self.taker_fee_rate < 0.01:
            raise ValueError(f"taker_fee_rate={self.taker_fee_rate} must be in [0, 0.01)")
        if not 0 <= self.slippage_bps < 1000:
            raise ValueError(f"slippage_bps={self.slippage_bps} must be in [0, 1000)")
        if not 1 <= self.default_leverage <= 125:
            raise ValueError(f"default_leverage={self.default_leverage} must be in [1, 125]")
        if self.time_source not in ("replay", "wall"):
            raise ValueError(f"time_source={self.time_source!r} must be 'replay' or 'wall'")
