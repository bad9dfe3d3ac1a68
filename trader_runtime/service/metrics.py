"""Prometheus metrics of the trader through `prometheus_client` (one registry per service instance).

Why: hand-written exposition text declared every series a gauge, so `rate()` over the `*_total` series was
meaningless. Here monotonic counts are counters (read from the bots' own counts at scrape time by a custom
collector, so nothing is counted twice), states are gauges, and decision latency is a real histogram observed at
every decision (`SymbolBot.on_latency`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

#: per-candle decision latency buckets in seconds (target < 20 ms of feature update, D11)
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


class TraderCollector(Collector):
    """Reads the running app's state at scrape time (the app is the source of truth)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        app = self.app
        counters = {
            "candles": ("closed candles processed", lambda b: b.stats.candles),
            "decisions": ("candle decisions recorded", lambda b: b.stats.decisions),
            "entries": ("positions opened", lambda b: b.stats.entries),
            "closes": ("positions closed", lambda b: b.stats.closes),
            "errors": ("errors contained by the bot loop", lambda b: b.stats.errors),
        }
        for name, (help_text, read) in counters.items():
            fam = CounterMetricFamily(f"cointrader_{name}", help_text, labels=["symbol"])
            for sym, bot in app.bots.items():
                fam.add_metric([sym], float(read(bot)))
            yield fam
        notes = CounterMetricFamily("cointrader_notifications_failed", "webhook posts that failed")
        notes.add_metric([], float(app.notifier.failed))
        yield notes

        gauges: dict[str, tuple[str, list[tuple[list[str], float]]]] = {
            "cointrader_last_candle_age_seconds": ("age of the last closed candle", []),
            "cointrader_kill_switch_active": ("1 when new entries are stopped by the kill switch", []),
            "cointrader_position_open": ("1 when a position is open", []),
            "cointrader_unrealized_pnl_usdt": ("unrealised PnL of the open position at the last close", []),
            "cointrader_queue_depth": ("events waiting in the bot queue", []),
        }
        for sym, bot in app.bots.items():
            age = app.candle_age_s(bot)
            gauges["cointrader_last_candle_age_seconds"][1].append(([sym], math.nan if age is None else age))
            gauges["cointrader_kill_switch_active"][1].append(([sym], float(bot.kill.killed)))
            gauges["cointrader_position_open"][1].append(([sym], float(bot.ledger.open is not None)))
            gauges["cointrader_unrealized_pnl_usdt"][1].append(([sym], app.unrealised(sym) or 0.0))
            gauges["cointrader_queue_depth"][1].append(([sym], float(bot.queue.qsize())))
        for name, (help_text, samples) in gauges.items():
            fam = GaugeMetricFamily(name, help_text, labels=["symbol"])
            for labels, value in samples:
                fam.add_metric(labels, value)
            yield fam

        model = GaugeMetricFamily("cointrader_model_info", "served model version (1 per symbol with a model)",
                                  labels=["symbol", "version", "alias"])  # fmt: skip
        refused = GaugeMetricFamily("cointrader_model_refused", "1 while the alias's champion is refused", labels=["symbol"])
        for sym in app.bots:
            holder = app.holders.get(sym)
            current = holder.current if holder is not None else None
            if current is not None:
                model.add_metric([sym, str(current.version), str(current.alias)], 1.0)
            poller = app.pollers.get(sym)
            refused.add_metric([sym], float(poller is not None and poller.refused is not None))
        yield model
        yield refused

        money = app.money()
        for name, help_text, value in (
            ("cointrader_balance_usdt", "wallet balance (realised)", money["balance"]),
            ("cointrader_equity_usdt", "balance plus unrealised PnL", money["equity"]),
            ("cointrader_daily_pnl_usdt", "net PnL of the current UTC day", money["today_pnl"]),
            ("cointrader_total_pnl_usdt", "net PnL of every closed trade in this journal", money["total_pnl"]),
            ("cointrader_entries_paused", "1 while the operator paused new entries", float(app.controller.paused is not None)),
        ):  # fmt: skip
            fam = GaugeMetricFamily(name, help_text)
            fam.add_metric([], math.nan if value is None else float(value))
            yield fam
        if app.risk is not None:
            r = app.risk.snapshot()
            limited = GaugeMetricFamily("cointrader_daily_limit_active", "1 when the daily loss limit blocks entries")
            limited.add_metric([], float(r.daily_limited))
            yield limited
            open_pos = GaugeMetricFamily("cointrader_open_positions", "open positions across symbols")
            open_pos.add_metric([], float(len(r.open_positions)))
            yield open_pos
        ml = GaugeMetricFamily("cointrader_ml_mode", "1 for the ML filter mode in force", labels=["mode"])
        for mode in ("off", "shadow", "on"):
            ml.add_metric([mode], float(app.ml_mode == mode))
        yield ml


class TraderMetrics:
    """The registry of one service instance: the collector plus the decision-latency histogram."""

    def __init__(self, app: Any) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(TraderCollector(app))
        self.latency = Histogram("cointrader_decision_latency_seconds", "per-candle decision latency",
                                 ["symbol"], buckets=LATENCY_BUCKETS, registry=self.registry)  # fmt: skip

    def latency_observer(self, symbol: str):  # noqa: ANN201 - Callable[[float], None]
        child = self.latency.labels(symbol)
        return lambda ms: child.observe(ms / 1000.0)

    def render(self) -> bytes:
        return generate_latest(self.registry)
