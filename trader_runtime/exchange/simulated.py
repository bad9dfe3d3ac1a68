"""A simulated USD-M account that fills through the backtester's fill model: the venue of `replay` and `paper`.

Why: replay/backtest parity must hold by construction (STYLE 2.2, Nautilus sandbox), so market orders fill with
`backtest.fills` slippage and fees, and SL/TP legs are checked against each closed candle with the same
`strategy.decision.check_sl_tp` the kernel uses (SL first, gap fills). Realised PnL per fill is
`fills.gross_pnl` on the position's entry price. The whole state is a JSON-able dict (`to_state`), so a replay
restarted from its journal continues with the same account, positions and resting legs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from trader_runtime.backtest.fills import FillModel, fill_fee, gross_pnl, market_entry_price
from trader_runtime.errors import DataError, OrderRejected
from trader_runtime.exchange.port import (
    ExchangePosition,
    Fill,
    FillEvent,
    IncomeRow,
    OpenOrder,
    OrderResult,
    OrderSide,
    OrderUpdate,
    ProtectiveOrder,
    Purpose,
    SymbolRules,
)
from trader_runtime.strategy.decision import HIT_NONE, HIT_SL, check_sl_tp

_QTY_TOL = 1e-9


@dataclass(frozen=True, slots=True)
class Bar:
    open: float
    high: float
    low: float
    close: float


class SimulatedVenue:
    """One USDT wallet, one-way positions per symbol, resting reduce-only SL/TP legs; single-threaded."""

    def __init__(
        self,
        rules: dict[str, SymbolRules],
        fill_model: FillModel,
        initial_balance: float,
        *,
        gap_fills: bool = True,
        state: dict[str, Any] | None = None,
    ) -> None:
        self.rules = rules
        self.fill_model = fill_model
        self.gap_fills = gap_fills
        self.clock_ms = 0
        self.wallet = float(initial_balance)
        self.positions: dict[str, dict[str, float]] = {}  # symbol -> {amount, entry_price, time_ms}
        self.legs: dict[str, dict[str, Any]] = {}  # order_id -> resting SL/TP leg
        self.orders: dict[str, dict[str, Any]] = {}  # client_id -> finished market order summary
        self.fills: list[dict[str, Any]] = []
        self.income: list[dict[str, Any]] = []
        self.last_price: dict[str, float] = {}
        self.leverage: dict[str, int] = {}
        self.isolated: dict[str, bool] = {}
        self.next_id = 1
        if state is not None:
            self._load(state)

    # ------------------------------------------------------------------------------------------ state
    def to_state(self) -> dict[str, Any]:
        return {
            "clock_ms": self.clock_ms, "wallet": self.wallet, "positions": self.positions, "legs": self.legs,
            "orders": self.orders, "fills": self.fills[-500:], "income": self.income[-500:],
            "last_price": self.last_price, "leverage": self.leverage, "isolated": self.isolated, "next_id": self.next_id,
        }  # fmt: skip

    def _load(self, s: dict[str, Any]) -> None:
        self.clock_ms = int(s["clock_ms"])
        self.wallet = float(s["wallet"])
        self.positions = {k: dict(v) for k, v in s["positions"].items()}
        self.legs = {k: dict(v) for k, v in s["legs"].items()}
        self.orders = dict(s["orders"])
        self.fills = list(s["fills"])
        self.income = list(s["income"])
        self.last_price = {k: float(v) for k, v in s["last_price"].items()}
        self.leverage = {k: int(v) for k, v in s["leverage"].items()}
        self.isolated = {k: bool(v) for k, v in s["isolated"].items()}
        self.next_id = int(s["next_id"])

    def _new_id(self) -> str:
        self.next_id += 1
        return str(self.next_id - 1)

    def rules_for(self, symbol: str) -> SymbolRules:
        if symbol not in self.rules:
            raise OrderRejected(f"{symbol}: unknown symbol on the simulated venue; known {sorted(self.rules)}")
        return self.rules[symbol]

    # ------------------------------------------------------------------------------------------ account
    def balance(self) -> float:
        return self.wallet

    def position(self, symbol: str) -> ExchangePosition | None:
        p = self.positions.get(symbol)
        if not p or abs(p["amount"]) <= _QTY_TOL:
            return None
        return ExchangePosition(symbol, p["amount"], p["entry_price"], int(p["time_ms"]))

    def prepare_symbol(self, symbol: str, leverage: int) -> None:
        self.rules_for(symbol)
        if not 1 <= leverage <= 125:
            raise OrderRejected(f"{symbol}: leverage={leverage} outside [1, 125]")
        self.isolated[symbol] = True
        self.leverage[symbol] = int(leverage)

    # ------------------------------------------------------------------------------------------ orders
    def market_order(self, symbol: str, side: OrderSide, quantity: float, *, reduce_only: bool, client_id: str) -> tuple[OrderResult, list[FillEvent]]:
        rules = self.rules_for(symbol)
        if client_id in self.orders:
            raise OrderRejected(f"{symbol}: duplicate client order id {client_id!r}")
        price0 = self.last_price.get(symbol)
        if price0 is None:
            raise OrderRejected(f"{symbol}: no market price yet on the simulated venue")
        if not quantity > 0 or not math.isfinite(quantity):
            raise OrderRejected(f"{symbol}: quantity={quantity!r} must be > 0")
        steps = quantity / rules.qty_step
        if abs(steps - round(steps)) > 1e-6:
            raise OrderRejected(f"{symbol}: quantity={quantity} is not a multiple of the step {rules.qty_step}")
        code = 1 if side == "BUY" else -1
        price = market_entry_price(code, price0, self.fill_model.slippage_rate)
        pos = self.positions.get(symbol, {"amount": 0.0, "entry_price": 0.0, "time_ms": self.clock_ms})
        if reduce_only:
            if pos["amount"] == 0 or (pos["amount"] > 0) == (code > 0):
                raise OrderRejected(f"{symbol}: reduce-only {side} {quantity} would not reduce position {pos['amount']}")
            quantity = min(quantity, abs(pos["amount"]))
        else:
            if quantity * price < rules.min_notional * (1 - 1e-12):
                raise OrderRejected(f"{symbol}: notional {quantity * price:.4f} below the minimum {rules.min_notional}")
            lev = self.leverage.get(symbol, 20)
            if quantity * price / lev > self._available():
                raise OrderRejected(f"{symbol}: margin is insufficient for {quantity} @ {price:.6f} x{lev}")
        order_id = self._new_id()
        fill = self._execute(symbol, order_id, client_id, side, quantity, price, reduce_only, "MARKET")
        result = OrderResult(symbol, order_id, client_id, "FILLED", (fill,))
        self.orders[client_id] = {"symbol": symbol, "order_id": order_id, "status": "FILLED", "fill_keys": [fill.fill_key]}
        events = [FillEvent(fill, "FILLED")] + self._expire_legs_if_flat(symbol)
        return result, events

    def place_protective(self, symbol: str, purpose: Purpose, side: OrderSide, quantity: float, trigger_price: float,
                         client_id: str) -> ProtectiveOrder:
        self.rules_for(symbol)
        if not (trigger_price > 0 and math.isfinite(trigger_price)):
            raise OrderRejected(f"{symbol}: {purpose} trigger price {trigger_price!r} must be a positive number")
        pos = self.position(symbol)
        if pos is None:
            raise OrderRejected(f"{symbol}: reduce-only {purpose} with no open position")
        last = self.last_price.get(symbol, trigger_price)
        long = pos.amount > 0
        immediate = (purpose == "SL" and ((long and trigger_price >= last) or (not long and trigger_price <= last))) or (
            purpose == "TP" and ((long and trigger_price <= last) or (not long and trigger_price >= last))
        )
        if immediate:
            raise OrderRejected(f"{symbol}: {purpose} trigger {trigger_price} would trigger immediately (last {last})")
        order_id = self._new_id()
        self.legs[order_id] = {"symbol": symbol, "purpose": purpose, "client_id": client_id, "side": side,
                               "quantity": float(quantity), "trigger": float(trigger_price)}  # fmt: skip
        return ProtectiveOrder(symbol, purpose, order_id, client_id, side, float(quantity), float(trigger_price))

    def cancel(self, symbol: str, order_id: str) -> bool:
        leg = self.legs.get(order_id)
        if leg is None or leg["symbol"] != symbol:
            return False
        del self.legs[order_id]
        return True

    def open_orders(self, symbol: str) -> list[OpenOrder]:
        out = []
        for oid, leg in self.legs.items():
            if leg["symbol"] == symbol:
                kind = "STOP_MARKET" if leg["purpose"] == "SL" else "TAKE_PROFIT_MARKET"
                out.append(OpenOrder(symbol, oid, leg["client_id"], kind, leg["side"], leg["quantity"], leg["trigger"], True, True))
        return out

    def lookup_order(self, symbol: str, client_id: str) -> OrderResult | None:
        info = self.orders.get(client_id)
        if info is None or info["symbol"] != symbol:
            return None
        keys = set(info["fill_keys"])
        fills = tuple(self._fill_from(f) for f in self.fills if f["fill_key"] in keys)
        return OrderResult(symbol, info["order_id"], client_id, info["status"], fills)

    def fills_since(self, symbol: str, start_ms: int) -> list[Fill]:
        return [self._fill_from(f) for f in self.fills if f["symbol"] == symbol and f["time_ms"] >= start_ms]

    def income_since(self, symbol: str, start_ms: int) -> list[IncomeRow]:
        return [IncomeRow(r["symbol"], r["type"], r["amount"], r["time_ms"]) for r in self.income
                if r["symbol"] == symbol and r["time_ms"] >= start_ms]  # fmt: skip

    # ------------------------------------------------------------------------------------------ market
    def on_candle(self, symbol: str, bar: Bar, time_ms: int) -> list[FillEvent | OrderUpdate]:
        """Check the resting legs of `symbol` against a closed candle, then move the last price to its close."""
        self.clock_ms = max(self.clock_ms, int(time_ms))
        events: list[FillEvent | OrderUpdate] = []
        pos = self.position(symbol)
        if pos is not None:
            sl = next((k for k, v in self.legs.items() if v["symbol"] == symbol and v["purpose"] == "SL"), None)
            tp = next((k for k, v in self.legs.items() if v["symbol"] == symbol and v["purpose"] == "TP"), None)
            if sl is not None or tp is not None:
                side = pos.side
                far = math.inf if side == 1 else -math.inf
                sl_px = self.legs[sl]["trigger"] if sl is not None else -far
                tp_px = self.legs[tp]["trigger"] if tp is not None else far
                hit, px = check_sl_tp(side, sl_px, tp_px, bar.open, bar.high, bar.low, self.gap_fills)
                if hit != HIT_NONE:
                    leg_id = sl if hit == HIT_SL else tp
                    assert leg_id is not None
                    leg = self.legs.pop(leg_id)
                    qty = min(leg["quantity"], abs(pos.amount))
                    kind = "STOP_MARKET" if leg["purpose"] == "SL" else "TAKE_PROFIT_MARKET"
                    fill = self._execute(symbol, leg_id, leg["client_id"], leg["side"], qty, px, True, kind)
                    events.append(FillEvent(fill, "FILLED"))
                    events.extend(self._expire_legs_if_flat(symbol))
        self.last_price[symbol] = float(bar.close)
        return events

    def settle_funding(self, symbol: str, rate: float, mark_price: float, time_ms: int) -> float:
        """Funding of `symbol`'s open position at a settlement (D20): LONG pays a positive rate, SHORT receives it.
        Same amount as the backtest kernel (`backtest.step.settle_funding`); returns the wallet change."""
        pos = self.positions.get(symbol)
        if pos is None or not pos["amount"] or not math.isfinite(rate) or rate == 0.0:
            return 0.0
        pay = -pos["amount"] * float(mark_price) * float(rate)
        self.wallet += pay
        self.income.append({"symbol": symbol, "type": "FUNDING_FEE", "amount": pay, "time_ms": int(time_ms)})
        return pay

    # ------------------------------------------------------------------------------------------ internals
    def _available(self) -> float:
        used = 0.0
        for sym, p in self.positions.items():
            if p["amount"]:
                used += abs(p["amount"]) * p["entry_price"] / self.leverage.get(sym, 20)
        return self.wallet - used

    def _execute(self, symbol: str, order_id: str, client_id: str | None, side: OrderSide, qty: float, price: float,
                 reduce_only: bool, order_type: str) -> Fill:
        code = 1 if side == "BUY" else -1
        pos = self.positions.setdefault(symbol, {"amount": 0.0, "entry_price": 0.0, "time_ms": self.clock_ms})
        amount = pos["amount"]
        realized = 0.0
        if amount != 0 and (amount > 0) != (code > 0):
            closing = min(qty, abs(amount))
            realized = gross_pnl(1 if amount > 0 else -1, pos["entry_price"], price, closing)
            amount += code * closing
            opening = qty - closing
            if abs(amount) <= _QTY_TOL:
                amount = 0.0
        else:
            opening = qty
        if opening > _QTY_TOL:
            if amount == 0:
                pos["entry_price"] = price
                pos["time_ms"] = self.clock_ms
            else:
                pos["entry_price"] = (pos["entry_price"] * abs(amount) + price * opening) / (abs(amount) + opening)
            amount += code * opening
        pos["amount"] = amount
        if amount == 0:
            pos["entry_price"] = 0.0
        commission = fill_fee(price, qty, self.fill_model.fee_rate_for(order_type))
        self.wallet += realized
        self.wallet -= commission
        trade_id = self._new_id()
        fill = Fill(symbol, f"{order_id}:{trade_id}", order_id, client_id, self.clock_ms, side, price, qty, realized,
                    commission, "USDT", reduce_only, order_type)  # fmt: skip
        self.fills.append(self._fill_dict(fill))
        if realized:
            self.income.append({"symbol": symbol, "type": "REALIZED_PNL", "amount": realized, "time_ms": self.clock_ms})
        self.income.append({"symbol": symbol, "type": "COMMISSION", "amount": -commission, "time_ms": self.clock_ms})
        return fill

    def _expire_legs_if_flat(self, symbol: str) -> list[OrderUpdate]:
        if self.position(symbol) is not None:
            return []
        out = []
        for oid in [k for k, v in self.legs.items() if v["symbol"] == symbol]:
            leg = self.legs.pop(oid)
            kind = "STOP_MARKET" if leg["purpose"] == "SL" else "TAKE_PROFIT_MARKET"
            out.append(OrderUpdate(symbol, oid, leg["client_id"], "EXPIRED", kind))
        return out

    @staticmethod
    def _fill_dict(f: Fill) -> dict[str, Any]:
        return {
            "symbol": f.symbol, "fill_key": f.fill_key, "order_id": f.order_id, "client_id": f.client_id,
            "time_ms": f.time_ms, "side": f.side, "price": f.price, "quantity": f.quantity,
            "realized_pnl": f.realized_pnl, "commission": f.commission, "commission_asset": f.commission_asset,
            "reduce_only": f.reduce_only, "order_type": f.order_type,
        }  # fmt: skip

    @staticmethod
    def _fill_from(d: dict[str, Any]) -> Fill:
        return Fill(**d)


def check_rules(rules: SymbolRules) -> SymbolRules:
    if not rules.qty_step > 0 or rules.tick_size < 0 or rules.min_notional < 0:
        raise DataError(f"{rules.symbol}: invalid symbol rules {rules}")
    return rules
