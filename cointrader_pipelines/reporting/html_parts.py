"""Small HTML building blocks shared by the weekly page and the research pages: escaping, number formats, tables,
figures and the page frame with its stylesheet. Everything is inline, so a page is one self-contained file."""

from __future__ import annotations

import html
import math
from typing import Any, Iterable, Mapping, Sequence

from matplotlib.figure import Figure

from cointrader_pipelines.reporting.plots import png_base64
from cointrader_pipelines.reporting.trend import read_float

NA = "N/A"

CSS = """
:root { --ink:#111827; --muted:#6b7280; --line:#e5e7eb; --bg:#f9fafb; --green:#15803d; --red:#b91c1c;
        --amber:#b45309; --blue:#1d4ed8; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
       font:14px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif; }
main { max-width:1120px; margin:0 auto; padding:28px 24px 48px; }
header h1 { margin:0 0 4px; font-size:26px; }
header p { margin:2px 0; color:var(--muted); }
section { background:white; border:1px solid var(--line); border-radius:10px; padding:18px 20px; margin:18px 0; }
section h2 { margin:0 0 12px; font-size:18px; }
section h3 { margin:16px 0 8px; font-size:15px; }
.verdict { border-width:2px; } .verdict .decision { font-size:20px; margin:0 0 6px; }
.verdict.good { border-color:var(--green); } .verdict.bad { border-color:var(--red); }
.verdict.warn { border-color:var(--amber); }
.breakdowns { display:grid; grid-template-columns:1fr 1fr; gap:16px; margin-top:12px; }
.cards { display:grid; grid-template-columns:repeat(auto-fit, minmax(150px, 1fr)); gap:12px; }
.card { border:1px solid var(--line); border-radius:8px; padding:10px 12px; background:white; }
.card .label { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
.card .value { font-size:22px; font-weight:600; }
.badge { display:inline-block; padding:2px 10px; border-radius:999px; font-size:12px; font-weight:600; }
.badge.complete { background:#dcfce7; color:var(--green); }
.badge.partial { background:#fef3c7; color:var(--amber); }
.good { color:var(--green); } .bad { color:var(--red); } .warn { color:var(--amber); } .muted { color:var(--muted); }
.issues { border-color:#fcd34d; background:#fffbeb; }
.issues li { margin:3px 0; }
table { border-collapse:collapse; width:100%; font-size:13px; }
th, td { padding:6px 8px; border-bottom:1px solid var(--line); text-align:right; white-space:nowrap; }
th { background:#f3f4f6; font-weight:600; }
th:first-child, td:first-child, td.text, th.text { text-align:left; }
tbody tr:nth-child(even) { background:#fafafa; }
.scroll { overflow-x:auto; }
figure { margin:12px 0 4px; }
figure img { display:block; max-width:100%; height:auto; border:1px solid var(--line); border-radius:6px; }
figcaption { color:var(--muted); font-size:12px; margin-top:4px; }
ul.checklist { list-style:none; padding-left:0; } ul.checklist li { margin:4px 0; }
.tick { display:inline-block; width:18px; height:18px; line-height:16px; text-align:center; border:1px solid #9ca3af;
        border-radius:4px; margin-right:8px; font-weight:700; font-size:12px; vertical-align:middle; }
.tick.on { background:var(--green); border-color:var(--green); color:white; }
footer { color:var(--muted); font-size:12px; text-align:center; margin-top:24px; }
"""


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def num(value: Any, digits: int = 2, signed: bool = False, suffix: str = "") -> str:
    """Formatted number, "∞" for infinity, N/A for missing."""
    if value is None or isinstance(value, bool):
        return NA
    x = float(value)
    if math.isnan(x):
        return NA
    if math.isinf(x):
        return ("+∞" if signed else "∞") if x > 0 else "−∞"
    return f"{x:{'+' if signed else ''},.{digits}f}{suffix}"


def field(mapping: Mapping[str, Any] | None, key: str, digits: int = 2, signed: bool = False, suffix: str = "") -> str:
    """A float of a strict-JSON mapping (flag-aware) formatted with `num`."""
    if not mapping:
        return NA
    return num(read_float(mapping, key), digits, signed, suffix)


def pf_class(mapping: Mapping[str, Any] | None, key: str = "profit_factor") -> str:
    value = read_float(mapping, key) if mapping else None
    if value is None:
        return "muted"
    return "good" if value >= 1.0 else "bad"


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], raw: bool = False, css: str = "", left: int = 1) -> str:
    """`rows` cells are escaped unless `raw` (callers pass pre-built markup for coloured cells); the first `left`
    columns are text (left-aligned), the others numbers."""

    def cls(i: int) -> str:
        return ' class="text"' if i < left else ""

    head = "".join(f"<th{cls(i)}>{esc(h)}</th>" for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f"<td{cls(i)}>{c if raw else esc(c)}</td>" for i, c in enumerate(row)) + "</tr>" for row in rows
    )
    return f'<div class="scroll"><table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def figure(fig: Figure, plot_id: str, alt: str, caption: str = "") -> str:
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return (
        f'<figure id="{esc(plot_id)}" class="plot"><img alt="{esc(alt)}" '
        f'src="data:image/png;base64,{png_base64(fig)}">{cap}</figure>'
    )


def span(css: str, text: str) -> str:
    """Pre-formatted `text` (already escaped or a formatted number) in a styled span."""
    return f'<span class="{css}">{text}</span>'


def pf_cell(mapping: Mapping[str, Any] | None, key: str = "profit_factor") -> str:
    """Profit factor coloured green (≥ 1) or red (< 1)."""
    return span(pf_class(mapping, key), field(mapping, key))


def params_text(p: Mapping[str, Any] | None) -> str:
    """'SL 1.5 / TP 4.0 / sig 3 / ADX 25.0 / vol 2.5' for a StrategyParams dict."""
    if not p:
        return NA
    return (
        f"SL {p['atr_sl_mult']} / TP {p['atr_tp_mult']} / sig {p['signal_threshold']} / "
        f"ADX {p['adx_threshold']} / vol {p['volume_multiplier']}"
    )


def section(section_id: str, title: str, body: str, css: str = "") -> str:
    cls = f' class="{css}"' if css else ""
    return f'<section id="{section_id}"{cls}><h2>{esc(title)}</h2>{body}</section>'


def card(label: str, value: str, css: str = "") -> str:
    return f'<div class="card"><div class="label">{esc(label)}</div><div class="value {css}">{esc(value)}</div></div>'


def page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body><main>{body}</main></body></html>\n"
    )
