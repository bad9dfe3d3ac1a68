"""Figures and self-contained pages of the research assets: symbol comparison and Monte-Carlo position sizing."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from cointrader_pipelines.reporting.html_parts import NA, esc, field, figure, num, page, params_text, table
from cointrader_pipelines.reporting.plots import PALETTE, empty_figure, style, new_figure
from cointrader_pipelines.reporting.trend import read_float


def comparison_figure(rows: Sequence[Mapping[str, Any]]) -> Figure:
    """Best combination per symbol: profit factor, return % and max drawdown % as horizontal bars."""
    with style():
        fig = new_figure(10, 1.2 + 0.45 * max(len(rows), 2))
        ranked = [r for r in rows if r["summary"] is not None]
        if not ranked:
            return empty_figure(fig, "no symbol has a qualifying combination")
        names = [r["symbol"] for r in ranked]
        y = np.arange(len(ranked))
        panels = (
            ("best profit factor", "profit_factor", 1.0),
            ("return %", "return_pct", 0.0),
            ("max drawdown %", "max_drawdown_pct", None),
        )
        axes = fig.subplots(1, 3, sharey=True)
        for ax, (title, key, ref) in zip(axes, panels):
            values = [read_float(r["summary"], key) for r in ranked]
            finite = [v for v in values if v is not None and np.isfinite(v)]
            cap = (max(finite) if finite else 1.0) * 1.2
            shown = [cap if v is not None and np.isinf(v) else (v or 0.0) for v in values]
            if key == "max_drawdown_pct":
                colors = [PALETTE["amber"]] * len(shown)
            else:
                colors = [PALETTE["green"] if v >= (ref or 0.0) else PALETTE["red"] for v in shown]
            ax.barh(y, shown, color=colors, alpha=0.85, height=0.6)
            for yi, v, s in zip(y, values, shown):
                ax.text(s, yi, " " + ("∞" if v is not None and np.isinf(v) else num(v)), va="center", fontsize=8)
            if ref is not None:
                ax.axvline(ref, color=PALETTE["grey"], linestyle="--", linewidth=1)
            ax.set_title(title, fontsize=10)
            ax.grid(axis="y", visible=False)
            ax.margins(x=0.25)
        axes[0].set_yticks(y, names)
        axes[0].invert_yaxis()
        fig.suptitle("Best walk-forward combination per symbol", fontweight="bold")
        return fig


def sizing_figure(analysis: Mapping[str, Any]) -> Figure:
    """R-multiple histogram; robust median return with the p5–p95 band; ruin and p95 drawdown per risk level."""
    with style():
        fig = new_figure(10.5, 3.6)
        left, mid, right = fig.subplots(1, 3)
        r = np.asarray(analysis["r_multiples"], dtype=np.float64)
        left.hist(r[r > 0], bins=12, color=PALETTE["green"], alpha=0.8, label="wins")
        left.hist(r[r <= 0], bins=12, color=PALETTE["red"], alpha=0.8, label="losses")
        left.set_title("R-multiples of the trades", fontsize=10)
        left.set_xlabel("R")
        left.legend()
        rows = analysis["robust"]
        risks = np.array([row["risk"] for row in rows]) * 100.0
        mid.fill_between(risks, [row["p5_return_pct"] for row in rows], [row["p95_return_pct"] for row in rows],
                         color=PALETTE["blue"], alpha=0.15, label="p5–p95")  # fmt: skip
        mid.plot(risks, [row["median_return_pct"] for row in rows], marker="o", color=PALETTE["blue"], label="median")
        mid.plot(risks, [row["median_return_pct"] for row in analysis["worst_case"]], marker="s", color=PALETTE["red"], label="worst-case median")
        mid.set_yscale("symlog", linthresh=100)
        mid.set_title(f"Return after {analysis['simulation']['n_trades']} trades (%)", fontsize=10)
        mid.set_xlabel("risk per trade %")
        mid.legend(fontsize=8)
        right.plot(risks, [row["p95_max_dd_pct"] for row in rows], marker="o", color=PALETTE["amber"], label="p95 max drawdown %")
        right.plot(risks, [row["ruin_pct"] for row in rows], marker="^", color=PALETTE["red"], label="ruin %")
        right.axhline(30.0, color=PALETTE["grey"], linestyle="--", linewidth=1, label="drawdown limit")
        right.axvline(analysis["recommended_risk"] * 100.0, color=PALETTE["green"], linewidth=2, label="recommended")
        right.set_title("Risk of the robust simulation", fontsize=10)
        right.set_xlabel("risk per trade %")
        right.legend(fontsize=8)
        fig.suptitle(f"{analysis['symbol']} — Monte-Carlo position sizing", fontweight="bold")
        return fig


def render_comparison_html(rows: Sequence[Mapping[str, Any]], title_date: str) -> str:
    body_rows = []
    for row in rows:
        s = row["summary"]
        rules = row["rules_of_thumb"] or {}
        flags = ", ".join(k for k, v in rules.items() if v) or "—"
        body_rows.append([
            esc(row["symbol"]), esc(params_text(row["best_params"]) if s else f"— {row['reason']}"),
            esc(s["total_trades"] if s else NA), field(s, "win_rate", 1), field(s, "payoff_ratio"),
            esc(s["max_consecutive_losses"] if s else NA), field(s, "profit_factor"), field(s, "return_pct"),
            field(s, "max_drawdown_pct"), esc(flags), esc(f"{row['qualified_combos']}/{row['grid_size']}"),
        ])  # fmt: skip
    headers = ["Symbol", "Best parameters", "Trades", "Win %", "Payoff", "Max consec. losses", "PF", "Return %",
               "MDD %", "Rules of thumb met", "Combos ≥ min trades"]  # fmt: skip
    body = (
        f"<header><h1>Symbol comparison — {esc(title_date)}</h1><p>Best walk-forward combination per symbol "
        "(ML off); only combinations with the minimum trade count qualify.</p></header>"
        f'<section><h2>Best combination per symbol</h2>{table(headers, body_rows, raw=True, left=2)}'
        + figure(comparison_figure(rows), "plot-comparison", "best combination per symbol")
        + '<p class="muted">Rules of thumb (informational): sustainable = win rate ≥ 50 % and payoff ≥ 1; '
        "bearable = at most 5 losses in a row; meaningful = at least 20 trades.</p></section>"
    )
    return page(f"Symbol comparison {title_date}", body)


def _pct(value: float | None, digits: int = 1) -> str:
    return num(None if value is None else value * 100.0, digits)


def _sizing_section(symbol: str, a: Mapping[str, Any]) -> str:
    obs, box, hint = a["observed"], a["box"], a["margin_hint"]
    mc = [
        [_pct(row["risk"]) + " %", num(row["ruin_pct"], 1), num(row["median_return_pct"], 1),
         num(row["p5_return_pct"], 1), num(row["p95_return_pct"], 1), num(row["p95_max_dd_pct"], 1),
         num(w["median_return_pct"], 1), num(w["p95_max_dd_pct"], 1)]
        for row, w in zip(a["robust"], a["worst_case"])
    ]  # fmt: skip
    headers = ["Risk", "Ruin %", "Median return %", "p5 %", "p95 %", "p95 max DD %", "Worst-case median %",
               "Worst-case p95 DD %"]  # fmt: skip
    hints = ", ".join(f"ATR {num(h['atr_pct'], 2)} % → {num(h['margin_max_ratio'], 3)}" for h in hint["rows"])
    after = a["balance_after_losses"]
    return (
        f"<section><h2>{esc(symbol)}</h2>"
        f"<p>{obs['trades']} trades · win rate {_pct(obs['win_rate'])} % · avg win {num(obs['win_r'])} R · "
        f"avg loss {num(obs['loss_r'])} R · expectancy {num(obs['expectancy_r'])} R · Kelly {_pct(obs['kelly'])} % "
        f"(worst case {_pct(a['kelly']['worst_case'])} %) · {a['simulation']['n_sims']:,} paths × "
        f"{a['simulation']['n_trades']} trades per risk level</p>"
        f"<p>Uncertainty box: win rate {_pct(box['win_rate'][0])}–{_pct(box['win_rate'][1])} %, "
        f"win R {num(box['win_r'][0])}–{num(box['win_r'][1])}, loss R {num(box['loss_r'][0])}…{num(box['loss_r'][1])}</p>"
        + table(headers, mc, raw=True)
        + figure(sizing_figure(a), f"plot-sizing-{symbol.lower()}", f"position sizing {symbol}")
        + f"<p><b>Recommended risk per trade: {_pct(a['recommended_risk'])} %</b> "
        f"(robust best {_pct(a['best_risk'])} %, worst-case best {_pct(a['worst_case_best_risk'])} %). "
        f"Balance after 6 / 10 straight losses: {num(after['6'])} / {num(after['10'])} USDT.</p>"
        f"<p>MARGIN_MAX_RATIO hint for {esc(symbol)} at {esc(hint['leverage'])}× leverage and SL "
        f"{esc(hint['sl_mult'])} ATR: {esc(hints)}</p></section>"
    )


def render_sizing_html(analyses: Mapping[str, Mapping[str, Any]], errors: Mapping[str, str], title_date: str) -> str:
    sections = [_sizing_section(symbol, a) for symbol, a in analyses.items()]
    for symbol, message in errors.items():
        sections.append(f'<section><h2>{esc(symbol)}</h2><p class="warn">{esc(message)}</p></section>')
    body = (
        f"<header><h1>Monte-Carlo position sizing — {esc(title_date)}</h1><p>Robust simulation: per path the win "
        "rate and R-multiples are drawn from the uncertainty box (worst case: its pessimistic corner), trades "
        "compound at a fixed risk per trade; ruin = balance at or below 20 % of the "
        "start. A risk qualifies with ruin ≤ 1 % and p95 drawdown ≤ 30 %.</p></header>" + "".join(sections)
    )
    return page(f"Position sizing {title_date}", body)
