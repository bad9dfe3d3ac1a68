"""`cointrader data bulk|export|purge` and row provenance through the real root parser."""

from __future__ import annotations

import pandas as pd
import pytest

from trader_runtime.cli import main as cli_main
from trader_runtime.market.bulk.layout import Kind, Month, monthly
from trader_runtime.storage.warehouse import Warehouse
from trader_runtime.testing.bulk_mirror import synthetic_mirror

END = pd.Timestamp("2025-03-01", tz="UTC")


@pytest.fixture()
def small_mirror(tmp_path):
    return synthetic_mirror(tmp_path / "mirror", "XRPUSDT", days=59, seed=5, end=END)  # 2025-01 and 2025-02


def test_bulk_then_export_round_trips_the_synthetic_market(small_mirror, tmp_path, run_cli, capsys):
    wh = tmp_path / "w.duckdb"
    assert run_cli("data", "bulk", "--source", small_mirror.root, "--symbols", "xrpusdt", "--from", "2025-01",
                   "--to", "2025-02", "--warehouse", wh) == 0
    out = capsys.readouterr().out
    assert "XRPUSDT    2025-02  klines           2688     2688        0  1 monthly imported" in out
    assert "XRPUSDT    2025-02  metrics" in out
    target = tmp_path / "out" / "x.parquet"
    assert run_cli("data", "export", "--symbol", "XRPUSDT", "--warehouse", wh, "--out", target,
                   "--start", "2025-02-01", "--end", "2025-02-15") == 0
    frame = pd.read_parquet(target)
    expected = small_mirror.candles.loc["2025-02-01":"2025-02-14 23:45"]
    cols = [c for c in expected.columns if c not in ("oi_change", "funding_rate")]
    pd.testing.assert_frame_equal(frame[cols], expected[cols], check_exact=True, check_freq=False)
    assert frame["funding_rate"].notna().all() and frame["oi_change"].notna().all()
    # a second run reads no zip again and changes nothing
    before = Warehouse(wh).read_candles("XRPUSDT")
    assert run_cli("data", "bulk", "--source", small_mirror.root, "--symbols", "XRPUSDT", "--from", "2025-01",
                   "--to", "2025-02", "--warehouse", wh) == 0
    assert "unchanged" in capsys.readouterr().out
    pd.testing.assert_frame_equal(before, Warehouse(wh).read_candles("XRPUSDT"))


def test_refused_file_gives_exit_code_2_and_keeps_the_verified_files(small_mirror, tmp_path, run_cli, capsys):
    ref = monthly(Kind.FUNDING, "XRPUSDT", Month(2025, 2))
    path = small_mirror.root / ref.path
    path.write_bytes(path.read_bytes()[:-10])
    wh = tmp_path / "w.duckdb"
    assert run_cli("data", "bulk", "--source", small_mirror.root, "--symbols", "XRPUSDT", "--from", "2025-01",
                   "--to", "2025-02", "--warehouse", wh) == 2
    out = capsys.readouterr().out
    assert f"REFUSED {ref.path}: SHA-256 of the zip does not match its CHECKSUM" in out
    settled = Warehouse(wh).read_funding_settlements("XRPUSDT")
    assert settled["calc_time"].max() < pd.Timestamp("2025-02-01", tz="UTC")
    assert len(Warehouse(wh).read_candles("XRPUSDT")) == 59 * 96


@pytest.mark.parametrize("argv, message", [
    (("--symbols", "XRPUSDT", "--from", "2025-13"), "not a month"),
    (("--symbols", "XRPUSDT", "--from", "2025-02", "--to", "2025-01"), "before --from"),
    (("--symbols", "XRP/USDT"), "XRP/USDT"),
    (("--symbols", "XRPUSDT", "--from", "2025-01", "--to", "2099-01"), "future"),
])
def test_bad_bulk_arguments_exit_2_and_write_nothing(small_mirror, tmp_path, run_cli, capsys, argv, message):
    wh = tmp_path / "w.duckdb"
    assert run_cli("data", "bulk", "--source", small_mirror.root, *argv, "--warehouse", wh) == 2
    assert message in capsys.readouterr().err
    assert not wh.exists()


def test_bulk_source_must_be_a_folder_or_url(tmp_path, run_cli, capsys):
    assert run_cli("data", "bulk", "--source", tmp_path / "nope", "--symbols", "XRPUSDT",
                   "--warehouse", tmp_path / "w.duckdb") == 2
    assert "neither a folder nor an http(s) URL" in capsys.readouterr().err


def test_synthetic_rows_never_sit_beside_real_rows(tmp_path, run_cli, capsys):
    wh = tmp_path / "w.duckdb"
    assert run_cli("data", "synth", "--symbol", "XRPUSDT", "--days", "3", "--warehouse", wh) == 0
    real = tmp_path / "real.parquet"
    assert run_cli("data", "synth", "--symbol", "XRPUSDT", "--days", "2", "--seed", "9", "--out", real) == 0
    before = Warehouse(wh).read_candles("XRPUSDT")
    assert run_cli("data", "import", real, "--symbol", "XRPUSDT", "--warehouse", wh) == 2
    err = capsys.readouterr().err
    assert "already holds 288 synthetic row(s)" in err and "cointrader data purge --symbol XRPUSDT --source synthetic" in err
    pd.testing.assert_frame_equal(before, Warehouse(wh).read_candles("XRPUSDT"))
    assert run_cli("data", "purge", "--symbol", "XRPUSDT", "--source", "synthetic", "--warehouse", wh) == 0
    assert run_cli("data", "import", real, "--symbol", "XRPUSDT", "--warehouse", wh) == 0
    assert set(Warehouse(wh).coverage_by_source("XRPUSDT")["source"]) == {"parquet"}
    # and the other way round: no synthetic rows into a symbol with real rows
    assert run_cli("data", "synth", "--symbol", "XRPUSDT", "--days", "3", "--warehouse", wh) == 2
    assert "already holds 192 parquet row(s)" in capsys.readouterr().err


def test_quality_reports_coverage_by_source(small_mirror, tmp_path, run_cli, capsys):
    wh = tmp_path / "w.duckdb"
    assert run_cli("data", "bulk", "--source", small_mirror.root, "--symbols", "XRPUSDT", "--from", "2025-01",
                   "--to", "2025-02", "--warehouse", wh) == 0
    capsys.readouterr()
    run_cli("data", "quality", "--symbol", "XRPUSDT", "--warehouse", wh)
    out = capsys.readouterr().out
    assert "by source:" in out
    assert "bulk      candles    5664" in out and "L/S rows" in out


def test_export_refuses_bad_arguments(tmp_path, run_cli, capsys):
    assert run_cli("data", "export", "--symbol", "XRPUSDT", "--warehouse", tmp_path / "w.duckdb",
                   "--out", tmp_path / "x.csv") == 2
    assert ".parquet" in capsys.readouterr().err
    assert run_cli("data", "export", "--symbol", "XRPUSDT", "--warehouse", tmp_path / "w.duckdb",
                   "--out", tmp_path / "x.parquet") == 2
    assert "does not exist" in capsys.readouterr().err


def test_metric_features_from_the_archive_reach_the_ml_research(small_mirror, tmp_path, run_cli, capsys,
                                                                monkeypatch):
    """`data export --metrics` adds the metric inputs at each close; `ml walk-forward` on the warehouse and on that
    file sees the same data and reports the metric features as filled."""
    wh = tmp_path / "w.duckdb"
    assert run_cli("data", "bulk", "--source", small_mirror.root, "--symbols", "XRPUSDT", "--from", "2025-01",
                   "--to", "2025-02", "--warehouse", wh) == 0
    target = tmp_path / "m.parquet"
    assert run_cli("data", "export", "--symbol", "XRPUSDT", "--warehouse", wh, "--out", target, "--metrics") == 0
    frame = pd.read_parquet(target)
    close = frame.index + pd.Timedelta(minutes=15)
    metrics = small_mirror.metrics
    assert (frame["top_acct_ls_ratio"].to_numpy() == metrics["top_acct_ls_ratio"].reindex(close).to_numpy())[1:].all()
    assert (frame["oi_value"].to_numpy() == metrics["sum_open_interest_value"].reindex(close).to_numpy())[1:].all()
    capsys.readouterr()
    monkeypatch.setattr(cli_main, "COMMAND_MODULES", ("trader_runtime.cli.data", "trader_runtime.cli.ml"))
    outputs = []
    for source in (("--warehouse", wh), ("--data", target)):
        assert run_cli("ml", "walk-forward", *source, "--folds", "2", "--no-backtest") == 0
        outputs.append(capsys.readouterr().out)
    for out in outputs:
        coverage = next(line for line in out.splitlines() if line.startswith("feature coverage"))
        for name in ("oi_value", "top_acct_ls_ratio", "global_ls_ratio", "taker_ls_vol_ratio"):
            assert f"{name} 100%" in coverage, coverage
    assert outputs[0].split("s):")[1] == outputs[1].split("s):")[1]
