"""Acceptance of the bulk importer: a mirror built from the shared XRP file, imported with `cointrader data bulk`
and taken out with `cointrader data export`, gives back the same candles (OHLCV, BTC/ETH, funding); a tampered
zip whose CHECKSUM fails contributes no row; OI change is aligned at the candle close."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tests.conftest import missing_reference_data, real_data_path
from trader_runtime.cli import main as cli_main
from trader_runtime.domain.schema import BTC_COLUMNS, ETH_COLUMNS, OHLCV_COLUMNS
from trader_runtime.market.bulk.layout import Kind, Month, daily, monthly, months_between
from trader_runtime.testing.bulk_mirror import kline_csv, write_file, write_funding, write_klines, write_metrics

EIGHT_HOURS = pd.Timedelta(hours=8)


def _shared_xrp() -> Path:
    path = real_data_path("XRPUSDT")
    if not path.exists():
        missing_reference_data(path)
    return path


def settlements_from_column(rate: pd.Series) -> pd.DataFrame:
    """Funding settlements that reproduce a stored column: a rate that changes on the settlement candle was
    settled exactly on the hour, one that changes a candle later a few ms after it (quirk Q4)."""
    rate = rate.replace(0.0, np.nan)
    first = rate.first_valid_index().floor(EIGHT_HOURS)
    rows = []
    for s in pd.date_range(first, rate.index[-1], freq=EIGHT_HOURS):
        at, before = rate.get(s), rate.get(s - pd.Timedelta(minutes=15))
        after = rate.get(s + pd.Timedelta(minutes=15), at)
        changed_on_settlement = at is not None and not np.isnan(at) and (before is None or np.isnan(before) or at != before)
        calc = s if changed_on_settlement else s + pd.Timedelta(milliseconds=5)
        value = at if changed_on_settlement else after
        if value is not None and not np.isnan(value):
            rows.append((calc, 8, value))
    return pd.DataFrame(rows, columns=["calc_time", "interval_hours", "funding_rate"])


def build_mirror(root: Path, real: pd.DataFrame) -> tuple[list[Month], pd.DataFrame]:
    months = months_between(Month.of(real.index[0]), Month.of(real.index[-1]))
    groups = {"XRPUSDT": OHLCV_COLUMNS, "BTCUSDT": BTC_COLUMNS, "ETHUSDT": ETH_COLUMNS}
    for i, (sym, cols) in enumerate(groups.items()):
        frame = real[list(cols)].set_axis(list(OHLCV_COLUMNS), axis=1)
        for j, month in enumerate(months):
            write_klines(root, sym, frame, months=[month], header=(i + j) % 3 != 0)  # both header variants
    write_funding(root, "XRPUSDT", settlements_from_column(real["funding_rate"]), months)
    # three days of 5-minute metrics (OI known at each close)
    days = pd.date_range("2025-06-10", periods=3, freq="D", tz="UTC")
    obs = pd.date_range(days[0] + pd.Timedelta(minutes=5), periods=3 * 288, freq="5min", name="obs_time").as_unit("ms")
    oi = np.round(1.5e8 * np.exp(np.cumsum(np.random.default_rng(3).normal(0, 1e-3, len(obs)))), 3)
    metrics = pd.DataFrame({"sum_open_interest": oi, "sum_open_interest_value": np.round(oi * 2, 2),
                            "top_acct_ls_ratio": 2.5, "top_pos_ls_ratio": 2.2, "global_ls_ratio": 2.4,
                            "taker_ls_vol_ratio": 1.0}, index=pd.DatetimeIndex(obs))
    write_metrics(root, "XRPUSDT", metrics, [d.date() for d in days])
    return months, metrics


def test_bulk_import_then_export_gives_the_shared_candles(tmp_path, monkeypatch):
    real = pd.read_parquet(_shared_xrp())
    root = tmp_path / "mirror" / "data" / "futures" / "um"
    months, metrics = build_mirror(root, real)
    # a tampered monthly ETH file: other prices inside, the original CHECKSUM beside it
    tampered = monthly(Kind.KLINES, "ETHUSDT", months[-1])
    original_checksum = (root / tampered.checksum_path).read_bytes()
    eth = real[list(ETH_COLUMNS)].set_axis(list(OHLCV_COLUMNS), axis=1)
    part = eth[(eth.index >= tampered.start) & (eth.index < tampered.end)] * 2.0
    write_file(root, tampered, kline_csv(part, header=True))
    (root / tampered.checksum_path).write_bytes(original_checksum)

    monkeypatch.setattr(cli_main, "COMMAND_MODULES", ("trader_runtime.cli.data",))
    wh = tmp_path / "w.duckdb"
    code = cli_main.main(["data", "bulk", "--source", str(tmp_path / "mirror"), "--symbols", "XRPUSDT",
                          "--from", str(months[0]), "--to", str(months[-1]), "--warehouse", str(wh)])
    assert code == 2  # one file refused, the verified ones kept
    out = tmp_path / "xrp.parquet"
    assert cli_main.main(["data", "export", "--symbol", "XRPUSDT", "--warehouse", str(wh), "--out", str(out)]) == 0
    exported = pd.read_parquet(out)

    covered = real[real.index < months[-1].start]
    assert exported.index.dtype == real.index.dtype and list(exported.columns) == list(real.columns)
    assert exported.index.max() < months[-1].start  # the refused ETH month has no combined rows
    got = exported.loc[covered.index]
    cols = [*OHLCV_COLUMNS, *BTC_COLUMNS, *ETH_COLUMNS]
    pd.testing.assert_frame_equal(got[cols], covered[cols], check_exact=True)
    pd.testing.assert_series_equal(got["funding_rate"], covered["funding_rate"].replace(0.0, np.nan), check_exact=True)

    from trader_runtime.storage.warehouse import Warehouse

    stored_eth = Warehouse(wh).read_candles("ETHUSDT")
    assert stored_eth.index.max() < months[-1].start  # nothing from the tampered zip
    # OI change over each candle where the metrics days are present: OI(close) / OI(open) - 1
    oi = metrics["sum_open_interest"]
    window = got.loc["2025-06-10 00:00":"2025-06-12 23:45", "oi_change"]
    expected = oi.reindex(window.index + pd.Timedelta(minutes=15)).to_numpy() / oi.reindex(window.index).to_numpy() - 1
    np.testing.assert_array_equal(window.to_numpy(), expected)
    assert np.isnan(window.iloc[0]) and window.iloc[1:].notna().all()
    assert got["oi_change"].drop(window.index).isna().all()  # never 0.0, never carried
