"""`errors.call`: which failures are retried (temporary ones), with what back-off, and how many times."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from binance.exceptions import BinanceAPIException

from trader_runtime.errors import OrderRejected, TemporaryExchangeError
from trader_runtime.exchange.binance.errors import call


class _Response:
    status_code = 400
    text = '{"code": -2010, "msg": "Account has insufficient balance for requested action."}'


def _run(fn, **kw):
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async def main():
        return await call(fn, "GET /fapi/v2/balance", sleep=sleep, **kw)

    return asyncio.run(main()), sleeps


def test_temporary_failures_are_retried_with_exponential_back_off():
    failures = [aiohttp.ClientConnectionError("reset"), asyncio.TimeoutError()]

    async def flaky():
        if failures:
            raise failures.pop(0)
        return {"ok": 1}

    assert _run(flaky, base_delay_s=0.5) == ({"ok": 1}, [0.5, 1.0])


def test_the_last_temporary_failure_is_raised_after_the_attempts():
    async def down():
        raise aiohttp.ClientConnectionError("refused")

    with pytest.raises(TemporaryExchangeError, match="GET /fapi/v2/balance: ClientConnectionError"):
        _run(down, attempts=4, base_delay_s=0.25)


def test_a_refusal_is_raised_at_once_and_one_attempt_means_no_retry():
    calls = []

    async def refused():
        calls.append(1)
        raise BinanceAPIException(_Response(), 400, _Response.text)

    with pytest.raises(OrderRejected, match="insufficient balance"):
        _run(refused)
    assert calls == [1]

    async def timeout():
        calls.append(2)
        raise asyncio.TimeoutError()

    with pytest.raises(TemporaryExchangeError):
        _run(timeout, attempts=1)
    assert calls == [1, 2]
