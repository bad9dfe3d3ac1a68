"""`cointrader sweep --strategy mtf-pullback`: the 162-combination grid, its ranking, JSON, the research
reproduction and bad input (exit 2, one line, nothing written)."""

from __future__ import annotations

import json
import math

import pytest

from tests.conftest import missing_reference_data, real_data_path
from trader_runtime.cli.main import main
from trader_runtime.market.synthetic import generate_market
from trader_runtime.strategy.mtf_pullback import MTFParams, run_mtf_backtest


@pytest.fixture(scope="module")
def frame():
    return generate_market("XRPUSDT", 120, 5).combined


@pytest.fixture(scope="module")
def parquet(tmp_path_factory, frame):
    path = tmp_path_factory.mktemp("data") / "xrpusdt_combined_15m.parquet"
    frame.to_parquet(path)
    return path


def _rank_key(s: dict, min_trades: int) -> tuple:
    pf = s["profit_factor"]
    return (s["trades"] < min_trades, -(1e9 if math.isinf(pf) else pf), -s["pnl_bps"])


def test_every_combination_is_ranked_and_the_default_row_equals_a_backtest(parquet, frame, tmp_path, capsys):
    out = tmp_path / "s.json"
    rc = main(["sweep", "--strategy", "mtf-pullback", "--data", str(parquet), "--start", "2025-10-01",
               "--min-trades", "5", "--top", "4", "--json", str(out)])  # fmt: skip
    assert rc == 0
    text = capsys.readouterr().out
    assert "162 combinations" in text and "ranked by profit factor with >= 5 trades first" in text
    data = json.loads(out.read_text())
    rows = data["rows"]
    assert len(rows) == 162 and [r["rank"] for r in rows] == list(range(1, 163))
    assert len({tuple(sorted(r["params"].items())) for r in rows}) == 162
    keys = [_rank_key(r["summary"], 5) for r in rows]
    assert keys == sorted(keys)
    assert sum(r["default"] for r in rows) == 1
    default = next(r for r in rows if r["default"])
    # the sweep's default row is the unit-size backtest of the same period, figure for figure
    single = run_mtf_backtest(frame, "XRPUSDT", start="2025-10-01", params=MTFParams())
    assert default["summary"] == single.summary["all"] and default["summary"]["trades"] > 0
    assert data["strategy"] == "mtf-pullback" and data["rules"]["warmup"] == "converged"


def test_legacy_default_row_is_the_research_result(tmp_path, capsys):
    path = real_data_path("XRPUSDT")
    if not path.exists():
        missing_reference_data(path)
    out = tmp_path / "s.json"
    rc = main(["sweep", "--strategy", "mtf-pullback", "--data", str(path), "--start", "2026-02-01", "--end", "2026-03-30",
               "--legacy", "--json", str(out)])  # fmt: skip
    assert rc == 0
    assert "default parameters rank" in capsys.readouterr().out
    default = next(r for r in json.loads(out.read_text())["rows"] if r["default"])["summary"]
    assert (default["trades"], default["profit_factor"], default["pnl_bps"], default["win_rate"]) == (35, 1.16, 661.8, 42.9)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--strategy", "mtf-pullback", "--workers", "2"], "drop --workers"),
        (["--strategy", "mtf-pullback", "--symbols", "XRPUSDT,DOGEUSDT"], "runs one symbol"),
        (["--strategy", "mtf-pullback", "--legacy"], "--legacy needs --start"),
        (["--strategy", "mtf-pullback", "--start", "2025-12-01", "--end", "2025-11-01"], "is before"),
        (["--strategy", "mtf-pullback", "--start", "soon"], "is not a date"),
        (["--strategy", "mtf-pullback", "--min-trades", "-1"], "--min-trades=-1"),
        (["--start", "2025-11-01"], "--start/--end apply to --strategy mtf-pullback"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(parquet, tmp_path, capsys, extra, message):
    out = tmp_path / "s.json"
    rc = main(["sweep", "--data", str(parquet), "--json", str(out), *extra])
    assert rc == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not out.exists()


def test_strategy_comes_from_the_configuration_when_the_flag_is_absent(parquet, tmp_path, capsys, monkeypatch):
    """As the trader and the backtest: STRATEGY_<SYMBOL> > STRATEGY > weighted-signal, and --strategy wins."""
    monkeypatch.setenv("STRATEGY", "weighted-signal")
    monkeypatch.setenv("STRATEGY_XRPUSDT", "mtf-pullback")
    out = tmp_path / "s.json"
    assert main(["sweep", "--data", str(parquet), "--start", "2025-10-01", "--top", "1", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["strategy"] == "mtf-pullback" and "162 combinations" in capsys.readouterr().out
    # the flag wins: a weighted-signal sweep refuses an MTF-only option before it runs
    assert main(["sweep", "--strategy", "weighted-signal", "--data", str(parquet), "--start", "2025-10-01"]) == 2
    assert "--start/--end apply to --strategy mtf-pullback" in capsys.readouterr().err
    # one grid per sweep: symbols configured with different strategies need the flag
    assert main(["sweep", "--symbols", "XRPUSDT,DOGEUSDT", "--data", str(parquet)]) == 2
    assert "configured with different strategies (DOGEUSDT=weighted-signal, XRPUSDT=mtf-pullback)" in capsys.readouterr().err
    monkeypatch.setenv("STRATEGY_XRPUSDT", "nope")
    assert main(["sweep", "--data", str(parquet), "--json", str(tmp_path / "bad.json")]) == 2
    err = capsys.readouterr().err
    assert "STRATEGY_XRPUSDT" in err and err.count("\n") == 1 and not (tmp_path / "bad.json").exists()
