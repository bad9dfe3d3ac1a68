"""Weekly report wall time on one year of data (the real XRP year when present), plus a reference check.

Prints: the wall time of the whole report (prepare + walk-forward + market context + trend + checklist + JSON +
HTML with plots + Discord text) with and without the PF < 1 parameter sweep, and the reference's weekly figures
(spec 20 §11 R3: legacy engine rules, walk-forward 3/1 stepping 3 months → 28 trades, PF 1.75, PnL +381.07).
With chromium installed, a screenshot of the page is written next to the report (path printed).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import REAL, load_year  # noqa: E402
from _timing import timed  # noqa: E402

from cointrader_pipelines.reporting.weekly import build_weekly_report, latest_report_date, report_window  # noqa: E402
from cointrader_pipelines.reporting.weekly_run import prepare_weekly_inputs, publish_weekly_report  # noqa: E402
from trader_runtime.backtest.rules import EngineRules  # noqa: E402
from trader_runtime.config import PRODUCTION_PARAMS, BacktestConfig, WalkForwardConfig  # noqa: E402

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


def _ls_frames() -> dict[str, pd.DataFrame]:
    out = {}
    for key in ("xrp", "btc", "eth"):
        path = REAL / f"{key}usdt_ls_ratio_15m.parquet"
        if path.exists():
            out[key] = pd.read_parquet(path)
    return out


def _report(frame: pd.DataFrame, out: Path, date, **kwargs) -> object:
    inputs = prepare_weekly_inputs(
        report_window(date), {"XRPUSDT": frame}, {"XRPUSDT": PRODUCTION_PARAMS}, out, out / "no-journal.sqlite",
        ls_ratios=_ls_frames(), **kwargs,
    )  # fmt: skip
    return publish_weekly_report(build_weekly_report(inputs, pd.Timestamp.now(tz="UTC")), out)


def _run(frame: pd.DataFrame, out: Path, date, **kwargs) -> tuple[float, object]:
    run = timed(lambda: _report(frame, out, date, **kwargs))
    return run.min_wall, run.result


def _screenshot(html: Path) -> Path | None:
    browser = shutil.which("chromium")
    if browser is None:
        return None
    shot = html.with_suffix(".png")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--screenshot={shot}",
                        "--window-size=1280,2000", html.as_uri()], check=True, capture_output=True, timeout=120)  # fmt: skip
    return shot


def main(out_dir: str | None = None) -> None:
    frame, source = load_year()
    out = Path(out_dir or tempfile.mkdtemp(prefix="weekly_bench_"))
    end = frame.index[-1] + pd.Timedelta(minutes=15)
    date = latest_report_date(end if end.tzinfo else end.tz_localize("UTC"))
    print(f"data: {source}; report date {date}; output {out}")
    _run(frame, out / "warm", date)  # numba cache / imports
    timings = {}
    wall, outputs = _run(frame, out, date)
    timings["report (production params, no sweep needed)"] = wall
    summary = outputs.report.data["backtest"]["summary"]
    swept_inputs = prepare_weekly_inputs(report_window(date), {"XRPUSDT": frame}, {"XRPUSDT": PRODUCTION_PARAMS},
                                         out / "forced_sweep", None, ls_ratios=_ls_frames())  # fmt: skip
    swept_inputs.sweep_below_pf = float("inf")  # force the PF < 1 branch to time it
    forced_run = timed(lambda: publish_weekly_report(build_weekly_report(swept_inputs, pd.Timestamp.now(tz="UTC")),
                                                     out / "forced_sweep"))  # fmt: skip
    timings["report with the 324-combination sweep forced"] = forced_run.min_wall
    forced = forced_run.result.report
    legacy = BacktestConfig(rules=EngineRules.legacy())
    wall_ref, ref = _run(frame, out / "reference", date, backtest=legacy, walk_forward=WalkForwardConfig(step_months=3))
    timings["reference rules (legacy, step 3)"] = wall_ref
    print(f"{'step':<48}{'s':>8}")
    for name, value in timings.items():
        print(f"{name:<48}{value:>8.2f}")
    print(f"combined: {summary['total_trades']} trades, PF {summary['profit_factor']}, WR {summary['win_rate']}, "
          f"MDD {summary['max_drawdown_pct']}, PnL {summary['total_pnl']}")  # fmt: skip
    s = ref.report.data["backtest"]["summary"]
    print(f"reference check (spec 20 §11 R3, expect 28 trades, PF 1.75, PnL 381.07): {s['total_trades']} trades, "
          f"PF {s['profit_factor']}, PnL {s['total_pnl']}, closed-trade MDD {s['legacy_metrics']['max_drawdown_pct']}")
    sweep = forced.data["sweep"]
    print(f"forced sweep: {sweep['evaluated']} evaluated, {sweep['pruned_dead']} pruned; top: "
          + "; ".join(f"{a['params']} PF {a['summary']['profit_factor']} ({a['summary']['total_trades']} tr)" for a in sweep["alternatives"]))
    print(f"json: {outputs.json_path}\nhtml: {outputs.html_path} ({outputs.html_path.stat().st_size / 1024:.0f} KiB)")
    shot = _screenshot(outputs.html_path)
    print(f"screenshot: {shot}" if shot else "screenshot: chromium not installed, skipped")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
