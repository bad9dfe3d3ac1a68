"""`cointrader data import|synth|quality` through the real root parser, with real Parquet and DuckDB files."""

from __future__ import annotations

import pandas as pd
import pytest

from trader_runtime.domain.schema import COMBINED_COLUMNS
from trader_runtime.storage.warehouse import Warehouse


@pytest.fixture()
def combined_file(tmp_path, run_cli, real_xrp_path):
    """The real XRP file as shipped when it is beside the repository, else a synthetic file from `data synth`."""
    if real_xrp_path.exists():
        return real_xrp_path
    out = tmp_path / "synthetic" / "xrpusdt_combined_15m.parquet"
    assert run_cli("data", "synth", "--symbol", "XRPUSDT", "--days", "20", "--seed", "4", "--out", out) == 0
    return out


def test_import_loads_the_file_into_the_warehouse(tmp_path, run_cli, combined_file, capsys):
    wh_path = tmp_path / "store" / "market.duckdb"
    assert run_cli("data", "import", combined_file, "--symbol", "XRPUSDT", "--warehouse", wh_path) == 0
    source = pd.read_parquet(combined_file)
    stored = Warehouse(wh_path).read_candles("XRPUSDT")
    assert len(stored) == len(source)
    ohlcv = ["open", "high", "low", "close", "volume"]
    pd.testing.assert_frame_equal(stored[ohlcv], source[ohlcv])
    assert f"inserted {len(source)}" in capsys.readouterr().out
    assert run_cli("data", "import", combined_file, "--symbol", "XRPUSDT", "--warehouse", wh_path) == 0
    assert f"updated {len(source)}" in capsys.readouterr().out


def test_synth_out_writes_the_combined_schema_deterministically(tmp_path, run_cli):
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    for out in (a, b):
        assert run_cli("data", "synth", "--symbol", "SOLUSDT", "--days", "3", "--seed", "7", "--out", out) == 0
    frame = pd.read_parquet(a)
    assert list(frame.columns) == list(COMBINED_COLUMNS) and len(frame) == 3 * 96
    assert str(frame.index.dtype) == "datetime64[ms, UTC]" and frame.index.name == "timestamp"
    pd.testing.assert_frame_equal(frame, pd.read_parquet(b))
    assert not (tmp_path / "warehouse").exists()


def test_synth_into_the_default_warehouse_then_quality(tmp_path, run_cli, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COINTRADER_WAREHOUSE", str(tmp_path / "env" / "wh.duckdb"))
    assert run_cli("data", "synth", "--symbol", "dogeusdt", "--days", "4", "--seed", "1") == 0
    wh = Warehouse(tmp_path / "env" / "wh.duckdb")
    assert wh.symbols() == ["DOGEUSDT"]
    assert wh.coverage("DOGEUSDT").ls_ratio_rows == 4 * 96
    capsys.readouterr()
    assert run_cli("data", "quality", "--symbol", "DOGEUSDT") == 0
    out = capsys.readouterr().out
    assert "quality: ok" in out and "funding_rate 100.0%" in out


def test_quality_exit_code_1_when_issues_are_found(tmp_path, run_cli, capsys):
    wh_path = tmp_path / "wh.duckdb"
    frame = pd.read_parquet(_synth(tmp_path, run_cli))
    Warehouse(wh_path).upsert_candles("XRPUSDT", frame.drop(frame.index[40:43]), now=pd.Timestamp("2027-01-01", tz="UTC"))
    assert run_cli("data", "quality", "--symbol", "XRPUSDT", "--warehouse", wh_path) == 1
    assert "3 missing candle(s)" in capsys.readouterr().out


def test_missing_file_exits_2_and_writes_nothing(tmp_path, run_cli, capsys):
    wh_path = tmp_path / "wh.duckdb"
    assert run_cli("data", "import", tmp_path / "nope.parquet", "--symbol", "XRPUSDT", "--warehouse", wh_path) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: PATH=") and err.endswith("not found") and "\n" not in err
    assert not wh_path.exists()


@pytest.mark.parametrize("kind", ["wrong columns", "not parquet", "naive timestamps"])
def test_wrong_schema_exits_2_and_changes_nothing(tmp_path, run_cli, capsys, kind):
    bad = tmp_path / "bad.parquet"
    good = pd.read_parquet(_synth(tmp_path, run_cli))
    if kind == "wrong columns":
        pd.DataFrame({"a": [1.0], "b": [2.0]}).to_parquet(bad)
    elif kind == "not parquet":
        bad.write_text("timestamp,open\n")
    else:
        good.tz_localize(None).to_parquet(bad)
    wh_path = tmp_path / "wh.duckdb"
    assert run_cli("data", "import", bad, "--symbol", "XRPUSDT", "--warehouse", wh_path) == 2
    assert not wh_path.exists()
    Warehouse(wh_path).upsert_candles("XRPUSDT", good, now=pd.Timestamp("2027-01-01", tz="UTC"))
    assert run_cli("data", "import", bad, "--symbol", "XRPUSDT", "--warehouse", wh_path) == 2
    pd.testing.assert_frame_equal(Warehouse(wh_path).read_candles("XRPUSDT"), good)
    assert capsys.readouterr().err.count("error:") == 2


def test_ls_ratio_file_is_imported_into_its_table(tmp_path, run_cli):
    ls_path = tmp_path / "ls.parquet"
    pd.DataFrame(
        {
            "timestamp": pd.to_datetime(["2026-03-22 13:15", "2026-03-22 13:30", "2026-03-22 13:30"], utc=True),
            "top_acct_ls_ratio": [2.7092, 2.7147, 2.7000],
            "global_ls_ratio": [2.5112, 2.5162, 2.5000],
        }
    ).to_parquet(ls_path)
    wh_path = tmp_path / "wh.duckdb"
    assert run_cli("data", "import", ls_path, "--symbol", "XRPUSDT", "--warehouse", wh_path) == 0
    assert Warehouse(wh_path).read_ls_ratio("XRPUSDT")["top_acct_ls_ratio"].tolist() == [2.7092, 2.7147]


@pytest.mark.parametrize(
    "argv",
    [
        ("data", "synth", "--symbol", "XRPUSDT", "--days", "0"),
        ("data", "synth", "--symbol", "XRP/USDT", "--days", "2"),
        ("data", "synth", "--symbol", "XRPUSDT", "--days", "2", "--end", "2026-01-01 00:05+00:00"),
        ("data", "synth", "--symbol", "XRPUSDT", "--days", "2", "--out", "x.csv"),
        ("data", "quality", "--symbol", "XRPUSDT"),
    ],
)
def test_bad_arguments_exit_2_without_writing(tmp_path, run_cli, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COINTRADER_WAREHOUSE", str(tmp_path / "wh.duckdb"))
    assert run_cli(*argv) == 2
    assert list(tmp_path.iterdir()) == []


def test_help_texts(run_cli, capsys):
    with pytest.raises(SystemExit) as exc:
        run_cli("data", "import", "--help")
    assert exc.value.code == 0
    assert "combined 15m" in capsys.readouterr().out


def _synth(tmp_path, run_cli):
    out = tmp_path / "synth.parquet"
    assert run_cli("data", "synth", "--symbol", "XRPUSDT", "--days", "3", "--seed", "2", "--out", out) == 0
    return out
