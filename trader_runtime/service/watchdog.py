"""Watchdog heartbeat: ping systemd only while the trading loop is alive and fed with candles.

A hung event loop stops the pings by itself (the task cannot run). Beyond that, the heartbeat stops when a bot has
not seen a candle for `stale_after_s` in a mode with a live market (a dead stream that reconnects cannot heal
shows up as a restart by systemd rather than a silent, idle trader). Replay never goes stale.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from trader_runtime.service.sd_notify import SystemdNotifier

logger = logging.getLogger(__name__)


class Watchdog:
    def __init__(self, notifier: SystemdNotifier, interval_s: float, last_activity: Callable[[], float | None],
                 *, stale_after_s: float | None) -> None:  # fmt: skip
        self.notifier = notifier
        self.interval_s = interval_s
        self.last_activity = last_activity  # monotonic seconds of the oldest bot's last candle (None = none yet)
        self.stale_after_s = stale_after_s
        self.pings = 0
        self.withheld = 0

    def healthy(self, now: float | None = None) -> bool:
        if self.stale_after_s is None:
            return True
        last = self.last_activity()
        if last is None:
            return True
        return (time.monotonic() if now is None else now) - last <= self.stale_after_s

    async def run(self) -> None:
        while True:
            if self.healthy():
                self.pings += int(self.notifier.watchdog())
            else:
                self.withheld += 1
                if self.withheld == 1 or self.withheld % 10 == 0:
                    logger.error("watchdog: no candle for more than %.0f s; heartbeat withheld", self.stale_after_s)
            await asyncio.sleep(self.interval_s)
