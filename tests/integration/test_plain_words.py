"""What users read carries no unexplained internal codes.

The code base cites decisions and defects by short codes (D12, BT-19, INC-22, "spec 20 §11"). A newcomer reading
`cointrader --help`, a Dagster asset/check/schedule/sensor description or the weekly report must either read plain
words or a code that `docs/decisions.md` defines. This test collects those texts from the real command parser, the
real code location and a really rendered report, and fails on any code the document does not define.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
DECISIONS = ROOT / "docs" / "decisions.md"

#: what looks like an internal code: D12, BT-19, DEF-04, INC-22, W-05, PF-08, MTF-01, MTF-A, SKEW-3, R-P1, Q3
CODE = re.compile(r"(?<![\w./-])(?:D\d{1,2}|Q\d{1,2}|[A-Z]{1,5}-[A-Z]?\d{1,3}|MTF-[A-F])(?![\w-])")
#: references into the design specification: "spec 20 §11", "20 §7.2", "§9.4", "STYLE 2.7"
SPEC_REF = re.compile(r"(?:\bspec\s+\d{2}\b(?:\s*§\s*[\dA-Z][\d.]*)?|\b\d{2}\s*§\s*\d[\d.]*|§\s*\d[\d.]*|\bSTYLE\s+\d)")
#: standard names that look like codes but are not ours
NOT_CODES = {"SHA-256", "UTF-8", "ISO-8601", "UTC-0"}


def defined_codes() -> set[str]:
    """Codes defined by the first cell of a table row in docs/decisions.md."""
    codes: set[str] = set()
    for line in DECISIONS.read_text(encoding="utf-8").splitlines():
        if line.startswith("| ") and not line.startswith("|---"):
            codes.update(CODE.findall(line.split("|")[1]))
    return codes


def unexplained(text: str, defined: set[str]) -> list[str]:
    codes = {c for c in CODE.findall(text) if c not in NOT_CODES}
    return sorted(codes - defined) + sorted(set(m.group(0) for m in SPEC_REF.finditer(text)))


def _help_texts() -> dict[str, str]:
    from trader_runtime.cli.main import build_parser

    texts: dict[str, str] = {}

    def walk(parser: argparse.ArgumentParser) -> None:
        texts[parser.prog] = parser.format_help()
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    walk(sub)

    walk(build_parser())
    return texts


def _dagster_texts() -> dict[str, str]:
    from cointrader_pipelines.definitions import defs as load_defs

    defs = load_defs()
    graph = defs.resolve_asset_graph()
    repo = defs.get_repository_def()
    texts = {f"asset {k.to_user_string()}": graph.get(k).description or "" for k in graph.get_all_asset_keys()}
    texts.update({f"check {k.to_user_string()}": graph.get_check_spec(k).description or ""
                  for k in graph.asset_check_keys})  # fmt: skip
    texts.update({f"schedule {s.name}": s.description or "" for s in repo.schedule_defs})
    texts.update({f"sensor {s.name}": s.description or "" for s in repo.sensor_defs})
    texts.update({f"job {j.name}": j.description or "" for j in repo.get_all_jobs()})
    return texts


def _report_texts(tmp_path: Path) -> dict[str, str]:
    from cointrader_pipelines.reporting.discord import format_weekly_summary
    from cointrader_pipelines.reporting.html import render_weekly_html
    from cointrader_pipelines.reporting.journal_trades import read_closed_trades
    from cointrader_pipelines.reporting.weekly import WeeklyInputs, build_weekly_report, report_window
    from trader_runtime.config import PRODUCTION_PARAMS
    from trader_runtime.market.synthetic import generate_market
    from trader_runtime.storage.journal import Journal, TradeRow

    journal_path = tmp_path / "journal.sqlite"
    journal = Journal(journal_path, durable=False)
    ms = lambda text: int(pd.Timestamp(text, tz="UTC").value // 1_000_000)  # noqa: E731
    with journal.transaction() as tx:
        tx.open_trade(TradeRow("p1", "XRPUSDT", "LONG", "OPEN", "replay", ms("2025-12-22 10:00"), 2.0, 10.0, entry_fee=0.4))
        tx.update_trade("p1", status="CLOSED", exit_time_ms=ms("2025-12-22 12:00"), exit_price=2.1, gross_pnl=20.8,
                        exit_fee=0.4, net_pnl=20.0, close_reason="TP")  # fmt: skip
    journal.close()
    market = generate_market("XRPUSDT", 200, 7)
    previous = [{"report_date": "2025-12-21", "backtest": {"summary": {"profit_factor": 0.9, "win_rate": 35.0,
                                                                       "max_drawdown_pct": 12.0}}}]  # fmt: skip
    inputs = WeeklyInputs(
        window=report_window(dt.date(2025, 12, 28)), markets={"XRPUSDT": market.combined},
        params={"XRPUSDT": PRODUCTION_PARAMS}, ls_ratios={"xrp": market.ls_ratio},
        live_trades=read_closed_trades(journal_path), previous_reports=previous,
    )  # fmt: skip
    report = build_weekly_report(inputs, pd.Timestamp("2025-12-28 00:00", tz="UTC")).to_json_dict()
    html = render_weekly_html(report)
    visible = re.sub(r"<[^>]+>", " ", re.sub(r"data:image/png;base64,[^\"]+", "", html))
    return {"weekly report page": visible, "weekly report chat summary": format_weekly_summary(report)}


def test_decisions_document_defines_the_codes_the_code_base_cites():
    defined = defined_codes()
    assert {"D1", "D12", "D15", "BT-19", "INC-22", "DEF-14", "W-05", "PF-08", "MTF-01", "Q3"} <= defined
    # every code a comment or docstring cites is defined too, so "comments may keep references" holds
    cited: dict[str, set[str]] = {}
    for path in [*ROOT.glob("trader_runtime/**/*.py"), *ROOT.glob("cointrader_pipelines/**/*.py"),
                 *ROOT.glob("cointrader_pipelines/**/*.md"), ROOT / "README.md"]:  # fmt: skip
        for code in set(CODE.findall(path.read_text(encoding="utf-8"))) - NOT_CODES - defined:
            cited.setdefault(code, set()).add(str(path.relative_to(ROOT)))
    assert not cited, f"codes cited in the code base but not defined in docs/decisions.md: {cited}"


def test_unexplained_codes_are_detected():
    defined = {"D12"}
    assert unexplained("steps by the test length (D12)", defined) == []
    assert unexplained("applies BT-19 and D13", defined) == ["BT-19", "D13"]
    assert unexplained("see spec 20 §11 and 10 §9.4", defined) == ["10 §9.4", "spec 20 §11"]
    assert unexplained("hash SHA-256, ids ct-E-1, 2025-12-28", defined) == []


def test_help_text_has_no_unexplained_codes():
    defined = defined_codes()
    found = {prog: bad for prog, text in _help_texts().items() if (bad := unexplained(text, defined))}
    assert not found, f"help text with internal codes (say it in words or define it in docs/decisions.md): {found}"


def test_dagster_descriptions_have_no_unexplained_codes():
    defined = defined_codes()
    texts = _dagster_texts()
    assert any(name.startswith("schedule ") for name in texts) and any(name.startswith("check ") for name in texts)
    found = {name: bad for name, text in texts.items() if (bad := unexplained(text, defined))}
    assert not found, f"Dagster descriptions with internal codes: {found}"


@pytest.mark.timeout(600)
def test_weekly_report_has_no_unexplained_codes(tmp_path):
    defined = defined_codes()
    found = {name: bad for name, text in _report_texts(tmp_path).items() if (bad := unexplained(text, defined))}
    assert not found, f"weekly report with internal codes: {found}"
