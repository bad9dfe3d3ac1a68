"""Symbol trading rules of the fake exchange: precision, filters, and the checks Binance applies to orders.

The rules are what make `-1111` (precision) and `-4014` (tick size) reproducible locally (INC-09, DEF-19), so they
follow Binance's exchange-info vocabulary exactly (`pricePrecision`, `quantityPrecision`, `PRICE_FILTER.tickSize`,
`LOT_SIZE.stepSize`, `MIN_NOTIONAL.notional`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from trader_runtime.testing.fake_exchange.api_errors import ApiError


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    """One USD-M perpetual contract's trading rules, as exchange info reports them."""

    symbol: str
    base_asset: str
    price_precision: int
    quantity_precision: int
    tick_size: Decimal
    step_size: Decimal
    min_qty: Decimal
    min_notional: Decimal = Decimal("5")
    max_qty: Decimal = Decimal("10000000")
    max_leverage: int = 75

    def quantize_price(self, price: Decimal) -> Decimal:
        """Round a price to the nearest tick (the exchange's own fills land on ticks)."""
        ticks = (price / self.tick_size).to_integral_value()
        return (ticks * self.tick_size).quantize(Decimal(1).scaleb(-self.price_precision))

    def check_quantity(self, raw: str, *, name: str = "quantity") -> Decimal:
        """Parse and validate an order quantity string the way the exchange does."""
        qty = _parse_decimal(raw, name)
        if qty <= 0:
            raise ApiError(400, -4003, "Quantity less than or equal to zero.")
        if _decimals(raw) > self.quantity_precision or qty % self.step_size != 0:
            raise ApiError(400, -1111, "Precision is over the maximum defined for this asset.")
        if qty > self.max_qty:
            raise ApiError(400, -4005, "Quantity greater than max quantity.")
        if qty < self.min_qty:
            raise ApiError(400, -4003, "Quantity less than or equal to zero.")
        return qty

    def check_price(self, raw: str, *, name: str) -> Decimal:
        """Parse and validate a price or trigger price string (precision first, then tick)."""
        price = _parse_decimal(raw, name)
        if price <= 0:
            raise ApiError(400, -4006, "Stop price less than zero.")
        if _decimals(raw) > self.price_precision:
            raise ApiError(400, -1111, "Precision is over the maximum defined for this asset.")
        if price % self.tick_size != 0:
            raise ApiError(400, -4014, "Price not increased by tick size.")
        return price

    def exchange_info_entry(self) -> dict[str, Any]:
        """The symbol's object inside `GET /fapi/v1/exchangeInfo` `symbols`."""
        return {
            "symbol": self.symbol,
            "pair": self.symbol,
            "contractType": "PERPETUAL",
            "deliveryDate": 4133404800000,
            "onboardDate": 1569398400000,
            "status": "TRADING",
            "maintMarginPercent": "2.5000",
            "requiredMarginPercent": "5.0000",
            "baseAsset": self.base_asset,
            "quoteAsset": "USDT",
            "marginAsset": "USDT",
            "pricePrecision": self.price_precision,
            "quantityPrecision": self.quantity_precision,
            "baseAssetPrecision": 8,
            "quotePrecision": 8,
            "underlyingType": "COIN",
            "underlyingSubType": [],
            "settlePlan": 0,
            "triggerProtect": "0.0500",
            "liquidationFee": "0.012500",
            "marketTakeBound": "0.05",
            "maxMoveOrderLimit": 10000,
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": str(self.tick_size), "maxPrice": "1000000", "tickSize": str(self.tick_size)},
                {"filterType": "LOT_SIZE", "minQty": str(self.min_qty), "maxQty": str(self.max_qty), "stepSize": str(self.step_size)},
                {"filterType": "MARKET_LOT_SIZE", "minQty": str(self.min_qty), "maxQty": str(self.max_qty), "stepSize": str(self.step_size)},
                {"filterType": "MAX_NUM_ORDERS", "limit": 200},
                {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
                {"filterType": "MIN_NOTIONAL", "notional": str(self.min_notional)},
                {"filterType": "PERCENT_PRICE", "multiplierUp": "1.0500", "multiplierDown": "0.9500", "multiplierDecimal": "4"},
            ],
            "OrderType": ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"],
            "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
            "permissionSets": ["GRID", "COPY"],
        }


def _spec(symbol: str, price_precision: int, quantity_precision: int, tick: str, step: str, notional: str = "5") -> SymbolSpec:
    return SymbolSpec(
        symbol=symbol,
        base_asset=symbol.removesuffix("USDT"),
        price_precision=price_precision,
        quantity_precision=quantity_precision,
        tick_size=Decimal(tick),
        step_size=Decimal(step),
        min_qty=Decimal(step),
        min_notional=Decimal(notional),
    )


#: Rules close to Binance's for the symbols the project trades; pass your own `SymbolSpec`s to change them.
DEFAULT_SYMBOL_SPECS: Mapping[str, SymbolSpec] = {
    s.symbol: s
    for s in (
        _spec("XRPUSDT", 4, 1, "0.0001", "0.1"),
        _spec("DOGEUSDT", 6, 0, "0.000010", "1"),
        _spec("TRXUSDT", 5, 0, "0.00001", "1"),
        _spec("SOLUSDT", 4, 0, "0.0100", "1"),
        _spec("BTCUSDT", 2, 3, "0.10", "0.001", "100"),
        _spec("ETHUSDT", 2, 3, "0.01", "0.001", "20"),
    )
}


def generic_spec(symbol: str) -> SymbolSpec:
    """Rules for a symbol the table does not know: 4-decimal prices, 1-decimal quantities."""
    return _spec(symbol, 4, 1, "0.0001", "0.1")


def _parse_decimal(raw: str, name: str) -> Decimal:
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise ApiError(400, -1100, f"Illegal characters found in parameter '{name}'; legal range is '^([0-9]{{1,20}})(\\.[0-9]{{1,20}})?$'.") from None
    if not value.is_finite():
        raise ApiError(400, -1100, f"Illegal characters found in parameter '{name}'.")
    return value


def _decimals(raw: str) -> int:
    text = str(raw).strip()
    if "." not in text:
        return 0
    return len(text.split(".", 1)[1].rstrip("0"))
