"""The weekly report as one self-contained HTML page (inline CSS, figures as base64 PNG, no scripts).

`render_weekly_html` takes the strict-JSON report (`WeeklyReport.to_json_dict()` or a loaded file), so a page can
be rebuilt from any stored report. Missing sections are shown as N/A with the reason from `issues`.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Mapping

from cointrader_pipelines.reporting import plots
from cointrader_pipelines.reporting.html_parts import (
    NA,
    card,
    esc,
    field,
    figure,
    num,
    page,
    params_text,
    pf_cell,
    pf_class,
    section,
    span,
    table,
)
from cointrader_pipelines.reporting.strategies import render_strategies

PLOT_IDS = ("plot-equity", "plot-fold-pf", "plot-pnl-distribution", "plot-live-vs-backtest", "plot-trend")
EQUITY_CAPTION = "End-of-day mark-to-market equity; drawdown from the running peak, which starts at the initial balance."
REGIME_NOTE = (
    "Regime from the mean BTC ADX(14) of the test window: ≥ 25 → up/downtrend by the BTC return, otherwise range. "
    "L/S: mean top-trader account ratio / global account ratio over the window."
)
NO_LS_NOTE = "No L/S ratio data — shown once the collector has accumulated data."
KILL_NOTE = (
    "Recomputed from the journal with the live rules (fast: consecutive net losses; slow: PF of the last 15 trades "
    "&lt; 0.75)."
)
KILL_WORDS = ("<b>armed</b>: watching, entries allowed; <b>tripped</b>: new entries of that symbol stopped until "
              "<code>cointrader trader reset-kill SYMBOL</code> (exits keep working) — the words of "
              "<code>cointrader trader status</code>.")


def _when(iso: str) -> str:
    """'2025-12-20T18:00:00+00:00' → '2025-12-20 18:00'."""
    return str(iso).replace("T", " ")[:16]


def _header(r: Mapping[str, Any]) -> str:
    week, cfg = r["week"], r["config"]
    wf = cfg["walk_forward"]
    status = esc(r["status"])
    return (
        f"<header><h1>CoinTrader weekly strategy report — {esc(r['report_date'])} "
        f'<span class="badge {status}">{status}</span></h1>'
        f"<p>Week {esc(_when(week['start_time']))} → {esc(_when(week['end_time']))} UTC "
        f"(report time Sunday 03:00 {esc(week['timezone'])})</p>"
        f"<p>Symbols {esc(', '.join(cfg['symbols']))} · walk-forward {wf['train_months']}/{wf['test_months']} months, "
        f"step {wf['step_months']} · ML {esc(cfg['ml'])} · generated {esc(_when(r['generated_time']))} UTC</p></header>"
    )


VERDICT_CSS = {"keep": "good", "stop": "bad", "not enough evidence": "warn"}
VALIDATION_NOTE = (
    "Validation: the backtest validator's checks on each symbol's result — PASS when every required check holds, "
    "WARN when only advisory checks fail, FAIL when a required check fails (for example too few trades per month)."
)


def _verdict(r: Mapping[str, Any]) -> str:
    """The first thing a reader sees: keep / stop / not enough evidence, why, and the rule that decided."""
    v = r.get("verdict")
    if not v:
        return ""
    css = VERDICT_CSS.get(v["decision"], "warn")
    return (
        f'<section id="verdict" class="verdict {css}"><p class="decision">Verdict: <b>{esc(v["decision"].upper())}</b>'
        f' — {esc(v["reason"])}</p><p class="muted">Rule: {esc(v["rule"])}</p></section>'
    )


def _test_windows(r: Mapping[str, Any]) -> tuple[str, str] | None:
    folds = [f for sec in r["backtest"]["per_symbol"].values() for f in sec["folds"]]
    if not folds:
        return None
    return min(str(f["test_start"])[:10] for f in folds), max(str(f["test_end"])[:10] for f in folds)


def _age_text(r: Mapping[str, Any]) -> str:
    """Which window the performance figures cover and how old its end is on the report date."""
    window = _test_windows(r)
    if window is None:
        return ""
    end = window[1]
    days = (date.fromisoformat(str(r["report_date"])) - date.fromisoformat(end)).days
    age = "ends on the report date" if days <= 0 else f"ends {days} day{'s' if days != 1 else ''} before the report date"
    return f"walk-forward test windows {window[0]} → {end} ({age})"


def _journal_word(r: Mapping[str, Any]) -> str:
    """`Simulated` for a replay/paper journal, `Live` for demo/live, `Journal` when the mode is not recorded."""
    return {"simulated": "Simulated", "live": "Live"}.get(r["live"].get("journal_kind", "unknown"), "Journal")


def _issues(r: Mapping[str, Any]) -> str:
    if not r["issues"]:
        return ""
    items = "".join(f"<li><b>{esc(i['section'])}</b>: {esc(i['message'])}</li>" for i in r["issues"])
    return section("issues", "Partial report — what is missing", f"<ul>{items}</ul>", css="issues")


def _cards(r: Mapping[str, Any]) -> str:
    s, live, trigger = r["backtest"]["summary"], r["live"], r["ml_trigger"]
    week = live.get("week") if live.get("available") else None
    verdict = f"{'recommended' if trigger['recommend'] else 'not yet'} ({trigger['met_count']}/3)"
    cards = [
        card("Backtest PF", field(s, "profit_factor"), pf_class(s)),
        card("Win rate", field(s, "win_rate", 1, suffix=" %")),
        card("Max drawdown", field(s, "max_drawdown_pct", 1, suffix=" %")),
        card("Trades", NA if s is None else str(s["total_trades"])),
        card("Net PnL (USDT)", field(s, "total_pnl", 2, signed=True)),
        card("Sharpe (daily, √365)", field(s, "sharpe")),
        card(f"{_journal_word(r)} trades this week", NA if week is None else str(week["total_trades"])),
        card(f"{_journal_word(r)} net PnL this week", field(week, "total_pnl", 2, signed=True)),
        card("ML retraining", verdict, "warn" if trigger["recommend"] else ""),
    ]
    age = _age_text(r)
    note = f'<p class="muted">Backtest figures: {esc(age)}.</p>' if age else ""
    return section("summary", "Current performance", f'<div class="cards">{"".join(cards)}</div>{note}{_figures(r)}')


STRATEGY_TITLES = {"weighted-signal": "weighted signal", "mtf-pullback": "MTF pullback"}


def strategy_title(name: str | None) -> str:
    return STRATEGY_TITLES.get(str(name), str(name)) if name else NA


def _breakdown(title: str, groups: Mapping[str, Any], strategies: bool = False) -> str:
    rows = [[esc(k), *([esc(strategy_title(g.get("strategy")))] if strategies else []), esc(g["trades"]),
             field(g, "win_rate", 1), field(g, "net_pnl", 2, signed=True), pf_cell(g)]
            for k, g in groups.items()]  # fmt: skip
    head = [title, *(["Strategy"] if strategies else []), "Trades", "Win %", "Net PnL", "PF"]
    return table(head, rows, raw=True, left=2 if strategies else 1) if rows else ""


def _figures(r: Mapping[str, Any]) -> str:
    """Sortino, Calmar, SQN, longest drawdown and the breakdowns by exit reason and by symbol."""
    f = r.get("figures")
    if not f:
        return ""
    dd = f["longest_drawdown"]
    if dd["days"]:
        dd_text = f"{dd['days']} days ({dd['start']} → {dd['end']}{'' if dd['recovered'] else ', not recovered yet'})"
    else:
        dd_text = "none"
    cards = [card("Sortino (daily, √365)", field(f, "sortino")), card("Calmar", field(f, "calmar")),
             card("SQN", field(f, "sqn")), card("Longest drawdown", esc(dd_text))]  # fmt: skip
    return (f'<div class="cards">{"".join(cards)}</div><div class="breakdowns">'
            f'{_breakdown("Exit reason", f["by_exit_reason"])}{_breakdown("Symbol", f["by_symbol"], strategies=True)}</div>')


def _equity(r: Mapping[str, Any]) -> str:
    bt = r["backtest"]
    base = float(bt["summary"]["initial_balance"]) if bt["summary"] else float(r["config"]["initial_balance"])
    fig = plots.equity_drawdown(bt["equity_daily"], base, "Walk-forward equity (all symbols on one account, carried across windows)")
    return section("equity", "Equity curve and drawdown",
                   figure(fig, PLOT_IDS[0], "equity curve with drawdown", EQUITY_CAPTION) + _account_facts(bt))  # fmt: skip


def _account_facts(bt: Mapping[str, Any]) -> str:
    """Halted periods, liquidations and funding of the shared-account walk-forward."""
    s = bt.get("summary") or {}
    halted = bt.get("halted_periods") or []
    rows = [[esc(h["scope"]), esc(str(h["kind"]).replace("_", " ")), esc(str(h["start"])[:16]), esc(str(h["end"])[:16]),
             esc(h.get("days", ""))] for h in halted]  # fmt: skip
    facts = (f"<p>Liquidations: {esc(s.get('liquidations', 0))} · funding (+ received, − paid): "
             f"{num(s.get('total_funding', 0.0), 2, signed=True)} USDT · lowest equity: {num(s.get('min_equity'), 2)} USDT</p>")  # fmt: skip
    if not rows:
        return facts + "<p>No halted periods: no kill switch, daily loss limit or ruin stopped new entries.</p>"
    head = "<tr>" + "".join(f"<th>{x}</th>" for x in ("scope", "halt", "from", "to", "days")) + "</tr>"
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return facts + f"<p>Halted periods (no new entries; open positions kept their exits):</p><table>{head}{body}</table>"


def _symbol_rows(r: Mapping[str, Any]) -> list[list[str]]:
    rows = []
    for sym, sec in r["backtest"]["per_symbol"].items():
        s = sec["summary"]
        rows.append([
            esc(sym), esc(params_text(sec["params"])), esc(NA if s is None else s["total_trades"]), pf_cell(s),
            field(s, "win_rate", 1), field(s, "total_pnl", 2, signed=True), field(s, "max_drawdown_pct", 1),
            esc(sec["validation"] or NA), esc(sec["error"] or ""),
        ])  # fmt: skip
    return rows


def _ls_text(ls: Mapping[str, Any] | None, short: str) -> str:
    if not ls or short not in ls:
        return NA
    return f"{num(ls[short]['top_acct_avg'])} / {num(ls[short]['global_avg'])}"


def _context_row(sym: str, f: Mapping[str, Any], window: str) -> list[str]:
    c = f["market_context"]
    if c is None:
        return [esc(sym), esc(f["fold"]), window, span("muted", f"{NA} — {esc(f['market_context_note'])}"), "", "", "", "", ""]
    pct = {"digits": 1, "signed": True, "suffix": " %"}
    return [
        esc(sym), esc(f["fold"]), window, num(c["btc_return_pct"], **pct), num(c["eth_return_pct"], **pct),
        esc(f"{c['market_regime']} (ADX {num(c['btc_avg_adx'], 0)})"),
        *(_ls_text(c.get("ls_ratio"), k) for k in ("xrp", "btc", "eth")),
    ]  # fmt: skip


def _fold_tables(r: Mapping[str, Any]) -> tuple[str, str, bool]:
    """(performance per fold, market context per fold, whether any fold has L/S data)."""
    perf, ctx, any_ls = [], [], False
    for sym, sec in r["backtest"]["per_symbol"].items():
        for f in sec["folds"]:
            s, c = f["summary"], f["market_context"]
            any_ls = any_ls or bool(c and c.get("ls_ratio"))
            window = esc(f"{str(f['test_start'])[:10]} → {str(f['test_end'])[:10]}")
            perf.append([
                esc(sym), esc(f["fold"]), window, esc(s["total_trades"]), pf_cell(s), field(s, "win_rate", 1),
                field(s, "total_pnl", 2, signed=True), field(s, "max_drawdown_pct", 1),
            ])  # fmt: skip
            ctx.append(_context_row(sym, f, window))
    perf_headers = ["Symbol", "Fold", "Test window", "Trades", "PF", "Win %", "PnL", "MDD %"]
    ctx_headers = ["Symbol", "Fold", "Test window", "BTC return", "ETH return", "BTC regime",
                   "L/S XRP (top / global)", "L/S BTC", "L/S ETH"]  # fmt: skip
    return table(perf_headers, perf, raw=True, left=3), table(ctx_headers, ctx, raw=True, left=3), any_ls


def _backtest(r: Mapping[str, Any]) -> str:
    fold_table, context_table, any_ls = _fold_tables(r)
    headers = ["Symbol", "Parameters", "Trades", "PF", "Win %", "PnL", "MDD %", "Validation", "Note"]
    pnl = plots.pnl_distribution(
        [float(t["net_pnl"]) for t in r["backtest"]["trades"]],
        [float(t["net_pnl"]) for t in (r["live"].get("week_trades") or [])],
    )
    body = "".join((
        table(headers, _symbol_rows(r), raw=True, left=2), f'<p class="muted">{esc(VALIDATION_NOTE)}</p>',
        "<h3>Walk-forward folds</h3>", fold_table,
        figure(plots.fold_profit_factors(r["backtest"]["per_symbol"]), PLOT_IDS[1], "profit factor per fold"),
        "<h3>Market context per fold</h3>", context_table,
        "" if any_ls else f'<p class="muted">{NO_LS_NOTE}</p>',
        f'<p class="muted">{esc(REGIME_NOTE)}</p>',
        figure(pnl, PLOT_IDS[2], "trade PnL distribution"),
    ))  # fmt: skip
    return section("per-symbol", "Walk-forward backtest per symbol", body)


def _live_row(label: str, x: Mapping[str, Any]) -> list[str]:
    pf = pf_cell(x) if x["total_trades"] else span("muted", NA)
    return [esc(label), esc(x["total_trades"]), field(x, "total_pnl", 2, signed=True), field(x, "win_rate", 1), pf,
            field(x, "total_fees", 2)]  # fmt: skip


def _live(r: Mapping[str, Any]) -> str:
    live, s = r["live"], r["backtest"]["summary"]
    if not live.get("available"):
        body = f'<p class="warn">Live statistics unavailable: {esc(live.get("reason"))}</p>'
        bars: list[tuple[str, Any]] = [("backtest", s)]
    else:
        week, cum = live["week"], live["cumulative"]
        word = _journal_word(r)
        run_by = live.get("strategies") or {}
        labelled = [("this week", week), ("cumulative", cum),
                    *((f"this week {k}" + (f" ({strategy_title(run_by[k])})" if k in run_by else ""), v)
                      for k, v in week["per_symbol"].items())]  # fmt: skip
        modes = ", ".join(live.get("modes") or []) or "not recorded"
        kind = {"Simulated": "simulated fills — no exchange order was sent", "Live": "orders on the exchange"}.get(word, "")
        body = f'<p class="muted">Source: {esc(live["source"])} (read-only); trader mode {esc(modes)}{esc(": " + kind if kind else "")}.</p>' + table(
            [f"{word} trades", "Count", "Net PnL", "Win %", "PF", "Fees"], [_live_row(*x) for x in labelled], raw=True
        )
        bars = [("backtest", s), (f"{word.lower()} week", week), (f"{word.lower()} cumulative", cum)]
    title = {"Simulated": "Simulated trading (replay/paper journal)", "Live": "Live trading"}.get(_journal_word(r), "Trader journal")
    return section("live", title, body + figure(plots.live_vs_backtest(bars), PLOT_IDS[3], "journal vs backtest"))


def _trend(r: Mapping[str, Any]) -> str:
    points = r["trend"]["points"]
    rows = [
        [esc(p["report_date"] + (" (this week)" if p.get("current") else "")), field(p, "profit_factor"),
         field(p, "win_rate", 1), field(p, "max_drawdown_pct", 1), esc(p.get("total_trades", NA))]
        for p in points
    ]  # fmt: skip
    body = table(["Report", "PF", "Win %", "MDD %", "Trades"], rows, raw=True)
    if r["trend"]["pf_declining_3w"]:
        body += '<p class="bad">⚠ Profit factor declined three weeks in a row.</p>'
    if len(points) >= 2:
        body += figure(plots.trend_lines(points), PLOT_IDS[4], "weekly trend")
    else:
        body += '<p class="muted">The trend chart starts with the second weekly report.</p>'
    return section("trend", "Trend (last weeks)", body)


def _kill_row(sym: str, k: Mapping[str, Any]) -> list[str]:
    streak = span("warn" if k["consec_loss"] >= k["fast_streak"] - 2 else "", f"{k['consec_loss']}/{k['fast_streak']}")
    recent = field(k, "recent_pf")
    if k["total_trades"] < k["slow_window"]:
        recent += " " + span("muted", f"({k['total_trades']} of {k['slow_window']} trades)")
    state = f'<b class="bad">tripped ({esc(k["reason"])})</b>' if k["killed"] else span("good", "armed")
    return [esc(sym), esc(k["total_trades"]), streak, recent, state]


def _kill(r: Mapping[str, Any]) -> str:
    rows = [_kill_row(sym, k) for sym, k in r["kill_switch"].items()]
    if rows:
        body = table(["Symbol", "Trades", "Consecutive losses", "PF last 15", "State"], rows, raw=True)
    else:
        body = f'<p class="muted">{NA}: no live trades to evaluate.</p>'
    return section("kill-switch", "Kill-switch monitoring", body + f'<p class="muted">{KILL_NOTE} {KILL_WORDS}</p>')


def _checklist(r: Mapping[str, Any]) -> str:
    t, s = r["ml_trigger"], r["backtest"]["summary"]
    c = t["conditions"]

    def line(name: str, text: str) -> str:
        ok = c[name]
        unknown = " " + span("muted", "(input missing)") if name in t["unknown"] else ""
        return f'<li><span class="tick{" on" if ok else ""}">{"✓" if ok else ""}</span>{esc(text)}{unknown}</li>'

    cumulative = NA if t["cumulative_trades"] is None else t["cumulative_trades"]
    if t["recommend"]:
        verdict = f"ML retraining recommended ({t['met_count']}/3)"
    else:
        verdict = f"Not yet ({t['met_count']}/3; needs {t['required']})"
    body = (
        '<ul class="checklist">'
        + line("cumulative_trades_enough", f"cumulative live trades ≥ {t['threshold']}: {cumulative}/{t['threshold']}")
        + line("pf_below_1", f"backtest PF < 1.0 (now {field(s, 'profit_factor')})")
        + line("pf_declining_3w", "PF declining three weeks in a row")
        + f'</ul><p class="{"warn" if t["recommend"] else "muted"}"><b>{esc(verdict)}</b></p>'
    )
    return section("ml-checklist", "ML retraining checklist", body)


def _sweep_row(label: str, params: Mapping[str, Any] | None, s: Mapping[str, Any], delta: str) -> list[str]:
    return [esc(label), esc(params_text(params) if params else "per-symbol parameters"), esc(s["total_trades"]),
            pf_cell(s), delta, field(s, "win_rate", 1), field(s, "total_pnl", 2, signed=True),
            field(s, "max_drawdown_pct", 1)]  # fmt: skip


def _sweep(r: Mapping[str, Any]) -> str:
    sw = r["sweep"]
    if not sw["ran"]:
        return section("sweep", "Parameter sweep", f'<p class="good">{esc(sw["reason"])}</p>')
    rows = [_sweep_row("current", sw["current"]["params"], sw["current"]["summary"], "")]
    for i, a in enumerate(sw["alternatives"], start=1):
        rows.append(_sweep_row(f"alternative {i}", a["params"], a["summary"], field(a, "pf_delta", 2, signed=True)))
    note = (
        "⚠ Suggestions only — never applied automatically; review before changing the configuration. "
        f"{sw['evaluated']} combinations evaluated, {sw['pruned_dead']} without any signal skipped, ranked with at "
        f"least {sw['min_trades']} trades first."
    )
    headers = ["", "Parameters", "Trades", "PF", "ΔPF", "Win %", "PnL", "MDD %"]
    body = table(headers, rows, raw=True, left=2) + f'<p class="warn">{esc(note)}</p>'
    return section("sweep", "Parameter sweep (combined PF below 1)", body)


def render_weekly_html(report: Mapping[str, Any]) -> str:
    """The whole page; `report` is the strict-JSON form."""
    parts = (_header, _verdict, _issues, _cards, _equity, _backtest, render_strategies, _live, _trend, _kill, _checklist, _sweep)
    footer = f"<footer>CoinTrader Platform · weekly report schema v{esc(report['schema_version'])}</footer>"
    return page(f"CoinTrader weekly report {report['report_date']}", "".join(p(report) for p in parts) + footer)
