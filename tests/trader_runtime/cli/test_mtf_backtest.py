"""`cointrader backtest --strategy mtf-pullback`: the research table, JSON, the window option and bad input."""

from __future__ import annotations

import json

import pytest

from tests.conftest import missing_reference_data, real_data_path
from trader_runtime.cli.main import main
from trader_runtime.market.synthetic import generate_market


@pytest.fixture(scope="module")
def parquet(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "xrpusdt_combined_15m.parquet"
    generate_market("XRPUSDT", 120, 5).combined.to_parquet(path)
    return path


def test_legacy_command_reproduces_the_research_table(tmp_path, capsys):
    path = real_data_path("XRPUSDT")
    if not path.exists():
        missing_reference_data(path)
    out = tmp_path / "m.json"
    rc = main(["backtest", "--strategy", "mtf-pullback", "--symbol", "XRPUSDT", "--data", str(path),
               "--start", "2026-02-01", "--end", "2026-03-30", "--legacy", "--json", str(out)])  # fmt: skip
    assert rc == 0
    text = capsys.readouterr().out
    assert "  all        35   42.9   1.16     661.8      1868.5    322.1    -208.5" in text
    assert "    1  SHORT 2026-02-01 05:45   1.6580   1.5876   +416.4  TP" in text
    assert "   35  LONG  2026-03-17 07:30   1.5374   1.5024   -235.3  SL" in text
    data = json.loads(out.read_text())
    assert data["summary"]["all"]["trades"] == 35 and len(data["trades"]) == 35
    assert data["rules"]["warmup"] == "research"


def test_platform_run_on_synthetic_data_with_params(parquet, tmp_path, capsys):
    out = tmp_path / "m.json"
    rc = main(["backtest", "--strategy", "mtf-pullback", "--data", str(parquet), "--param", "ema_slow_1h=100",
               "--param", "sl_mult=2", "--json", str(out)])  # fmt: skip
    assert rc == 0
    text = capsys.readouterr().out
    assert "platform default" in text and "SL 2×ATR_1h" in text and "decisions start at" in text
    data = json.loads(out.read_text())
    assert data["params"]["ema_slow_1h"] == 100 and data["params"]["sl_mult"] == 2.0
    assert data["summary"]["all"]["trades"] == len(data["trades"]) > 0
    account = data["account"]
    assert "on the account" in text and account["summary"]["total_trades"] == len(account["trades"])
    assert account["config"]["params"]["atr_sl_mult"] == 2.0


def test_walk_forward_on_the_account(parquet, capsys):
    rc = main(["backtest", "--strategy", "mtf-pullback", "--data", str(parquet), "--walk-forward", "--train-months", "1"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "walk-forward" in out and "MTF pullback: SL 1.5×ATR_1h" in out and "fold" in out


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--param", "nope=1"], "expected NAME=VALUE"),
        (["--param", "sl_mult=abc"], "not a valid float"),
        (["--param", "sl_mult=-1"], "sl_mult=-1.0 is out of range"),
        (["--start", "yesterday-ish"], "is not a date"),
        (["--start", "2026-03-01", "--end", "2026-02-01"], "is before"),
        (["--legacy"], "--legacy needs --start"),
        (["--legacy", "--start", "2025-11-01", "--walk-forward"], "drop --walk-forward"),
        (["--walk-forward", "--start", "2025-11-01"], "single run"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(parquet, tmp_path, capsys, extra, message):
    out = tmp_path / "m.json"
    rc = main(["backtest", "--strategy", "mtf-pullback", "--data", str(parquet), "--json", str(out), *extra])
    assert rc == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not out.exists()


def test_weighted_strategy_accepts_a_window_and_refuses_mtf_params(parquet, tmp_path, capsys):
    out = tmp_path / "w.json"
    assert main(["backtest", "--data", str(parquet), "--start", "2025-11-01", "--end", "2025-11-30", "--json", str(out)]) == 0
    trades = json.loads(out.read_text())["trades"]
    assert trades and all("2025-11-01" <= t["entry_time"][:10] <= "2025-11-30" for t in trades)
    capsys.readouterr()
    assert main(["backtest", "--data", str(parquet), "--param", "sl_mult=2"]) == 2
    assert "--param applies to --strategy mtf-pullback" in capsys.readouterr().err
