"""Account endpoints of the fake: balances, position risk, account information, leverage, margin type, income.

Read views are computed from `AccountState` at the current replay price (mark price = last price in the fake).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping

from trader_runtime.testing.fake_exchange.api_errors import ApiError
from trader_runtime.testing.fake_exchange.engine import MatchingEngine
from trader_runtime.testing.fake_exchange.params import limit, one_of, optional_int, required
from trader_runtime.testing.fake_exchange.payloads import algo_as_standard_order, algo_object, fmt, money, order_object
from trader_runtime.testing.fake_exchange.state import ZERO, Position


class AccountService:
    """Views and settings changes of the one account the fake serves."""

    def __init__(self, engine: MatchingEngine) -> None:
        self.engine = engine
        self.account = engine.account

    # ------------------------------------------------------------------------------------------ views
    def _unrealized(self, pos: Position) -> Decimal:
        if not pos.is_open:
            return ZERO
        return (self.engine.last_price(pos.symbol) - pos.entry_price) * pos.amount

    def _margin(self, pos: Position) -> Decimal:
        return abs(pos.amount) * pos.entry_price / self.account.symbol_settings(pos.symbol).leverage

    def balances(self, now: int) -> list[dict[str, Any]]:
        """`GET /fapi/v2|v3/balance`."""
        wallet = self.account.wallet
        unrealized = sum((self._unrealized(p) for p in self.account.positions.values()), ZERO)
        available = self.account.available()
        return [{"accountAlias": "FzSgFzSg", "asset": "USDT", "balance": money(wallet), "crossWalletBalance": money(wallet),
                 "crossUnPnl": money(unrealized), "availableBalance": money(available), "maxWithdrawAmount": money(available),
                 "marginAvailable": True, "updateTime": now}]

    def position_risk(self, symbol: str | None, *, version: int) -> list[dict[str, Any]]:
        """`GET /fapi/v2/positionRisk` (every symbol) or `/fapi/v3/positionRisk` (only open positions)."""
        symbols = [self.engine.spec(symbol).symbol] if symbol else self.engine.market.symbols()
        rows = []
        for sym in symbols:
            pos = self.account.position(sym)
            if version >= 3 and not pos.is_open:
                continue
            rows.append(self._position_row(pos, version))
        return rows

    def _position_row(self, pos: Position, version: int) -> dict[str, Any]:
        spec = self.engine.specs[pos.symbol]
        settings = self.account.symbol_settings(pos.symbol)
        mark = self.engine.last_price(pos.symbol)
        isolated = settings.margin_type == "ISOLATED"
        margin = self._margin(pos)
        row: dict[str, Any] = {
            "symbol": pos.symbol, "positionSide": "BOTH", "positionAmt": fmt(pos.amount, spec.quantity_precision),
            "entryPrice": fmt(pos.entry_price, spec.price_precision + 3), "breakEvenPrice": fmt(pos.entry_price, spec.price_precision + 3),
            "markPrice": fmt(mark, spec.price_precision + 4), "unRealizedProfit": money(self._unrealized(pos)),
            "liquidationPrice": "0", "isolatedMargin": money(margin if isolated else ZERO),
            "notional": money(pos.amount * mark), "isolatedWallet": money(margin if isolated else ZERO),
            "updateTime": pos.update_time,
        }
        if version >= 3:
            row.update(marginAsset="USDT", initialMargin=money(margin), maintMargin=money(margin / 10),
                       positionInitialMargin=money(margin), openOrderInitialMargin="0", adl=0, bidNotional="0", askNotional="0")
        else:
            row.update(leverage=str(settings.leverage), marginType="isolated" if isolated else "cross",
                       isAutoAddMargin="false", maxNotionalValue="1000000")
        return row

    def account_info(self, now: int, *, version: int) -> dict[str, Any]:
        """`GET /fapi/v2|v3/account`: totals, the USDT asset and the positions."""
        wallet = self.account.wallet
        unrealized = sum((self._unrealized(p) for p in self.account.positions.values()), ZERO)
        used = self.account.used_margin()
        available = self.account.available()
        totals = {"totalInitialMargin": money(used), "totalMaintMargin": money(used / 10), "totalWalletBalance": money(wallet),
                  "totalUnrealizedProfit": money(unrealized), "totalMarginBalance": money(wallet + unrealized),
                  "totalPositionInitialMargin": money(used), "totalOpenOrderInitialMargin": money(ZERO),
                  "totalCrossWalletBalance": money(wallet), "totalCrossUnPnl": money(unrealized),
                  "availableBalance": money(available), "maxWithdrawAmount": money(available)}
        asset = {"asset": "USDT", "walletBalance": money(wallet), "unrealizedProfit": money(unrealized),
                 "marginBalance": money(wallet + unrealized), "maintMargin": money(used / 10), "initialMargin": money(used),
                 "positionInitialMargin": money(used), "openOrderInitialMargin": money(ZERO),
                 "crossWalletBalance": money(wallet), "crossUnPnl": money(unrealized), "availableBalance": money(available),
                 "maxWithdrawAmount": money(available), "marginAvailable": True, "updateTime": now}
        body: dict[str, Any] = {"feeTier": 0, "canTrade": True, "canDeposit": True, "canWithdraw": True, "feeBurn": False,
                                "multiAssetsMargin": False, "tradeGroupId": -1, "updateTime": 0, **totals, "assets": [asset]}
        body["positions"] = self.position_risk(None, version=3 if version >= 3 else 2)
        return body

    # ------------------------------------------------------------------------------------------ order queries
    def open_orders(self, symbol: str | None) -> list[dict[str, Any]]:
        """`GET /fapi/v1/openOrders`; algo orders appear here only on the demo venue (spec 30 §5.6)."""
        sym = self.engine.spec(symbol).symbol if symbol else None
        rows = [order_object(o, self.engine.specs[o.symbol]) for o in self.account.open_orders(sym)]
        if self.engine.venue.algo_in_standard_queries:
            rows += [algo_as_standard_order(a, self.engine.specs[a.symbol]) for a in self.account.open_algo_orders(sym)]
        return rows

    def get_order(self, p: Mapping[str, str]) -> dict[str, Any]:
        symbol = self.engine.spec(required(p, "symbol")).symbol
        order_id, client_id = p.get("orderId"), p.get("origClientOrderId")
        if not order_id and not client_id:
            raise ApiError(400, -1102, "Either orderId or origClientOrderId must be sent.")
        for o in self.account.orders.values():
            if o.symbol == symbol and ((order_id and str(o.order_id) == order_id) or (client_id and o.client_order_id == client_id)):
                return order_object(o, self.engine.specs[symbol])
        if self.engine.venue.algo_in_standard_queries:
            for a in self.account.algo_orders.values():
                if a.symbol == symbol and ((order_id and str(a.algo_id) == order_id) or (client_id and a.client_algo_id == client_id)):
                    return algo_as_standard_order(a, self.engine.specs[symbol])
        raise ApiError.of(-2013)

    def all_orders(self, p: Mapping[str, str]) -> list[dict[str, Any]]:
        symbol = self.engine.spec(required(p, "symbol")).symbol
        rows = [o for o in self.account.orders.values() if o.symbol == symbol]
        return [order_object(o, self.engine.specs[symbol]) for o in rows[-limit(p, default=500, maximum=1000):]]

    def get_algo(self, p: Mapping[str, str]) -> dict[str, Any]:
        algo = self.engine.find_algo(p, open_only=False)
        body = algo_object(algo, self.engine.specs[algo.symbol])
        actual = self.account.orders.get(algo.actual_order_id) if algo.actual_order_id is not None else None
        body["actualOrderId"] = "" if actual is None else str(actual.order_id)
        body["actualPrice"] = "" if actual is None else fmt(actual.avg_price, self.engine.specs[algo.symbol].price_precision)
        return body

    def algo_orders(self, symbol: str | None, *, open_only: bool) -> list[dict[str, Any]]:
        """`GET /fapi/v1/openAlgoOrders` (a JSON array, DEF-05) or `allAlgoOrders`."""
        sym = self.engine.spec(symbol).symbol if symbol else None
        rows = self.account.open_algo_orders(sym) if open_only else [
            a for a in self.account.algo_orders.values() if sym in (None, a.symbol)]
        return [algo_object(a, self.engine.specs[a.symbol]) for a in rows]

    # ------------------------------------------------------------------------------------------ settings
    def change_leverage(self, p: Mapping[str, str]) -> dict[str, Any]:
        spec = self.engine.spec(required(p, "symbol"))
        leverage = optional_int(p, "leverage")
        if leverage is None or not 1 <= leverage <= spec.max_leverage:
            raise ApiError(400, -4028, f"Leverage {p.get('leverage')} is not valid")
        self.account.symbol_settings(spec.symbol).leverage = leverage
        return {"leverage": leverage, "maxNotionalValue": "1000000", "symbol": spec.symbol}

    def change_margin_type(self, p: Mapping[str, str]) -> dict[str, Any]:
        """-4046 when unchanged (callers treat it as success, INC-20); -4047/-4048 with open orders/position."""
        spec = self.engine.spec(required(p, "symbol"))
        wanted = one_of(p, "marginType", ("ISOLATED", "CROSSED"))
        settings = self.account.symbol_settings(spec.symbol)
        if settings.margin_type == wanted:
            raise ApiError.of(-4046)
        if self.account.open_orders(spec.symbol) or self.account.open_algo_orders(spec.symbol):
            raise ApiError.of(-4047)
        if self.account.position(spec.symbol).is_open:
            raise ApiError.of(-4048)
        settings.margin_type = wanted
        return {"code": 200, "msg": "success"}

    # ------------------------------------------------------------------------------------------ income
    def income(self, p: Mapping[str, str]) -> list[dict[str, Any]]:
        """`GET /fapi/v1/income`, ascending by time; the first `limit` rows from startTime, else the newest."""
        symbol = p.get("symbol")
        kind = p.get("incomeType")
        start = optional_int(p, "startTime")
        end = optional_int(p, "endTime")
        n = limit(p, default=100, maximum=1000)
        rows = [r for r in self.account.income
                if (not symbol or r.symbol == symbol) and (not kind or r.income_type == kind)
                and (start is None or r.time >= start) and (end is None or r.time <= end)]
        rows = rows[:n] if start is not None else rows[-n:]
        return [{"symbol": r.symbol, "incomeType": r.income_type, "income": money(r.income), "asset": "USDT",
                 "info": r.info, "time": r.time, "tranId": r.tran_id, "tradeId": r.trade_id} for r in rows]
