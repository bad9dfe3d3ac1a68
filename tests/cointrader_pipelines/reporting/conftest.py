"""Shared inputs of the reporting tests: a seeded synthetic market and a real runtime journal with known trades.

The report week used throughout is the one dated 2025-12-28 (Sunday 03:00 Asia/Seoul), i.e.
[2025-12-20 18:00, 2025-12-27 18:00) UTC; `KNOWN_TRADES` places trades before, inside, at the end of and after it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Callable

import pandas as pd
import pytest

from trader_runtime.market.synthetic import SyntheticMarket, generate_market
from trader_runtime.storage.journal import Journal, TradeRow

REPORT_DATE = dt.date(2025, 12, 28)

#: (symbol, side, entry, exit or None, gross, entry_fee, exit_fee, net, reason)
KNOWN_TRADES = [
    ("XRPUSDT", "LONG", "2025-12-10 08:00", "2025-12-10 10:00", 10.8, 0.4, 0.4, 10.0, "TP"),
    ("XRPUSDT", "SHORT", "2025-12-20 17:00", "2025-12-20 17:59", 0.8, 0.4, 0.4, 0.0, "SL"),  # break-even, before week
    ("XRPUSDT", "SHORT", "2025-12-21 08:00", "2025-12-21 09:00", -4.2, 0.4, 0.4, -5.0, "SL"),
    ("XRPUSDT", "LONG", "2025-12-22 10:00", "2025-12-22 12:00", 20.8, 0.4, 0.4, 20.0, "TP"),
    ("SOLUSDT", "LONG", "2025-12-22 22:00", "2025-12-23 00:00", -2.2, 0.4, 0.4, -3.0, "SL"),
    ("XRPUSDT", "LONG", "2025-12-27 17:00", "2025-12-27 18:00", 7.8, 0.4, 0.4, 7.0, "TP"),  # exits at the week end
    ("DOGEUSDT", "LONG", "2025-12-26 10:00", None, 0.0, 0.4, 0.0, 0.0, ""),  # still open
]


def _ms(text: str) -> int:
    return int(pd.Timestamp(text, tz="UTC").value // 1_000_000)


def write_journal_rows(path: Path, rows: list[tuple]) -> Path:
    """Write trades through the runtime's own journal writer (the file the service would produce)."""
    journal = Journal(path, durable=False)
    try:
        for i, (sym, side, entry, exit_, gross, efee, xfee, net, reason) in enumerate(rows):
            pid = f"p{i}"
            with journal.transaction() as tx:
                tx.open_trade(TradeRow(pid, sym, side, "OPEN", "replay", _ms(entry), 2.0, 10.0, entry_fee=efee))
                if exit_ is not None:
                    tx.update_trade(
                        pid, status="CLOSED", exit_time_ms=_ms(exit_), exit_price=2.1, gross_pnl=gross,
                        exit_fee=xfee, net_pnl=net, close_reason=reason,
                    )  # fmt: skip
    finally:
        journal.close()
    return path


@pytest.fixture
def known_trades() -> list[tuple]:
    return list(KNOWN_TRADES)


@pytest.fixture
def report_date() -> dt.date:
    return REPORT_DATE


@pytest.fixture
def make_journal(tmp_path) -> Callable[[list[tuple]], Path]:
    def make(rows: list[tuple], name: str = "journal.sqlite") -> Path:
        return write_journal_rows(tmp_path / name, rows)

    return make


@pytest.fixture(scope="session")
def full_report(synthetic, tmp_path_factory) -> dict:
    """Strict-JSON report of the synthetic market with the known journal and two previous weeks (every section)."""
    from cointrader_pipelines.reporting.journal_trades import read_closed_trades
    from cointrader_pipelines.reporting.weekly import WeeklyInputs, build_weekly_report, report_window
    from trader_runtime.config import PRODUCTION_PARAMS

    journal = write_journal_rows(tmp_path_factory.mktemp("journal") / "journal.sqlite", KNOWN_TRADES)
    previous = [
        {"report_date": d, "backtest": {"summary": {"profit_factor": pf, "win_rate": wr, "max_drawdown_pct": 12.0}}}
        for d, pf, wr in (("2025-12-14", 1.3, 45.0), ("2025-12-21", 0.9, 35.0))
    ]
    inputs = WeeklyInputs(
        window=report_window(REPORT_DATE), markets={"XRPUSDT": synthetic.combined}, params={"XRPUSDT": PRODUCTION_PARAMS},
        ls_ratios={"xrp": synthetic.ls_ratio}, live_trades=read_closed_trades(journal), previous_reports=previous,
    )  # fmt: skip
    return build_weekly_report(inputs, pd.Timestamp("2025-12-28 00:00", tz="UTC")).to_json_dict()


@pytest.fixture(scope="session")
def synthetic() -> SyntheticMarket:
    """200 days ending 2026-01-01: three walk-forward folds of 3/1 months before the 2025-12-28 report."""
    return generate_market("XRPUSDT", 200, 7)
