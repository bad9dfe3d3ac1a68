"""Report figures as self-contained PNG data (matplotlib, Agg canvas, no pyplot state).

Figures are built with `matplotlib.figure.Figure` directly, so nothing touches a global backend or a display;
`png_base64` turns a figure into the base64 text an `<img src="data:image/png;base64,…">` embeds. Every
function takes the strict-JSON report values (as written to disk), so a page can be rebuilt from a file.
"""

from __future__ import annotations

import base64
import io
import math
from contextlib import contextmanager
from typing import Any, Iterator, Mapping, Sequence

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from cointrader_pipelines.reporting.trend import read_float

PALETTE = {
    "blue": "#2563eb",
    "green": "#16a34a",
    "red": "#dc2626",
    "grey": "#6b7280",
    "amber": "#d97706",
    "violet": "#7c3aed",
    "light": "#e5e7eb",
}
STYLE = {
    "font.size": 10,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "axes.edgecolor": "#9ca3af",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e5e7eb",
    "grid.linewidth": 0.8,
    "legend.frameon": False,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
}
DPI = 110


@contextmanager
def style() -> Iterator[None]:
    with matplotlib.rc_context(STYLE):
        yield


def new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def png_base64(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def empty_figure(fig: Figure, text: str) -> Figure:
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", color=PALETTE["grey"], fontsize=12, transform=ax.transAxes)
    return fig


def equity_drawdown(equity_daily: Sequence[Mapping[str, Any]], initial_balance: float, title: str) -> Figure:
    """End-of-day equity with the initial balance as the first peak, and the drawdown below it."""
    with style():
        fig = new_figure(10, 5.2)
        if not equity_daily:
            return empty_figure(fig, "no equity curve: the backtest did not run")
        dates = pd.to_datetime([p["date"] for p in equity_daily])
        values = np.array([float(p["equity"]) for p in equity_daily])
        dates = dates.insert(0, dates[0] - pd.Timedelta(days=1))  # the curve starts at the initial balance
        values = np.concatenate(([initial_balance], values))
        peak = np.maximum.accumulate(np.concatenate(([initial_balance], values)))[1:]
        drawdown = (values - peak) / peak * 100.0
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1.3))
        top.plot(dates, values, color=PALETTE["blue"], linewidth=1.8, label="equity (end of day)")
        top.axhline(initial_balance, color=PALETTE["grey"], linestyle="--", linewidth=1, label="initial balance")
        top.fill_between(dates, initial_balance, values, where=values >= initial_balance, color=PALETTE["green"], alpha=0.12)
        top.fill_between(dates, initial_balance, values, where=values < initial_balance, color=PALETTE["red"], alpha=0.12)
        top.set_title(title)
        top.set_ylabel("USDT")
        top.legend(loc="best")
        bottom.fill_between(dates, drawdown, 0.0, color=PALETTE["red"], alpha=0.35, linewidth=0)
        bottom.plot(dates, drawdown, color=PALETTE["red"], linewidth=1)
        bottom.set_ylabel("drawdown %")
        bottom.set_ylim(min(float(drawdown.min()) * 1.15, -1.0), 0.5)
        fig.autofmt_xdate()
        return fig


def fold_profit_factors(per_symbol: Mapping[str, Mapping[str, Any]]) -> Figure:
    """Profit factor of every walk-forward fold per symbol; ∞ (no losing trade) is drawn capped and labelled."""
    with style():
        fig = new_figure(10, 3.8)
        bars: list[tuple[str, float | None, int]] = []
        for symbol, section in per_symbol.items():
            for fold in section.get("folds") or []:
                s = fold["summary"]
                label = f"{symbol[:-4] if symbol.endswith('USDT') else symbol} #{fold['fold']}\n{str(fold['test_start'])[:7]}"
                bars.append((label, read_float(s, "profit_factor"), int(s["total_trades"])))
        if not bars:
            return empty_figure(fig, "no walk-forward folds")
        finite = [v for _, v, _ in bars if v is not None and math.isfinite(v)]
        cap = max(finite + [1.5]) * 1.25
        ax = fig.add_subplot()
        x = np.arange(len(bars))
        heights = [cap if (v is not None and math.isinf(v)) else (v or 0.0) for _, v, _ in bars]
        colors = [PALETTE["green"] if h >= 1.0 else PALETTE["red"] for h in heights]
        ax.bar(x, heights, color=colors, alpha=0.85, width=0.65)
        ax.axhline(1.0, color=PALETTE["grey"], linestyle="--", linewidth=1)
        for xi, (_, v, n), h in zip(x, bars, heights):
            text = "∞" if v is not None and math.isinf(v) else f"{h:.2f}"
            ax.text(xi, h + cap * 0.02, f"{text}\n{n} tr", ha="center", va="bottom", fontsize=8)
        ax.set_xticks(x, [b[0] for b in bars], fontsize=8)
        ax.set_ylim(0, cap * 1.2)
        ax.set_xlim(-0.75, max(len(bars), 4) - 0.25)  # a lone fold keeps a normal bar width
        ax.grid(axis="x", visible=False)
        ax.set_ylabel("profit factor")
        ax.set_title("Profit factor per walk-forward fold (dashed: break-even)")
        return fig


def pnl_distribution(backtest_pnl: Sequence[float], live_pnl: Sequence[float]) -> Figure:
    """Histogram of net PnL per trade: backtest wins/losses, live trades of the week overlaid."""
    with style():
        fig = new_figure(10, 3.6)
        values = np.asarray(list(backtest_pnl), dtype=np.float64)
        live = np.asarray(list(live_pnl), dtype=np.float64)
        if values.size == 0 and live.size == 0:
            return empty_figure(fig, "no trades to show")
        ax = fig.add_subplot()
        both = np.concatenate((values, live))
        edges = np.histogram_bin_edges(both, bins=min(30, max(8, both.size // 2)))
        ax.hist(values[values > 0], bins=edges, color=PALETTE["green"], alpha=0.75, label=f"backtest wins ({int((values > 0).sum())})")
        ax.hist(values[values <= 0], bins=edges, color=PALETTE["red"], alpha=0.75, label=f"backtest losses ({int((values <= 0).sum())})")
        if live.size:
            ax.hist(live, bins=edges, histtype="step", color=PALETTE["violet"], linewidth=2, label=f"live this week ({live.size})")
        ax.axvline(0.0, color=PALETTE["grey"], linewidth=1)
        ax.set_xlabel("net PnL per trade (USDT)")
        ax.set_ylabel("trades")
        ax.set_title("Trade PnL distribution")
        ax.legend(loc="upper right")
        return fig


def live_vs_backtest(rows: Sequence[tuple[str, Mapping[str, Any] | None]]) -> Figure:
    """Win rate, average net PnL per trade and profit factor side by side for each (label, figures) row."""
    with style():
        fig = new_figure(10, 3.4)
        axes = fig.subplots(1, 3)
        colors = [PALETTE["blue"], PALETTE["violet"], PALETTE["amber"], PALETTE["grey"]]
        metrics = (("win rate %", "win_rate"), ("avg net PnL / trade (USDT)", "avg_pnl"), ("profit factor", "profit_factor"))
        for ax, (title, key) in zip(axes, metrics):
            labels, heights, notes = [], [], []
            for label, figures in rows:
                labels.append(label)
                value = None
                if figures and int(figures.get("total_trades") or 0) > 0:
                    value = (
                        float(figures["total_pnl"]) / int(figures["total_trades"]) if key == "avg_pnl" else read_float(figures, key)
                    )
                heights.append(0.0 if value is None or not math.isfinite(value) else value)
                notes.append("N/A" if value is None else ("∞" if math.isinf(value) else f"{value:.2f}"))
            x = np.arange(len(labels))
            ax.bar(x, heights, color=colors[: len(labels)], alpha=0.85, width=0.6)
            for xi, h, note in zip(x, heights, notes):
                ax.text(xi, h, note, ha="center", va="bottom" if h >= 0 else "top", fontsize=8)
            if key == "profit_factor":
                ax.axhline(1.0, color=PALETTE["grey"], linestyle="--", linewidth=1)
            ax.axhline(0.0, color="#9ca3af", linewidth=0.8)
            ax.set_xticks(x, labels, fontsize=8)
            ax.set_title(title, fontsize=10)
            ax.margins(y=0.2)
            ax.grid(axis="x", visible=False)
        fig.suptitle("Live trading vs walk-forward backtest", fontweight="bold")
        return fig


def trend_lines(points: Sequence[Mapping[str, Any]]) -> Figure:
    """Profit factor and win rate of the last weekly reports (current week last)."""
    with style():
        fig = new_figure(10, 3.0)
        if len(points) < 2:
            return empty_figure(fig, "the trend starts with the second weekly report")
        labels = [str(p["report_date"]) for p in points]
        pf = [read_float(p, "profit_factor") for p in points]
        wr = [read_float(p, "win_rate") for p in points]
        left = fig.add_subplot()
        x = np.arange(len(points))
        pf_plot = [np.nan if v is None or not math.isfinite(v) else v for v in pf]
        left.plot(x, pf_plot, marker="o", color=PALETTE["blue"], label="profit factor")
        left.axhline(1.0, color=PALETTE["grey"], linestyle="--", linewidth=1)
        left.set_ylabel("profit factor")
        right = left.twinx()
        right.plot(x, [np.nan if v is None else v for v in wr], marker="s", color=PALETTE["amber"], label="win rate %")
        right.set_ylabel("win rate %")
        right.grid(False)
        left.set_xticks(x, labels)
        left.set_title("Weekly trend")
        handles = left.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
        left.legend(handles, ["profit factor", "win rate %"], loc="upper left")
        return fig
