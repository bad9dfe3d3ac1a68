"""The notifier posts to a webhook (a local receiver here), splits long text, and is a no-op without a URL."""

from __future__ import annotations

import logging

from cointrader_pipelines.resources.notifier import DISCORD_LIMIT, NotifierResource
from fixtures.webhook import webhook_server


def test_without_webhook_nothing_is_sent():
    assert NotifierResource().send("hello") is False


def test_long_messages_are_split_for_discord():
    with webhook_server() as (url, received):
        assert NotifierResource(webhook_url=url).send("x" * (DISCORD_LIMIT + 10)) is True
    assert [len(r["content"]) for r in received] == [DISCORD_LIMIT, 10]


def test_delivery_failure_is_reported_without_the_secret_url(caplog):
    with webhook_server(status=500) as (url, received):
        with caplog.at_level(logging.WARNING):
            assert NotifierResource(webhook_url=url).send("boom") is False
    assert received and url not in caplog.text and "HTTPError" in caplog.text
