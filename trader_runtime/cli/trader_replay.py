"""What `cointrader trader run` shows around a replay: a progress bar while it runs, a summary when it ends.

Why: a replay of a month takes minutes; without progress it looks hung, and without a summary the user has to
know about `trader status` to see what happened. The bar (tqdm; every 10 s when stderr is not a terminal) counts replayed candles and
shows closed trades and net PnL; log lines are routed through it so they do not break it. The summary is read from
the journal, the record of what the trader did.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from trader_runtime.exchange.replay import CURSOR_KEY
from trader_runtime.storage.journal import JournalReader

POLL_S = 0.5


async def show_progress(app: Any) -> None:
    """Follow the replay venue's cursor until cancelled (the caller cancels it when the run ends)."""
    while app.exchange is None or not app.ready:
        await asyncio.sleep(0.1)
    venue = app.exchange
    if not hasattr(venue, "cursor") or not hasattr(venue, "times_ms"):
        return  # not a replay
    first = int(venue.cursor)
    total = max(len(venue.times_ms) - 1 - first, 0)
    tty = sys.stderr.isatty()
    with tqdm(total=total, unit="candle", desc="replay", file=sys.stderr, mininterval=POLL_S if tty else 10.0,
              ncols=None if tty else 100) as bar:  # fmt: skip
        while True:
            bar.n = total if getattr(venue, "finished", False) else min(int(venue.cursor) - first, total)
            closes = sum(b.stats.closes for b in app.bots.values())
            pnl = app.risk.ledger - app.options.initial_balance if app.risk is not None and app.risk.ledger is not None else 0.0
            bar.set_postfix_str(f"{closes} trades, net {pnl:+.2f} USDT", refresh=False)
            bar.refresh()
            await asyncio.sleep(POLL_S)


def replay_summary(journal: Path, initial_balance: float) -> str:
    """Candles, trades, PnL, balance and drawdown of the replay recorded in `journal`."""
    with JournalReader(journal) as r:
        candles = r.decisions()["candle_ms"]
        closed = r.closed_trades()
        tripped = sorted({row.symbol for row in r.kill_rows() if row.action == "KILL"})
        controls = len(r.events("CONTROL"))
        finished = bool((r.venue_state(CURSOR_KEY) or {}).get("finished"))
    n = len(candles)
    first, last = (None, None) if not n else (candles.min(), candles.max())
    wins = sum(1 for t in closed if (t.net_pnl or 0.0) > 0)
    net = sum(t.net_pnl or 0.0 for t in closed)
    fees = sum((t.entry_fee or 0.0) + (t.exit_fee or 0.0) for t in closed)
    level, peak, worst = initial_balance, initial_balance, 0.0
    for t in sorted(closed, key=lambda t: t.exit_time_ms or 0):
        level += t.net_pnl or 0.0
        peak = max(peak, level)
        worst = max(worst, (peak - level) / peak if peak > 0 else 0.0)
    reasons = pd.Series([t.close_reason for t in closed]).value_counts().to_dict() if closed else {}
    span = "" if first is None else f" from {_day(first)} to {_day(last)} UTC"
    lines = [
        f"replay {'finished' if finished else 'stopped before the end of its data'}: {n} candles decided{span}; {len(closed)} closed trades ({wins} wins, {len(closed) - wins} losses)"
        + (f" — exits: {', '.join(f'{k} {v}' for k, v in reasons.items())}" if reasons else ""),
        f"net PnL {net:+.4f} USDT after {fees:.4f} USDT fees; balance {initial_balance:.2f} → {initial_balance + net:.2f} USDT "
        f"({net / initial_balance * 100:+.2f} %), largest drawdown {worst * 100:.2f} %",
        f"kill switch {'tripped for ' + ', '.join(tripped) if tripped else 'never tripped'}; operator actions: {controls}",
    ]
    return "\n".join(lines)


def _day(ms: Any) -> str:
    return pd.Timestamp(int(ms), unit="ms", tz="UTC").strftime("%Y-%m-%d %H:%M")
