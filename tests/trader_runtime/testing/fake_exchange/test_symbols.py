"""Symbol rules reproduce Binance's order-parameter errors (INC-09, DEF-19)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from trader_runtime.testing.fake_exchange import DEFAULT_SYMBOL_SPECS, ApiError, SymbolSpec

XRP = DEFAULT_SYMBOL_SPECS["XRPUSDT"]
TRX = DEFAULT_SYMBOL_SPECS["TRXUSDT"]


@pytest.mark.parametrize("raw, expected", [("44.0", Decimal("44.0")), ("0.1", Decimal("0.1")), ("44", Decimal("44"))])
def test_accepts_quantities_on_the_step(raw: str, expected: Decimal) -> None:
    assert XRP.check_quantity(raw) == expected


@pytest.mark.parametrize(
    "spec, raw, code",
    [(XRP, "44.05", -1111), (TRX, "10.5", -1111), (XRP, "0", -4003), (XRP, "-1", -4003), (XRP, "abc", -1100)],
)
def test_rejects_bad_quantities_with_binance_codes(spec: SymbolSpec, raw: str, code: int) -> None:
    with pytest.raises(ApiError) as err:
        spec.check_quantity(raw)
    assert err.value.code == code


def test_price_precision_then_tick() -> None:
    odd_tick = SymbolSpec("ODDUSDT", "ODD", 3, 0, Decimal("0.005"), Decimal("1"), Decimal("1"))
    assert odd_tick.check_price("1.235", name="triggerPrice") == Decimal("1.235")
    with pytest.raises(ApiError) as precision:
        XRP.check_price("2.12345", name="triggerPrice")
    with pytest.raises(ApiError) as tick:
        odd_tick.check_price("1.233", name="triggerPrice")
    assert (precision.value.code, tick.value.code) == (-1111, -4014)


def test_quantize_price_lands_on_the_tick_grid() -> None:
    odd_tick = SymbolSpec("ODDUSDT", "ODD", 3, 0, Decimal("0.005"), Decimal("1"), Decimal("1"))
    assert odd_tick.quantize_price(Decimal("1.2337")) == Decimal("1.235")
    assert XRP.quantize_price(Decimal("2.48650726")) == Decimal("2.4865")


def test_exchange_info_entry_carries_filters() -> None:
    entry = TRX.exchange_info_entry()
    filters = {f["filterType"]: f for f in entry["filters"]}
    assert (entry["pricePrecision"], entry["quantityPrecision"]) == (5, 0)
    assert filters["LOT_SIZE"]["stepSize"] == "1" and filters["PRICE_FILTER"]["tickSize"] == "0.00001"
    assert filters["MIN_NOTIONAL"]["notional"] == "5"
