"""What the operator sees of a running trader: status, money, equity curve, recent decisions and actions.

Why: one place computes these views from the service's own state and journal, so `/status`, the dashboard and the
metrics agree. Money: the wallet balance is the risk ledger (realised; anchored to the exchange balance at
start-up) minus the entry fees of open positions; equity adds their unrealised PnL at the last close. Times are
ISO-8601 UTC strings; `market_time` is the exchange clock (simulated in replay).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from trader_runtime.backtest.fills import unrealised_pnl
from trader_runtime.domain.schema import BAR_MS
from trader_runtime.service.lifecycle import side_code

MAX_CURVE_POINTS = 1500


def iso(ms: Any) -> str | None:
    if ms is None or (isinstance(ms, float) and not math.isfinite(ms)):
        return None
    return pd.Timestamp(int(ms), unit="ms", tz="UTC").isoformat()


def unrealised(app: Any, symbol: str) -> float | None:
    bot = app.bots.get(symbol)
    t = bot.ledger.open if bot is not None else None
    if t is None or bot.stats.last_close is None:
        return None
    return float(unrealised_pnl(side_code(t.side), t.entry_price, bot.stats.last_close, t.open_quantity))


def money(app: Any) -> dict[str, Any]:
    """Balance, equity, open/today/total PnL in USDT (None before start-up has anchored the ledger)."""
    series = app.journal.realised_series() if app.journal is not None else []
    total = sum(n for _, n in series)
    open_pnl = sum(u for s in app.bots if (u := unrealised(app, s)) is not None)
    ledger = app.risk.ledger if app.risk is not None else None
    fees_open = sum(b.ledger.open.entry_fee for b in app.bots.values() if b.ledger.open is not None)
    balance = None if ledger is None else ledger - fees_open
    return {"balance": balance, "equity": None if balance is None else balance + open_pnl, "open_pnl": open_pnl,
            "today_pnl": app.risk.daily_pnl if app.risk is not None else None, "total_pnl": total,
            "closed_trades": len(series)}  # fmt: skip


def status_view(app: Any) -> dict[str, Any]:
    ok, health = app.health()
    r = app.risk.snapshot() if app.risk is not None else None
    symbols: dict[str, Any] = {}
    for s, b in app.bots.items():
        t = b.ledger.open
        holder = app.holders.get(s)
        model = holder.current if holder is not None else None
        poller = app.pollers.get(s)
        kill = b.kill.snapshot()
        symbols[s] = {
            "position": None if t is None else {
                "side": t.side, "quantity": t.open_quantity, "entry_price": t.entry_price, "entry_time": iso(t.entry_time_ms),
                "sl": t.sl, "tp": t.tp, "mark_price": b.stats.last_close, "unrealized_pnl": unrealised(app, s),
                "position_id": t.position_id},
            "last_candle_time": iso(b.stats.last_candle_ms), "last_candle_close_time": iso(None if b.stats.last_candle_ms is None else b.stats.last_candle_ms + BAR_MS),
            "last_close": b.stats.last_close, "stale": s in health.get("stale", []),
            "kill_switch": {"active": b.kill.killed, "state": "tripped" if b.kill.killed else "armed", "reason": kill.reason},
            "entries_blocked_by_reconciliation": b.halted_reason,
            "model": None if model is None else {
                "version": model.version, "alias": model.alias, "source": model.source, "threshold": model.threshold,
                "promoted_at": model.promotion.time if model.promotion else None,
                "promoted_by": model.promotion.actor if model.promotion else None},
            "model_refused": poller.refused if poller is not None else None,
            "model_error": poller.last_error if poller is not None else None,
            "ml_mode": b.ml_mode, "params": b.params.as_dict(),
            "candles": b.stats.candles, "decisions": b.stats.decisions, "entries": b.stats.entries,
            "closes": b.stats.closes, "errors": b.stats.errors,
        }  # fmt: skip
    limit = app.settings.risk_limits.max_daily_loss_pct
    paused = app.controller.paused
    return {
        "time": pd.Timestamp.now(tz="UTC").isoformat(), "market_time": iso(app.exchange.now_ms()) if app.exchange else None,
        "mode": app.mode, "state": "running" if app.ready else "starting", "ml_mode": app.ml_mode,
        "health": {"ok": ok, **health},
        "entries_paused": {"paused": paused is not None, "reason": (paused or {}).get("reason"), "since": (paused or {}).get("time")},
        "control": {"enabled": app.control_token is not None},
        "account": money(app),
        "risk": None if r is None else {
            "day": None if r.day_ms is None else iso(r.day_ms)[:10], "day_base": r.day_base, "daily_pnl": r.daily_pnl,
            "daily_loss_limit_usdt": None if r.day_base is None else r.day_base * limit, "daily_limited": r.daily_limited,
            "open_positions": {k: ("LONG" if v == 1 else "SHORT") for k, v in r.open_positions.items()}},
        "symbols": symbols,
    }  # fmt: skip


def equity_curve(app: Any) -> list[dict[str, Any]]:
    """Realised balance after every closed trade (thinned to MAX_CURVE_POINTS), then equity now."""
    m = money(app)
    if m["balance"] is None or app.journal is None:
        return []
    series = app.journal.realised_series()
    start = app.risk.ledger - m["total_pnl"]  # the realised balance before the first closed trade
    points, level = [], start
    for t, net in series:
        level += net
        points.append((t, level))
    step = max(1, math.ceil(len(points) / MAX_CURVE_POINTS))
    thinned = points[::step] if step > 1 else points
    if points and thinned[-1] is not points[-1]:
        thinned.append(points[-1])
    first = series[0][0] if series else app.exchange.now_ms()
    out = [{"time": iso(first), "balance": start, "equity": start}]
    out += [{"time": iso(t), "balance": v, "equity": v} for t, v in thinned]
    out.append({"time": iso(app.exchange.now_ms()), "balance": m["balance"], "equity": m["equity"]})
    return out


def decisions_view(app: Any, symbol: str | None, limit: int) -> list[dict[str, Any]]:
    df = app.journal.decisions(symbol=symbol, limit=limit)
    out = []
    for row in df.itertuples(index=False):
        out.append({"symbol": row.symbol, "candle_time": iso(row.candle_ms), "close": row.close,
                    "signal": {1: "LONG", -1: "SHORT"}.get(int(row.signal), "HOLD"), "action": row.action,
                    "reason": row.reason, "scores": f"{row.long_score}/{row.short_score}", "ml_proba": row.ml_proba,
                    "model_version": row.model_version, "latency_ms": row.latency_ms})  # fmt: skip
    return out[::-1]  # newest first


def actions_view(app: Any, limit: int = 20) -> list[dict[str, Any]]:
    """The operator's recent control actions (journal events `CONTROL`), newest first."""
    rows = app.journal.events("CONTROL")[-limit:]
    return [{**(r["detail"] or {}), "market_time": iso(r["time_ms"])} for r in reversed(rows)]
