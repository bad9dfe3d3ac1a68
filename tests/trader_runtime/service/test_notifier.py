"""Notifications never block or fail the caller; the mode is in every message; the URL is never logged."""

from __future__ import annotations

import logging
import time

from fixtures.trader_webhook import WebhookServer
from trader_runtime.service.notifier import DISCORD_LIMIT, Notifier, fmt_num, fmt_price


def _wait(cond, timeout=10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.01)
    return False


def test_messages_are_posted_in_order_with_the_mode_tag(webhook):
    n = Notifier(webhook.url, "demo")
    n.send("one")
    n.send("two")
    assert _wait(lambda: len(webhook.messages) == 2)
    n.close()
    assert webhook.messages == ["[DEMO] one", "[DEMO] two"] and n.sent == 2


def test_a_slow_webhook_never_delays_the_sender():
    slow = WebhookServer(delay_s=2.0).start()
    try:
        n = Notifier(slow.url, "live", timeout_s=5.0)
        t0 = time.perf_counter()
        for i in range(20):
            n.send(f"m{i}")
        assert time.perf_counter() - t0 < 0.05
        n.close(timeout_s=0.1)
    finally:
        slow.stop()


def test_failures_are_counted_and_the_url_is_not_logged(caplog):
    bad = WebhookServer(status=500).start()
    try:
        n = Notifier(bad.url + "?token=sekrit0123456789", "live")
        with caplog.at_level(logging.DEBUG):
            n.send("x")
            assert _wait(lambda: n.failed == 1)
        n.close()
    finally:
        bad.stop()
    assert "sekrit0123456789" not in caplog.text and "sekrit" not in repr(n)


def test_disabled_without_url_is_a_noop():
    n = Notifier("", "replay")
    n.send("hello")
    assert not n.enabled and n._thread is None and n.sent == 0


def test_long_messages_are_cut_to_the_discord_limit_and_numbers_are_safe():
    n = Notifier(None, "replay")
    assert len(n.format("x" * 5000)) == DISCORD_LIMIT
    assert fmt_price(float("nan")) == "0.0000" and fmt_num(None, 2) == "0.00"  # INC-02
