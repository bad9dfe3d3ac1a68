from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from cointrader_pipelines.reporting.journal_trades import normalize_live_trades, read_closed_trades
from trader_runtime.errors import DataError


def test_reads_closed_trades_only_in_exit_order(make_journal, known_trades):
    trades = read_closed_trades(make_journal(known_trades))
    assert len(trades) == 6  # the open DOGE position is not a trade yet
    assert trades["exit_time"].is_monotonic_increasing
    assert str(trades["exit_time"].dt.tz) == "UTC"
    assert trades["net_pnl"].tolist() == [10.0, 0.0, -5.0, 20.0, -3.0, 7.0]
    assert trades.loc[0, "entry_fee"] + trades.loc[0, "exit_fee"] == pytest.approx(0.8)


def test_reading_never_changes_the_journal(make_journal, known_trades):
    path = make_journal(known_trades)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    read_closed_trades(path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_missing_journal_is_a_data_error_and_creates_nothing(tmp_path):
    path = tmp_path / "absent" / "journal.sqlite"
    with pytest.raises(DataError, match="does not exist"):
        read_closed_trades(path)
    assert not path.parent.exists()


def test_a_file_that_is_not_a_journal_is_a_data_error(tmp_path):
    path = tmp_path / "journal.sqlite"
    path.write_bytes(b"not a database" * 100)
    with pytest.raises(DataError, match="cannot read closed trades"):
        read_closed_trades(path)


def test_empty_journal_gives_an_empty_frame(make_journal):
    trades = read_closed_trades(make_journal([]))
    assert trades.empty
    assert {"symbol", "exit_time", "net_pnl"} <= set(trades.columns)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda f: f.drop(columns=["net_pnl"]), "missing column"),
        (lambda f: f.assign(net_pnl=["x", 1.0]), "non-numeric"),
        (lambda f: f.assign(exit_time=["yesterday", "2025-01-01T00:00:00Z"]), "not ISO-8601"),
    ],
)
def test_malformed_frames_are_refused(change, message):
    frame = pd.DataFrame(
        {
            "symbol": ["xrpusdt", "XRPUSDT"], "side": ["long", "SHORT"],
            "entry_time": ["2025-01-01T00:00:00Z", "2025-01-01T01:00:00Z"],
            "exit_time": [1735693200000, 1735696800000], "gross_pnl": [1.0, 2.0], "entry_fee": [0.1, 0.1],
            "exit_fee": [0.1, 0.1], "net_pnl": [0.8, 1.8], "close_reason": ["TP", "SL"],
        }
    )  # fmt: skip
    ok = normalize_live_trades(frame)
    assert ok["symbol"].tolist() == ["XRPUSDT", "XRPUSDT"] and ok["side"].tolist() == ["LONG", "SHORT"]
    assert ok["exit_time"].iloc[0] == pd.Timestamp("2025-01-01 01:00", tz="UTC")
    with pytest.raises(DataError, match=message):
        normalize_live_trades(change(frame))
