"""Orders and executions as every exchange mode reports them: market-order outcomes, fills, SL/TP legs, resting
orders. Plain frozen values; sides are "BUY"/"SELL", times epoch ms UTC (the exchange port speaks in these)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

OrderSide = Literal["BUY", "SELL"]
Purpose = Literal["SL", "TP"]


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution. `fill_key` is unique per execution across every delivery path (REST answer, stream, replay)."""

    symbol: str
    fill_key: str
    order_id: str
    client_id: str | None
    time_ms: int
    side: OrderSide
    price: float
    quantity: float
    realized_pnl: float
    commission: float
    commission_asset: str
    reduce_only: bool
    order_type: str  # original type: MARKET, STOP_MARKET, TAKE_PROFIT_MARKET, LIQUIDATION …
    liquidation: bool = False


@dataclass(frozen=True, slots=True)
class OrderResult:
    """Outcome of a market order: its fills so far (a timeout never becomes a fill; reconcile instead)."""

    symbol: str
    order_id: str
    client_id: str
    status: str  # NEW, PARTIALLY_FILLED, FILLED, CANCELED, EXPIRED, REJECTED
    fills: tuple[Fill, ...] = ()

    @property
    def executed_qty(self) -> float:
        return sum(f.quantity for f in self.fills)

    @property
    def avg_price(self) -> float:
        qty = self.executed_qty
        return sum(f.price * f.quantity for f in self.fills) / qty if qty > 0 else 0.0


@dataclass(frozen=True, slots=True)
class ProtectiveOrder:
    """An SL or TP leg as placed: `order_id` is what cancels it (the algoId on Binance, spec 30 §5.6)."""

    symbol: str
    purpose: Purpose
    order_id: str
    client_id: str
    side: OrderSide
    quantity: float
    trigger_price: float


@dataclass(frozen=True, slots=True)
class OpenOrder:
    """A resting order as the exchange lists it; standard and conditional (algo) orders merged (DEF-05)."""

    symbol: str
    order_id: str
    client_id: str | None
    type: str
    side: OrderSide
    quantity: float
    trigger_price: float | None
    reduce_only: bool
    is_algo: bool

    @property
    def purpose(self) -> Purpose | None:
        if self.type in ("STOP_MARKET", "STOP"):
            return "SL"
        if self.type in ("TAKE_PROFIT_MARKET", "TAKE_PROFIT"):
            return "TP"
        return None
