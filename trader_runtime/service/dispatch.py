"""Routes exchange events to the bots' queues (the `EventSink` the adapters deliver to).

Symbol events go to that symbol's bot; events of symbols nobody trades (the account-wide user stream carries all
of them) are dropped here (INC-04); a stream reconnect makes every bot reconcile at once (INC-19). `drain` waits
until every bot has handled everything delivered so far, which is how replay keeps its clock in step.
"""

from __future__ import annotations

import asyncio
import logging

from trader_runtime.exchange.port import (
    CandleClosed,
    ExchangeEvent,
    FillEvent,
    MarketDataExhausted,
    OrderUpdate,
    ProtectiveTriggered,
    StreamReconnected,
)
from trader_runtime.service.bot import SymbolBot

logger = logging.getLogger(__name__)


class EventRouter:
    def __init__(self, bots: dict[str, SymbolBot]) -> None:
        self.bots = bots
        self.delivered = 0
        self.ignored = 0
        self.exhausted = asyncio.Event()

    async def deliver(self, event: ExchangeEvent) -> None:
        self.delivered += 1
        if isinstance(event, (StreamReconnected, MarketDataExhausted)):
            if isinstance(event, MarketDataExhausted):
                self.exhausted.set()
            targets = [self.bots[event.symbol]] if getattr(event, "symbol", None) in self.bots else list(self.bots.values())
            for bot in targets:
                bot.queue.put_nowait(event)
            return
        if isinstance(event, (CandleClosed, OrderUpdate, ProtectiveTriggered)):
            symbol = event.symbol
        elif isinstance(event, FillEvent):
            symbol = event.fill.symbol
        else:
            logger.debug("router: unknown event %r", event)
            return
        bot = self.bots.get(symbol)
        if bot is None:
            self.ignored += 1
            return
        bot.queue.put_nowait(event)

    async def drain(self) -> None:
        if len(self.bots) == 1:  # the common replay case, without gather's per-call tasks
            await next(iter(self.bots.values())).queue.join()
            return
        await asyncio.gather(*(bot.queue.join() for bot in self.bots.values()))
