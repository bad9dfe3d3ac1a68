"""The report's verdict line: keep / stop / not enough evidence, decided by the stated sample-size rule."""

from __future__ import annotations

import math

from cointrader_pipelines.reporting.html import render_weekly_html
from cointrader_pipelines.reporting.verdict import MIN_TRADES, decide, journal_kind


def _live(trades: int, pf: float, kind: str = "simulated") -> dict:
    return {"available": True, "journal_kind": kind, "cumulative": {"total_trades": trades, "profit_factor": pf}}


def test_too_few_out_of_sample_trades_is_not_enough_evidence():
    v = decide({"total_trades": MIN_TRADES - 1, "profit_factor": 3.0}, _live(2, 1.5), {})
    assert v["decision"] == "not enough evidence" and f"fewer than {MIN_TRADES}" in v["reason"]
    assert f"at least {MIN_TRADES} closed out-of-sample trades" in v["rule"]


def test_keep_stop_and_the_journal_once_it_has_enough_trades():
    enough = {"total_trades": 45, "profit_factor": 1.3}
    assert decide(enough, _live(5, 0.2), {})["decision"] == "keep"  # a small journal is not judged yet
    assert "not judged until" in decide(enough, _live(5, 0.2), {})["reason"]
    assert decide(enough, _live(40, 0.8), {})["decision"] == "stop"
    assert decide({"total_trades": 45, "profit_factor": 0.9}, _live(0, 0.0), {})["decision"] == "stop"
    assert decide({"total_trades": 45, "profit_factor": math.inf}, {"available": False}, {})["decision"] == "keep"


def test_a_tripped_kill_switch_means_stop():
    v = decide({"total_trades": 60, "profit_factor": 2.0}, _live(40, 2.0), {"XRPUSDT": {"killed": True}, "SOLUSDT": {"killed": False}})
    assert v["decision"] == "stop" and v["tripped"] == ["XRPUSDT"] and "kill switch tripped for XRPUSDT" in v["reason"]


def test_journal_kind_from_trader_modes():
    assert journal_kind(["replay"]) == journal_kind(["paper", "replay"]) == "simulated"
    assert journal_kind(["demo"]) == journal_kind(["live", "replay"]) == "live"
    assert journal_kind([]) == "unknown"


def test_page_opens_with_the_verdict_and_uses_the_trader_status_words(full_report):
    html = render_weekly_html(full_report)
    assert html.index('id="verdict"') < html.index('id="summary"') < html.index('id="equity"')
    v = full_report["verdict"]
    assert f"Verdict: <b>{v['decision'].upper()}</b>" in html and "Rule: A verdict needs at least" in html
    assert "Simulated trading (replay/paper journal)" in html and "Simulated trades this week" in html
    assert "Live trading" not in html  # a replay journal is never presented as live
    assert "armed" in html and "KILLED" not in html and ">active<" not in html
    assert "ends 13 days before the report date" in html or "before the report date" in html
    for label in ("Sortino", "Calmar", "SQN", "Longest drawdown", "Exit reason"):
        assert label in html
    assert "PASS when every required check holds" in html
