"""Positions, orders and executions as the runtime records them (one row each in the journal).

Plain frozen values shared by the trading service, the journal and the reports; times are epoch ms UTC.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TradeRow:
    """One position as stored (open or closed); times are epoch ms UTC."""

    position_id: str
    symbol: str
    side: str
    status: str
    mode: str
    entry_time_ms: int
    entry_price: float
    quantity: float
    entry_fee: float = 0.0
    entry_candle_ms: int | None = None
    leverage: int | None = None
    sl: float | None = None
    tp: float | None = None
    closed_qty: float = 0.0
    realized_acc: float = 0.0
    exit_fee_acc: float = 0.0
    exit_notional_acc: float = 0.0
    exit_time_ms: int | None = None
    exit_candle_ms: int | None = None
    exit_price: float | None = None
    gross_pnl: float | None = None
    exit_fee: float | None = None
    net_pnl: float | None = None
    close_reason: str | None = None
    model_version: str | None = None
    ml_proba: float | None = None
    rsi: float | None = None
    macd_hist: float | None = None
    atr: float | None = None
    adx: float | None = None
    recovered: int = 0
    anomaly: str | None = None
    extra: str | None = None

    @property
    def open_quantity(self) -> float:
        return self.quantity - self.closed_qty


@dataclass(frozen=True, slots=True)
class OrderRow:
    client_id: str
    symbol: str
    purpose: str  # ENTRY, SL, TP, REVERSE, EMERGENCY, END_OF_DATA, CLOSE
    side: str  # BUY / SELL
    type: str
    quantity: float
    status: str  # INTENT, NEW, FILLED, CANCELED, EXPIRED, REJECTED, UNKNOWN
    created_ms: int
    updated_ms: int
    position_id: str | None = None
    trigger_price: float | None = None
    exchange_id: str | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class FillRow:
    fill_key: str
    symbol: str
    order_id: str
    time_ms: int
    side: str
    price: float
    quantity: float
    realized_pnl: float
    commission: float
    commission_asset: str
    reduce_only: bool
    position_id: str | None = None
    client_id: str | None = None
