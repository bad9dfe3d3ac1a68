"""A replay writes its per-candle rows (decision, status, cursor) in batches; a replay killed while rows still
wait in memory and then started again must end with exactly the trades of an uninterrupted replay, and one
decision row per candle."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

from fixtures.trader import WARMUP, decisions, journal_trades, replay_slice, run_replay

ROOT = Path(__file__).resolve().parents[3]

_KILLED_RUN = """
import os, sys
sys.path[:0] = [{root!r}, {tests!r}]
import pandas as pd
from fixtures.trader import run_replay_until

def crash(app):
    bot = app.bots["XRPUSDT"]
    # after a closed trade and with a position open, while decision rows still wait in memory
    if bot.stats.closes >= 1 and bot.ledger.open is not None and app.journal.pending and bot.stats.decisions > 150:
        os._exit(9)
    return False

run_replay_until({journal!r}, pd.read_parquet({frame!r}), crash)
os._exit(3)  # the replay ended without reaching the crash point
"""


def test_a_replay_killed_with_rows_in_memory_resumes_without_losing_or_repeating_a_trade(tmp_path: Path, synth):
    frame = replay_slice(synth, WARMUP + 300, 500)
    frame_path = tmp_path / "frame.parquet"
    frame.to_parquet(frame_path)
    whole = tmp_path / "whole.sqlite"
    run_replay(whole, frame)
    expected = journal_trades(whole)
    assert len(expected) >= 3

    killed = tmp_path / "killed.sqlite"
    code = _KILLED_RUN.format(root=str(ROOT), tests=str(ROOT / "tests"), journal=str(killed), frame=str(frame_path))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=600)
    assert proc.returncode == 9, proc.stderr.decode()[-2000:]
    lost = len(frame) - WARMUP - len(decisions(killed))
    assert lost > 0  # the crash did drop per-candle rows that were not yet written

    run_replay(killed, frame)  # the restart resumes from the last written cursor
    got = journal_trades(killed)
    cols = ["entry_time_ms", "exit_time_ms", "side", "close_reason", "entry_price", "exit_price", "quantity", "net_pnl"]
    pd.testing.assert_frame_equal(got[cols], expected[cols], check_exact=False, rtol=1e-12)
    rows = decisions(killed)
    want = frame.index[WARMUP:].as_unit("ms").asi8
    assert rows["candle_ms"].tolist() == want.tolist()  # every candle decided once, none missing
