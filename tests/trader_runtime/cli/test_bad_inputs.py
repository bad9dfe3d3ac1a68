"""Every sub-command refuses bad input in one line with exit code 2 and leaves the working folder byte-for-byte
unchanged: nothing (journal, warehouse, MLflow store, Dagster home, report, JSON) is created before validation.

The folder holds the bad files some cases point at (a zero-row parquet, a corrupt journal, a parquet file given as
the warehouse, ...); the snapshot covers them too, so a command that "repairs" or appends to them fails the test.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trader_runtime.cli import main as cli_main
from trader_runtime.cli.validation import SQLITE_MAGIC
from trader_runtime.market.synthetic import generate_market


def _market(days: int = 20) -> pd.DataFrame:
    return generate_market("XRPUSDT", days, 3).combined


def _write_inputs(root: Path) -> None:
    good = _market()
    good.to_parquet(root / "good.parquet")
    good.iloc[:0].to_parquet(root / "empty.parquet")
    (root / "corrupt.parquet").write_bytes(b"PAR1 this is not really parquet")
    dup = pd.concat([good, good.iloc[[100]].assign(close=good["close"].iloc[100] * 1.01)])
    dup.to_parquet(root / "conflicting_dups.parquet")
    for name, change in {
        "inf_price.parquet": lambda f: f.assign(high=f["high"].where(f.index != f.index[50], np.inf)),
        "zero_price.parquet": lambda f: f.assign(low=f["low"].where(f.index != f.index[60], 0.0)),
        "negative_price.parquet": lambda f: f.assign(close=f["close"].where(f.index != f.index[70], -1.0)),
        "offgrid.parquet": lambda f: f.set_axis(f.index.where(f.index != f.index[80], f.index[80] + pd.Timedelta(minutes=7))),
        "naive.parquet": lambda f: f.tz_localize(None),
    }.items():
        change(good.copy()).to_parquet(root / name)
    (root / "journal").mkdir()
    (root / "journal" / "trader-replay.sqlite").write_bytes(SQLITE_MAGIC + b"\x00" * 84 + b"garbage" * 50)
    (root / "broken.sqlite").write_bytes(b"this is no database at all")
    (root / "not_a_dir").write_text("a file where a folder is expected")
    (root / "settings.env").write_text("ATR_SL_MULT=2.0\n")


def _snapshot(root: Path) -> dict[str, str]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel = Path(dirpath).relative_to(root)
        out[f"{rel}/"] = "dir"
        for name in filenames:
            out[str(rel / name)] = hashlib.sha256((Path(dirpath) / name).read_bytes()).hexdigest()
    return out


J = ["--journal", "journal/trader-replay.sqlite"]  # the corrupt one
NOJ = ["--journal", "j/none.sqlite"]  # missing: the report is then partial
CASES: list[tuple[str, list[str], dict[str, str]]] = [
    # data
    ("import zero rows", ["data", "import", "empty.parquet", "--symbol", "XRPUSDT"], {}),
    ("import corrupt parquet", ["data", "import", "corrupt.parquet", "--symbol", "XRPUSDT"], {}),
    ("import missing file", ["data", "import", "nope.parquet", "--symbol", "XRPUSDT"], {}),
    ("import conflicting duplicates", ["data", "import", "conflicting_dups.parquet", "--symbol", "XRPUSDT"], {}),
    ("import inf price", ["data", "import", "inf_price.parquet", "--symbol", "XRPUSDT"], {}),
    ("import off-grid", ["data", "import", "offgrid.parquet", "--symbol", "XRPUSDT"], {}),
    ("import warehouse is a parquet file", ["data", "import", "good.parquet", "--symbol", "XRPUSDT", "--warehouse", "good.parquet"], {}),
    ("import warehouse under a file", ["data", "import", "good.parquet", "--symbol", "XRPUSDT", "--warehouse", "not_a_dir/w.duckdb"], {}),
    ("import bad symbol", ["data", "import", "good.parquet", "--symbol", "XRP-USDT"], {}),
    ("synth zero days", ["data", "synth", "--symbol", "XRPUSDT", "--days", "0"], {}),
    ("synth off-grid end", ["data", "synth", "--symbol", "XRPUSDT", "--end", "2025-01-01T00:07"], {}),
    ("synth bad end", ["data", "synth", "--symbol", "XRPUSDT", "--end", "yesterday-ish"], {}),
    ("synth out not parquet", ["data", "synth", "--symbol", "XRPUSDT", "--out", "x.csv"], {}),
    ("synth out uncreatable", ["data", "synth", "--symbol", "XRPUSDT", "--out", "not_a_dir/x.parquet"], {}),
    ("quality no warehouse", ["data", "quality", "--symbol", "XRPUSDT"], {}),
    ("quality warehouse is a parquet", ["data", "quality", "--symbol", "XRPUSDT", "--warehouse", "good.parquet"], {}),
    # backtest / sweep
    ("backtest zero rows", ["backtest", "--data", "empty.parquet"], {}),
    ("backtest corrupt data", ["backtest", "--data", "corrupt.parquet"], {}),
    ("backtest conflicting duplicates", ["backtest", "--data", "conflicting_dups.parquet"], {}),
    ("backtest inf price", ["backtest", "--data", "inf_price.parquet"], {}),
    ("backtest zero price", ["backtest", "--data", "zero_price.parquet"], {}),
    ("backtest negative price", ["backtest", "--data", "negative_price.parquet"], {}),
    ("backtest off-grid", ["backtest", "--data", "offgrid.parquet"], {}),
    ("backtest naive timestamps", ["backtest", "--data", "naive.parquet"], {}),
    ("backtest adx -5", ["backtest", "--adx", "-5"], {}),
    ("backtest sl nan", ["backtest", "--sl", "nan"], {}),
    ("backtest zero balance", ["backtest", "--balance", "0"], {}),
    ("backtest leverage 500", ["backtest", "--leverage", "500"], {}),
    ("backtest train 0", ["backtest", "--walk-forward", "--train-months", "0"], {}),
    ("backtest json uncreatable", ["backtest", "--days", "20", "--json", "not_a_dir/r.json"], {}),
    ("backtest json is a folder", ["backtest", "--days", "20", "--json", "journal"], {}),
    ("backtest not an int", ["backtest", "--days", "many"], {}),
    ("sweep zero rows", ["sweep", "--data", "empty.parquet"], {}),
    ("sweep inf price", ["sweep", "--data", "inf_price.parquet"], {}),
    ("sweep workers 0", ["sweep", "--workers", "0"], {}),
    ("sweep json uncreatable", ["sweep", "--json", "not_a_dir/s.json"], {}),
    # trader
    ("run corrupt journal", ["trader", "run", "--http-port", "-1", *J], {}),
    ("run http port 70000", ["trader", "run", "--http-port", "70000", "--journal", "j/new.sqlite"], {}),
    ("run days 0", ["trader", "run", "--days", "0", "--journal", "j/new.sqlite"], {}),
    ("run negative speed", ["trader", "run", "--speed", "-1", "--journal", "j/new.sqlite"], {}),
    ("run zero balance", ["trader", "run", "--balance", "0", "--journal", "j/new.sqlite"], {}),
    ("run inf balance", ["trader", "run", "--balance", "inf", "--journal", "j/new.sqlite"], {}),
    ("run source not parquet", ["trader", "run", "--source", "data.csv", "--journal", "j/new.sqlite"], {}),
    ("run source zero rows", ["trader", "run", "--source", "empty.parquet", "--journal", "j/new.sqlite"], {}),
    ("run source inf price", ["trader", "run", "--source", "inf_price.parquet", "--journal", "j/new.sqlite"], {}),
    ("run source off-grid", ["trader", "run", "--source", "offgrid.parquet", "--journal", "j/new.sqlite"], {}),
    ("run source conflicting duplicates", ["trader", "run", "--source", "conflicting_dups.parquet", "--journal", "j/new.sqlite"], {}),
    ("run source warehouse missing", ["trader", "run", "--source", "warehouse", "--journal", "j/new.sqlite"], {}),
    ("run start after end", ["trader", "run", "--source", "good.parquet", "--start", "2025-03-01", "--end", "2025-02-01",
                             "--journal", "j/new.sqlite"], {}),
    ("run bad start", ["trader", "run", "--source", "good.parquet", "--start", "soon", "--journal", "j/new.sqlite"], {}),
    ("run empty symbols", ["trader", "run", "--symbols", "", "--journal", "j/new.sqlite"], {}),
    ("run bad symbol", ["trader", "run", "--symbols", "XRP/USDT", "--journal", "j/new.sqlite"], {}),
    ("run duplicate symbols", ["trader", "run", "--symbols", "XRPUSDT,xrpusdt", "--journal", "j/new.sqlite"], {}),
    ("run SYMBOLS empty", ["trader", "run", "--journal", "j/new.sqlite"], {"SYMBOLS": ""}),
    ("run live without keys", ["trader", "run", "--mode", "live", "--journal", "j/new.sqlite"], {}),
    ("run demo without keys", ["trader", "run", "--mode", "demo", "--journal", "j/new.sqlite"], {}),
    ("run journal under a file", ["trader", "run", "--journal", "not_a_dir/j.sqlite"], {}),
    ("run journal is not sqlite", ["trader", "run", "--journal", "broken.sqlite"], {}),
    ("run missing config", ["trader", "run", "--config", "nope.env", "--journal", "j/new.sqlite"], {}),
    ("run bad env leverage", ["trader", "run", "--journal", "j/new.sqlite"], {"LEVERAGE": "0"}),
    ("run bad env strategy", ["trader", "run", "--journal", "j/new.sqlite"], {"ATR_SL_MULT_XRPUSDT": "abc"}),
    ("run bad rest url", ["trader", "run", "--rest-url", "localhost:1", "--journal", "j/new.sqlite"], {}),
    ("status corrupt journal", ["trader", "status", *J], {}),
    ("status missing journal", ["trader", "status", "--journal", "j/none.sqlite"], {}),
    ("status not sqlite", ["trader", "status", "--journal", "broken.sqlite"], {}),
    ("reset-kill corrupt journal", ["trader", "reset-kill", "XRPUSDT", *J], {}),
    ("reset-kill missing journal", ["trader", "reset-kill", "XRPUSDT", "--journal", "j/none.sqlite"], {}),
    ("reset-kill bad symbol", ["trader", "reset-kill", "XRP USDT", "--journal", "j/none.sqlite"], {}),
    # report
    ("report timezone", ["report", "weekly", "--timezone", "Mars/Phobos", "--out", "rep", *NOJ], {}),
    ("report env timezone", ["report", "weekly", "--out", "rep", *NOJ], {"WEEKLY_REPORT_TIMEZONE": "Mars/Phobos"}),
    ("report corrupt data", ["report", "weekly", "--data", "corrupt.parquet", "--out", "rep", *NOJ], {}),
    ("report zero-row data", ["report", "weekly", "--data", "empty.parquet", "--out", "rep", *NOJ], {}),
    ("report conflicting duplicates", ["report", "weekly", "--data", "conflicting_dups.parquet", "--out", "rep", *NOJ], {}),
    ("report bad date", ["report", "weekly", "--date", "2025-13-45", "--out", "rep", *NOJ], {}),
    ("report warehouse is a parquet", ["report", "weekly", "--warehouse", "good.parquet", "--out", "rep", *NOJ], {}),
    ("report missing warehouse", ["report", "weekly", "--warehouse", "none.duckdb", "--out", "rep", *NOJ], {}),
    ("report out under a file", ["report", "weekly", "--out", "not_a_dir/rep", *NOJ], {}),
    ("report corrupt journal", ["report", "weekly", "--out", "rep", *J], {}),
    ("report ls-dir missing", ["report", "weekly", "--ls-dir", "nowhere", "--out", "rep", *NOJ], {}),
    # model
    ("model list bogus uri", ["model", "list", "--symbol", "XRPUSDT", "--tracking-uri", "bogus://x"], {}),
    ("model list empty folder", ["model", "list", "--symbol", "XRPUSDT"], {}),
    ("model list uri is not sqlite", ["model", "list", "--symbol", "XRPUSDT", "--tracking-uri", "sqlite:///good.parquet"], {}),
    ("model promote bad version", ["model", "promote", "--symbol", "XRPUSDT", "--version", "abc", "--reason", "x"], {}),
    ("model rollback bad symbol", ["model", "rollback", "--symbol", "??", "--reason", "x"], {}),
    # demo
    ("demo train months 0", ["demo", "--train-months", "0"], {}),
    ("demo test months 0", ["demo", "--test-months", "0"], {}),
    ("demo months do not fit", ["demo", "--days", "90", "--train-months", "12"], {}),
    ("demo days 10", ["demo", "--days", "10"], {}),
    ("demo trials 0", ["demo", "--trials", "0"], {}),
    ("demo unconfigured symbol", ["demo", "--symbol", "DOGEUSDT"], {}),
    ("demo bad env", ["demo"], {"COINTRADER_SYNTHETIC_DAYS": "5"}),
    ("demo dagster home under a file", ["demo"], {"DAGSTER_HOME": "not_a_dir/home"}),
    # argparse
    ("unknown flag", ["backtest", "--frobnicate"], {}),
    ("bad choice", ["trader", "run", "--mode", "moon"], {}),
]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bad-inputs-src")
    _write_inputs(root)
    return root


@pytest.mark.parametrize(("argv", "env"), [pytest.param(a, e, id=n) for n, a, e in CASES])
def test_refused_in_one_line_and_nothing_written(argv: list[str], env: dict[str, str], inputs: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    work = tmp_path / "work"
    work.mkdir()
    for item in inputs.iterdir():
        target = work / item.name
        if item.is_dir():
            target.mkdir()
            for f in item.iterdir():
                (target / f.name).write_bytes(f.read_bytes())
        else:
            target.write_bytes(item.read_bytes())
    monkeypatch.chdir(work)
    for name in ("SYMBOLS", "COINTRADER_MODE", "COINTRADER_JOURNAL", "COINTRADER_WAREHOUSE", "MLFLOW_TRACKING_URI",
                 "DAGSTER_HOME", "BINANCE_API_KEY", "BINANCE_API_SECRET", "BINANCE_DEMO_API_KEY", "BINANCE_DEMO_API_SECRET"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    _clear_settings_cache()
    before = _snapshot(work)
    try:
        code = cli_main.main(argv)
    except SystemExit as exc:  # argparse
        code = exc.code
    finally:
        _clear_settings_cache()
    out, err = capfd.readouterr()
    assert code == 2, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in out + err
    assert _snapshot(work) == before


def _clear_settings_cache() -> None:
    module = sys.modules.get("cointrader_pipelines.settings")
    if module is not None:
        module.get_settings.cache_clear()
