"""Fault rules: matched in order, budgeted, counted; misuse is refused."""

from __future__ import annotations

import pytest

from trader_runtime.testing.fake_exchange import (Delay, DropConnection, Duplicate, FaultBook, FaultRule, HttpError,
                                                  PartialFill, rate_limited)


def test_first_matching_rule_fires_and_budgets_count_down() -> None:
    book = FaultBook()
    first = book.add(FaultRule(method="POST", path="/fapi/v1/order", times=2, error=rate_limited(3)))
    second = book.add(FaultRule(path="/fapi/v1/*", times=None, error=HttpError(503)))
    hits = [book.match("http", {}, method="POST", path="/fapi/v1/order") for _ in range(3)]
    assert hits[:2] == [first.action, first.action] and hits[2] is second.action
    assert book.match("http", {}, method="GET", path="/fapi/v1/openOrders") is second.action
    assert book.match("http", {}, method="GET", path="/fapi/v2/balance") is None
    assert [(c.matched, c.injected, c.remaining) for c in book.report()] == [(2, 2, 0), (2, 2, None)]
    assert book.injected_total() == 4


def test_params_and_symbol_must_match_and_skip_lets_matches_pass() -> None:
    book = FaultBook()
    rule = book.add(FaultRule(path="/fapi/v1/algoOrder", params={"type": "TAKE_PROFIT_MARKET", "reduceOnly": True},
                              symbol="XRPUSDT", skip=1, error=HttpError(400, -2021)))
    tp = {"type": "TAKE_PROFIT_MARKET", "reduceOnly": "true", "symbol": "XRPUSDT"}
    assert book.match("http", {**tp, "type": "STOP_MARKET"}, method="POST", path="/fapi/v1/algoOrder") is None
    assert book.match("http", {**tp, "symbol": "DOGEUSDT"}, method="POST", path="/fapi/v1/algoOrder") is None
    assert book.match("http", tp, method="POST", path="/fapi/v1/algoOrder") is None  # skipped
    assert book.match("http", tp, method="POST", path="/fapi/v1/algoOrder") is rule.action
    assert (rule.matched, rule.injected) == (2, 1)


def test_hooks_are_separate() -> None:
    book = FaultBook()
    book.add(FaultRule(action=PartialFill((0.3, 0.7))))
    book.add(FaultRule(action=Duplicate(), params={"X": "FILLED"}))
    assert book.match("http", {}, method="POST", path="/fapi/v1/order") is None
    assert isinstance(book.match("fill", {"symbol": "XRPUSDT"}), PartialFill)
    assert book.match("user_event", {"X": "NEW"}) is None
    assert isinstance(book.match("user_event", {"X": "FILLED"}), Duplicate)


def test_http_error_defaults_follow_binance() -> None:
    assert (HttpError(429).code, HttpError(418).code) == (-1003, -1003)
    assert HttpError(400, -1021).msg == "Timestamp for this request is outside of the recvWindow."


@pytest.mark.parametrize(
    "kwargs",
    [dict(), dict(action=Delay(1), error=Delay(1)), dict(action=PartialFill(), on="http"), dict(action=Delay(1), on="fill")],
)
def test_misconfigured_rules_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        FaultRule(**kwargs)


def test_stream_actions_may_move_to_event_hooks() -> None:
    rule = FaultRule(action=DropConnection("user"), on="user_event")
    assert rule.on == "user_event"


@pytest.mark.parametrize("fractions", [(1.0,), (0.5, 0.6), (0.0, 1.0)])
def test_partial_fill_fractions_must_split_the_order(fractions: tuple[float, ...]) -> None:
    with pytest.raises(ValueError):
        PartialFill(fractions)
