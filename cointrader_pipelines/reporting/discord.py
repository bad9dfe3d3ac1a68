"""The weekly report's Discord summary (spec 20 §7.5, in English) from the strict-JSON report.

BT-18 fix: every section formats its own values (the backtest PF shown in the checklist and sweep lines is the
combined backtest PF, never a kill-switch figure), and ∞/missing values are formatted, never compared as text.
The text stays within Discord's 2,000-character message limit; a `link` (report file or MLflow run) is appended.
"""

from __future__ import annotations

from typing import Any, Mapping

from cointrader_pipelines.reporting.html_parts import field, num
from cointrader_pipelines.reporting.trend import read_float

DISCORD_LIMIT = 2000


def _short(symbol: str) -> str:
    return symbol[:-4] if symbol.endswith("USDT") else symbol


def _params(p: Mapping[str, Any] | None) -> str:
    if p is None:
        return "per-symbol parameters"
    return f"SL={p['atr_sl_mult']}, TP={p['atr_tp_mult']}, ADX={p['adx_threshold']}, Vol={p['volume_multiplier']}"


def _backtest(r: Mapping[str, Any]) -> list[str]:
    s = r["backtest"]["summary"]
    if s is None:
        return ["**[Current performance — walk-forward backtest]**", "N/A (no backtest; see the report's issues)"]
    pf = read_float(s, "profit_factor")
    zone = " 🚨 loss zone" if pf is not None and pf < 1.0 and s["total_trades"] else ""
    lines = [
        "**[Current performance — walk-forward backtest]**",
        f"PF {field(s, 'profit_factor')} | win rate {field(s, 'win_rate', 0)}% | MDD {field(s, 'max_drawdown_pct', 0)}%"
        f" | {s['total_trades']} trades{zone}",
    ]
    per = [
        f"{_short(sym)}: PF {field(sec['summary'], 'profit_factor')} ({sec['summary']['total_trades']} trades)"
        for sym, sec in r["backtest"]["per_symbol"].items()
        if sec["summary"] is not None
    ]
    if per:
        lines.append(" | ".join(per))
    return lines


def _live(r: Mapping[str, Any]) -> list[str]:
    live = r["live"]
    word = {"simulated": "Simulated", "live": "Live"}.get(live.get("journal_kind", "unknown"), "Journal")
    title = f"**[{word} trades (this week)]**"
    if not live.get("available"):
        return [title, f"N/A: {live.get('reason')}"]
    week = live["week"]
    if not week["total_trades"]:
        return [title, f"no closed trades (cumulative {live['cumulative']['total_trades']})"]
    return [
        title,
        f"{week['total_trades']} trades | net {field(week, 'total_pnl', 2, signed=True)} USDT | "
        f"win rate {field(week, 'win_rate', 1)}% | cumulative {live['cumulative']['total_trades']}",
    ]


def _trend(r: Mapping[str, Any]) -> list[str]:
    points = r["trend"]["points"]
    if len(points) < 2:
        return []
    arrow = " → ".join
    warn = " ⚠ declining" if r["trend"]["pf_declining_3w"] else ""
    return [
        f"**[Trend (last {len(points)} weeks)]**",
        f"PF: {arrow(field(p, 'profit_factor') for p in points)}{warn}",
        f"Win rate: {arrow(field(p, 'win_rate', 0) + '%' for p in points)}",
        f"MDD: {arrow(field(p, 'max_drawdown_pct', 0) + '%' for p in points)}",
    ]


def _kill(r: Mapping[str, Any]) -> list[str]:
    if not r["kill_switch"]:
        return []
    lines = ["**[Kill-switch monitoring]**"]
    for sym, k in r["kill_switch"].items():
        streak = f"consecutive losses {k['consec_loss']}/{k['fast_streak']}" + (" ⚠" if k["consec_loss"] >= k["fast_streak"] - 2 else "")
        if k["total_trades"] >= k["slow_window"]:
            recent = f"{k['slow_window']}-trade PF {field(k, 'recent_pf')}"
        else:
            recent = f"{k['slow_window']}-trade PF -.-- ({k['total_trades']} trades)"
        lines.append(f"{_short(sym)}: {streak} | {recent} | " + ("🔴 tripped" if k["killed"] else "armed"))
    return lines


def _checklist(r: Mapping[str, Any]) -> list[str]:
    t, c = r["ml_trigger"], r["ml_trigger"]["conditions"]
    s = r["backtest"]["summary"]
    box = {True: "✅", False: "☐"}
    cum = "N/A" if t["cumulative_trades"] is None else str(t["cumulative_trades"])
    verdict = f"→ 🔔 ML retraining recommended! ({t['met_count']}/3)" if t["recommend"] else f"→ not yet ({t['met_count']}/3)"
    return [
        "**[ML re-challenge checklist]**",
        f"{box[c['cumulative_trades_enough']]} cumulative ≥ {t['threshold']}: {cum}/{t['threshold']}",
        f"{box[c['pf_below_1']]} PF < 1.0: {'yes' if c['pf_below_1'] else 'no'} (current {field(s, 'profit_factor')})",
        f"{box[c['pf_declining_3w']]} PF 3-week decline: {'yes ⚠' if c['pf_declining_3w'] else 'no'}",
        verdict,
    ]


def _sweep(r: Mapping[str, Any]) -> list[str]:
    sw = r["sweep"]
    if not sw["ran"]:
        return ["**[Parameter sweep]** " + str(sw["reason"])]
    cur = sw["current"]
    lines = ["**[Parameter sweep result]**", f"current: {_params(cur['params'])} → PF {field(cur['summary'], 'profit_factor')}"]
    for i, a in enumerate(sw["alternatives"], start=1):
        lines.append(
            f"alternative {i}: {_params(a['params'])} → PF {field(a['summary'], 'profit_factor')} "
            f"({num(read_float(a, 'pf_delta'), 2, signed=True)} vs current, {a['summary']['total_trades']} trades)"
        )
    lines.append("⚠ not applied automatically; needs review")
    return lines


def _verdict(r: Mapping[str, Any]) -> list[str]:
    v = r.get("verdict")
    return [f"**Verdict: {v['decision'].upper()}** — {v['reason']}"] if v else []


def format_weekly_summary(report: Mapping[str, Any], link: str | None = None) -> str:
    """Discord text of a strict-JSON weekly report, at most `DISCORD_LIMIT` characters."""
    status = "" if report["status"] == "complete" else f" — partial ({len(report['issues'])} issue(s))"
    blocks = [
        [f"📊 **Weekly strategy report ({report['report_date']})**{status}", *_verdict(report)],
        _backtest(report), _live(report), _trend(report), _kill(report), _checklist(report), _sweep(report),
    ]  # fmt: skip
    text = "\n\n".join("\n".join(b) for b in blocks if b)
    tail = f"\n\nFull report: {link}" if link else ""
    if len(text) + len(tail) > DISCORD_LIMIT:
        text = text[: DISCORD_LIMIT - len(tail) - 2].rstrip() + " …"
    return text + tail
