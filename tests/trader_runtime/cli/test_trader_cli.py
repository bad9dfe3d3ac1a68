"""`cointrader trader run|status|reset-kill` end to end: replay run, status, finished replays, Ctrl-C, bad config."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path


from trader_runtime.cli.main import main as cli
from trader_runtime.storage.journal import JournalReader

ROOT = Path(__file__).resolve().parents[3]


RELAXED_ENV = "SIGNAL_THRESHOLD=2\nADX_THRESHOLD=15\nVOL_MULTIPLIER=1.5\n"


def test_run_then_status_shows_the_trades(tmp_path: Path, capsys):
    journal = tmp_path / "trader.sqlite"
    cfg = tmp_path / "relaxed.env"
    cfg.write_text(RELAXED_ENV)
    run = ["trader", "run", "--days", "14", "--seed", "7", "--http-port", "-1", "--journal", str(journal), "--config", str(cfg)]
    assert cli(run) == 0
    summary = capsys.readouterr().out
    assert cli(["trader", "status", "--journal", str(journal)]) == 0
    text = capsys.readouterr().out
    assert "mode replay, stopped" in text and "XRPUSDT" in text and "closed trades:" in text
    assert cli(["trader", "status", "--journal", str(journal), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    with JournalReader(journal) as r:
        n = len(r.closed_trades())
    assert data["trades"]["closed"] == n and n > 0 and data["symbols"]["XRPUSDT"]["position"] is None  # END_OF_DATA closed it
    assert data["today"]["date"] == "2025-12-31"
    net = data["trades"]["net_pnl"]
    assert f"replay finished: " in summary and f"; {n} closed trades (" in summary  # the run ends with a summary
    assert f"net PnL {net:+.4f} USDT" in summary and f"{1000 + net:.2f} USDT" in summary and "END_OF_DATA 1" in summary

    assert cli(run) == 0
    assert "has finished" in capsys.readouterr().out
    assert cli(run + ["--restart-replay"]) == 0
    assert list(tmp_path.glob("trader.sqlite.*.bak"))
    with JournalReader(journal) as r:
        assert len(r.closed_trades()) == n  # same data, same trades (deterministic)


def test_default_journal_is_per_mode_in_the_working_directory(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli(["trader", "run", "--days", "12", "--http-port", "-1"]) == 0
    assert (tmp_path / "journal" / "trader-replay.sqlite").exists()
    capsys.readouterr()
    assert cli(["trader", "status"]) == 0
    assert "trader-replay.sqlite" in capsys.readouterr().out


def test_ctrl_c_stops_cleanly(tmp_path: Path):
    journal = tmp_path / "t.sqlite"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "trader_runtime.cli.main", "trader", "run", "--days", "30", "--speed",
                             str(900 * 20), "--http-port", "-1", "--journal", str(journal)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        state = None
        while time.monotonic() < deadline and state != "running":
            time.sleep(0.2)
            if journal.exists():
                try:
                    with JournalReader(journal) as r:
                        state = r.status().get("", {}).get("state")
                except Exception:  # noqa: BLE001 - the file may be mid-creation
                    state = None
        assert state == "running", proc.stdout.read().decode() if proc.poll() is not None else "not running"
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    text = out.decode()
    assert proc.returncode == 0, text
    assert "stop requested" in text and "shutdown complete" in text and "Traceback" not in text
    with JournalReader(journal) as r:
        assert r.status()[""]["state"] == "stopped"


def test_bad_configuration_is_one_line_and_exit_code_2(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv("LEVERAGE", "0")
    assert cli(["trader", "run", "--journal", str(tmp_path / "j.sqlite"), "--http-port", "-1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "LEVERAGE" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "j.sqlite").exists()
    monkeypatch.delenv("LEVERAGE")
    assert cli(["trader", "run", "--source", "nope.csv", "--journal", str(tmp_path / "j.sqlite")]) == 2
    assert cli(["trader", "run", "--config", str(tmp_path / "missing.env")]) == 2


def test_config_file_sets_symbols_and_per_symbol_params(tmp_path: Path, capsys):
    cfg = tmp_path / "trader.env"
    cfg.write_text("SYMBOLS=XRPUSDT\nATR_SL_MULT_XRPUSDT=1.5\nATR_TP_MULT_XRPUSDT=4.0\nSIGNAL_THRESHOLD_XRPUSDT=9\n")
    assert cli(["trader", "run", "--config", str(cfg), "--journal", str(tmp_path / "j.sqlite")]) == 2
    assert "SIGNAL_THRESHOLD_XRPUSDT=9" in capsys.readouterr().err


def test_reset_kill(tmp_path: Path, capsys):
    journal = tmp_path / "j.sqlite"
    assert cli(["trader", "reset-kill", "XRPUSDT", "--journal", str(journal)]) == 2  # no journal yet
    assert cli(["trader", "run", "--days", "12", "--http-port", "-1", "--journal", str(journal)]) == 0
    assert cli(["trader", "reset-kill", "xrpusdt", "--journal", str(journal)]) == 0
    assert "XRPUSDT: kill switch reset (was not active)" in capsys.readouterr().out
    with JournalReader(journal) as r:
        assert [k.action for k in r.kill_rows("XRPUSDT")] == ["RESET"]
    assert cli(["trader", "reset-kill", "not a symbol", "--journal", str(journal)]) == 2
    capsys.readouterr()
    before = journal.read_bytes()
    assert cli(["trader", "reset-kill", "FOOBAR", "--journal", str(journal)]) == 2  # never configured, never traded
    err = capsys.readouterr().err
    assert err.startswith("error: FOOBAR is neither configured") and len(err.strip().splitlines()) == 1
    assert journal.read_bytes() == before
    with JournalReader(journal) as r:
        assert r.kill_rows("FOOBAR") == []


def test_systemd_credentials_directory_supplies_secrets(tmp_path: Path, monkeypatch):
    import argparse

    from trader_runtime.cli.trader import load_settings

    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "BINANCE_API_KEY").write_text("cred-key-0123456789")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    settings, _ = load_settings(argparse.Namespace(config=None, mode="live", symbols=None, ml_mode=None))
    assert settings.binance_api_key.get_secret_value() == "cred-key-0123456789" and "cred-key" not in repr(settings)
