"""Symbol normalisation shared by the generator, the warehouse and the CLI."""

from __future__ import annotations

import pytest

from trader_runtime.errors import DataError
from trader_runtime.market.symbols import normalize_symbol


@pytest.mark.parametrize(("raw", "norm"), [("XRPUSDT", "XRPUSDT"), (" xrpusdt ", "XRPUSDT"), ("1000pepeusdt", "1000PEPEUSDT")])
def test_valid_symbols_are_upper_cased(raw, norm):
    assert normalize_symbol(raw) == norm


@pytest.mark.parametrize("raw", ["", "X", "XRP/USDT", "xrp usdt", "XRP-USDT", None, 42])
def test_invalid_symbols_are_refused(raw):
    with pytest.raises(DataError):
        normalize_symbol(raw)
