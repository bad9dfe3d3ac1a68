"""`cointrader trader run|status|reset-kill`: run the trading service, show its state, reset a kill switch.

`run` with no arguments trades the seeded synthetic market in replay mode and exits when the data is exhausted
(or on Ctrl-C); `status` reads the journal read-only, so it works while the service runs. Each mode has its own
journal by default (`journal/trader-<mode>.sqlite`; COINTRADER_JOURNAL or --journal override it), so replay trades
never count towards a live kill switch.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pandas as pd
from tqdm.contrib.logging import logging_redirect_tqdm

from trader_runtime.backtest.fills import FillModel
from trader_runtime.cli import trader_ctl
from trader_runtime.cli import validation as check
from trader_runtime.cli.trader_replay import replay_summary, show_progress
from trader_runtime.service.control import PAUSE_META
from trader_runtime.config import RuntimeSettings, _read_dotenv, load_runtime_settings
from trader_runtime.errors import ConfigError
from trader_runtime.exchange.factory import ReplaySource, load_replay_frames
from trader_runtime.strategy.registry import params_for_reload
from trader_runtime.exchange.replay import CURSOR_KEY
from trader_runtime.storage.instance_lock import journal_lock_path, lock_holder
from trader_runtime.storage.journal import Journal, JournalReader, KillRow, day_start_ms

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    tr = subparsers.add_parser("trader", help="the always-on trading service (replay, paper, demo, live)",
                               description="Run the trading service, show its state, reset a kill switch.")  # fmt: skip
    sub = tr.add_subparsers(dest="trader_command", metavar="ACTION")

    run = sub.add_parser("run", help="run the service (default: replay of the synthetic market)")
    _common(run)
    run.add_argument("--mode", choices=("replay", "paper", "demo", "live"), help="exchange mode (default: COINTRADER_MODE or replay)")
    run.add_argument("--symbols", help="comma-separated symbols (default: SYMBOLS or XRPUSDT)")
    run.add_argument("--ml-mode", choices=("off", "shadow", "on"), help="ML filter mode (default: ML_MODE or off)")
    run.add_argument("--strategy", choices=("weighted-signal", "mtf-pullback"),
        help="strategy of every symbol (default: STRATEGY, per symbol STRATEGY_<SYMBOL>, else weighted-signal)")
    run.add_argument("--source", default="synthetic", help="replay data: synthetic, warehouse, or a combined-15m parquet file")
    run.add_argument("--days", type=int, default=30, help="synthetic replay length in days (default %(default)s)")
    run.add_argument("--seed", type=int, default=42, help="synthetic market seed (default %(default)s)")
    run.add_argument("--start", help="replay start (UTC date/time, warehouse/parquet sources)")
    run.add_argument("--end", help="replay end, exclusive (UTC date/time)")
    run.add_argument("--speed", type=float, default=0.0, help="replay clock: simulated seconds per second, 0 = as fast as possible")
    run.add_argument("--balance", type=float, default=1000.0, help="simulated account balance in USDT (replay/paper)")
    run.add_argument("--fee", type=float, default=0.04, help="simulated taker fee in percent (default %(default)s)")
    run.add_argument("--slippage", type=float, default=0.01, help="simulated market slippage in percent (default %(default)s)")
    run.add_argument("--http-port", type=int, default=8787, help="read-only status endpoint on 127.0.0.1, -1 = off (default %(default)s)")
    run.add_argument("--restart-replay", action="store_true", help="archive a finished replay journal and start a new replay")
    run.add_argument("--rest-url", help="override the Binance REST base URL (e.g. a local test exchange)")
    run.add_argument("--ws-url", help="override the Binance websocket base URL")
    run.set_defaults(func=cmd_run)

    st = sub.add_parser("status", help="positions, today's PnL, kill switches, model, last candle")
    _common(st)
    st.add_argument("--mode", choices=("replay", "paper", "demo", "live"), help="which mode's journal (default: COINTRADER_MODE or replay)")
    st.add_argument("--json", action="store_true", help="print the status as JSON")
    st.add_argument("--trades", type=int, default=10, help="how many recent closed trades to list (default %(default)s)")
    st.set_defaults(func=cmd_status)

    rk = sub.add_parser("reset-kill", help="reset a symbol's kill switch (only later trades count again)")
    rk.add_argument("symbol", help="symbol, e.g. XRPUSDT")
    _common(rk)
    rk.add_argument("--mode", choices=("replay", "paper", "demo", "live"), help="which mode's journal")
    rk.set_defaults(func=cmd_reset_kill)
    trader_ctl.register(sub)
    tr.set_defaults(func=lambda args: (tr.print_help(), 2)[1])


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, help="settings file in .env format (default: ./.env)")
    p.add_argument("--journal", type=Path, help="journal file (default: COINTRADER_JOURNAL or journal/trader-<mode>.sqlite)")


# ---------------------------------------------------------------------------------------------------- settings
def load_settings(args: argparse.Namespace) -> tuple[RuntimeSettings, dict[str, str]]:
    overrides: dict[str, Any] = {}
    if getattr(args, "mode", None):
        overrides["COINTRADER_MODE"] = args.mode
    if getattr(args, "symbols", None) is not None:
        overrides["SYMBOLS"] = ",".join(check.symbol_list("--symbols", args.symbols))
    if getattr(args, "ml_mode", None):
        overrides["ML_MODE"] = args.ml_mode
    if getattr(args, "strategy", None):
        overrides["STRATEGY"] = args.strategy
    credentials = os.environ.get("CREDENTIALS_DIRECTORY")  # systemd LoadCredential=: one file per secret name
    if credentials:
        overrides["_secrets_dir"] = credentials
    dotenv: dict[str, str] = {}
    if args.config is not None:
        check.existing_file("--config", args.config)
        overrides["_env_file"] = str(args.config)
        dotenv = _read_dotenv(args.config)
    else:
        dotenv = _read_dotenv(Path(".env"))
    settings = load_runtime_settings(**overrides)
    check.symbol_list("SYMBOLS", settings.symbols)
    return settings, dotenv


def journal_path(args: argparse.Namespace, settings: RuntimeSettings) -> Path:
    if args.journal is not None:
        return args.journal
    if "journal_path" in settings.model_fields_set:
        return Path(settings.journal_path)
    return Path("journal") / f"trader-{settings.mode}.sqlite"


def replay_source(args: argparse.Namespace, settings: RuntimeSettings) -> ReplaySource:
    src = args.source
    start, end = check.utc_time("--start", args.start), check.utc_time("--end", args.end)
    check.time_window(start, end)
    if src == "synthetic":
        return ReplaySource("synthetic", days=args.days, seed=args.seed)
    if src == "warehouse":
        path = check.warehouse("COINTRADER_WAREHOUSE", Path(settings.warehouse_path), must_exist=True)
        return ReplaySource("warehouse", path=path, start=start, end=end)
    path = Path(src)
    if path.suffix != ".parquet":
        raise ConfigError(f"--source {src!r}; allowed synthetic, warehouse or a .parquet file")
    check.existing_file("--source", path)
    return ReplaySource("parquet", path=path, start=start, end=end)


def _validate_run(args: argparse.Namespace, settings: RuntimeSettings) -> tuple[Path, ReplaySource]:
    """Every flag and setting of `trader run`, before the journal, a lock or a socket is created."""
    check.int_range("--days", args.days, 12, 3650)
    check.float_range("--speed", args.speed, 0, 1e9)
    check.float_range("--balance", args.balance, 0, 1e12, lo_open=True)
    check.float_range("--fee", args.fee, 0, 5)
    check.float_range("--slippage", args.slippage, 0, 5)
    check.http_port("--http-port", args.http_port)
    for flag, url, schemes in (("--rest-url", args.rest_url, ("http", "https")), ("--ws-url", args.ws_url, ("ws", "wss"))):
        if url is not None and (urlparse(url).scheme not in schemes or not urlparse(url).netloc):
            raise ConfigError(f"{flag}={url!r} is not a {' or '.join(schemes)} URL")
    if settings.mode in ("demo", "live"):
        prefix = "BINANCE_DEMO_API" if settings.mode == "demo" else "BINANCE_API"
        key = settings.binance_demo_api_key if settings.mode == "demo" else settings.binance_api_key
        secret = settings.binance_demo_api_secret if settings.mode == "demo" else settings.binance_api_secret
        if not (key.get_secret_value() and secret.get_secret_value()):
            raise ConfigError(f"{settings.mode} mode needs {prefix}_KEY and {prefix}_SECRET")
    source = replay_source(args, settings)
    if settings.mode == "replay" and source.kind == "parquet" and len(settings.symbol_list) != 1:
        raise ConfigError("a parquet replay file holds one symbol; pass exactly one --symbols entry")
    if settings.mode == "replay" and source.kind != "synthetic":
        load_replay_frames(source, settings.symbol_list)  # the data gate: refused here, before the journal exists
    path = check.journal("--journal", journal_path(args, settings), must_exist=False)
    if not path.exists():
        check.creatable_file("--journal" if args.journal else "COINTRADER_JOURNAL", path)
    else:
        with JournalReader(path) as reader:
            stored = reader.meta("mode")
        if stored is not None and stored != settings.mode:
            raise ConfigError(f"journal {path} belongs to mode {stored!r}, not {settings.mode!r}; use a separate "
                              "journal (--journal PATH or COINTRADER_JOURNAL) for each mode")  # fmt: skip
    holder = lock_holder(journal_lock_path(path))
    if holder is not None:
        raise ConfigError(f"journal {path} is in use by a running trader (pid {holder}); stop it first "
                          "(one trader per journal and per exchange account)")  # fmt: skip
    if args.http_port > 0:
        _port_free(args.http_port)
    return path, source


def _port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            raise ConfigError(f"--http-port {port} on 127.0.0.1 cannot be used ({exc.strerror or exc}); pass another "
                              "port or -1 to run without the status endpoint") from None  # fmt: skip


# ---------------------------------------------------------------------------------------------------- run
def cmd_run(args: argparse.Namespace) -> int:
    from trader_runtime.service.app import TraderApp, TraderOptions

    settings, dotenv = load_settings(args)
    env = {**dotenv, **os.environ}
    if getattr(args, "strategy", None):  # the option wins over per-symbol variables too
        env = {k: v for k, v in env.items() if not k.startswith("STRATEGY_")}
    # each symbol's parameters for its strategy; another strategy's per-symbol parameter is refused, not ignored
    params = {s: params_for_reload(settings.strategy_name_for(s, env), s, env) for s in settings.symbol_list}
    path, source = _validate_run(args, settings)
    config_file = args.config if args.config is not None else Path(".env")

    def params_loader(symbol: str) -> Any:  # `ctl reload` re-reads the settings file, for the symbol's strategy
        fresh = {**_read_dotenv(config_file), **os.environ}
        configured = None if getattr(args, "strategy", None) else settings.strategy_name_for(symbol, fresh)
        return params_for_reload(settings.strategy_name_for(symbol, env), symbol, fresh, configured)

    if settings.mode == "replay" and path.exists() and not _replay_may_run(path, args.restart_replay):
        return 0
    options = TraderOptions(
        journal_path=path, replay=source, speed=args.speed, initial_balance=args.balance,
        fill_model=FillModel(args.fee, args.slippage), http_port=None if args.http_port < 0 else args.http_port,
        rest_url=args.rest_url, ws_url=args.ws_url, params=params, params_loader=params_loader,
    )  # fmt: skip
    print(f"CoinTrader trader: mode {settings.mode.upper()}, symbols {', '.join(settings.symbol_list)}, "
          f"strategy {', '.join(sorted({settings.strategy_name_for(s, env) for s in settings.symbol_list}))}, "
          f"ML {settings.ml_mode}, journal {path}")  # fmt: skip
    app = TraderApp(settings, options, strategy_env=env)
    replay = settings.mode == "replay"
    with logging_redirect_tqdm():  # log lines print above the replay's progress bar
        code = asyncio.run(_run_app(app, progress=replay))
    if replay and path.exists():
        print(replay_summary(path, args.balance))
    print(f"stopped; `cointrader trader status{'' if args.journal is None else f' --journal {path}'}` shows the result")
    return code


async def _run_app(app: Any, progress: bool = False) -> int:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, app.request_stop)
    bar = asyncio.create_task(show_progress(app), name="progress") if progress else None
    try:
        return await app.run()
    finally:
        if bar is not None:
            bar.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await bar
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def _replay_may_run(path: Path, restart: bool) -> bool:
    with JournalReader(path) as reader:
        cursor = reader.venue_state(CURSOR_KEY)
        n = len(reader.closed_trades())
    if not cursor or not cursor.get("finished"):
        return True
    if not restart:
        print(f"the replay in {path} has finished ({n} closed trades): `cointrader trader status` shows them; "
              "pass --restart-replay to archive it and replay again")  # fmt: skip
        return False
    stamp = time.strftime("%Y%m%dT%H%M%S")
    for suffix in ("", "-wal", "-shm"):
        f = Path(str(path) + suffix)
        if f.exists():
            f.rename(Path(f"{path}.{stamp}.bak{suffix}"))
    print(f"archived the finished replay journal as {path}.{stamp}.bak")
    return True


# ---------------------------------------------------------------------------------------------------- status
def collect_status(reader: JournalReader, n_trades: int = 10) -> dict[str, Any]:
    status = reader.status()
    glob = status.pop("", {})
    paused = json.loads(reader.meta(PAUSE_META) or "{}")  # set by `cointrader trader ctl pause`
    open_trades = reader.open_trades()
    kill = {}
    for row in reader.kill_rows():
        tripped = row.action == "KILL"
        kill[row.symbol] = {"active": tripped, "state": "tripped" if tripped else "armed", "reason": row.reason,
                            "time_ms": row.time_ms}
    last_candle = max((int(v["last_candle_ms"]) for v in status.values() if v.get("last_candle_ms")), default=None)
    day = day_start_ms(last_candle) if last_candle is not None else None
    closed = reader.closed_trades()
    strategies = dict(kv.split("=", 1) for kv in str(glob.get("strategies") or "").split(",") if "=" in kv)
    symbols = {}
    for sym in sorted(set(status) | set(open_trades) | set(kill)):
        st, t = status.get(sym, {}), open_trades.get(sym)
        symbols[sym] = {
            "position": None if t is None else {"side": t.side, "quantity": t.open_quantity, "entry_price": t.entry_price,
                                                 "sl": t.sl, "tp": t.tp, "unrealized_pnl": _f(st.get("unrealized_pnl"))},
            "last_candle": _iso(st.get("last_candle_ms")), "last_close": _f(st.get("last_close")),
            "signal": st.get("signal"), "kill_switch": kill.get(sym, {"active": False, "state": "armed", "reason": None}),
            "model_version": st.get("model_version") if st.get("model_version") not in (None, "None") else None,
            "model_alias": st.get("model_alias") if st.get("model_alias") not in (None, "None") else None,
            "ml_mode": st.get("ml_mode"), "strategy": strategies.get(sym),
        }  # fmt: skip
    wins = sum(1 for t in closed if (t.net_pnl or 0) > 0)
    return {
        "journal": str(reader.path), "mode": reader.meta("mode"), "state": glob.get("state"),
        "entries_paused": paused if paused.get("paused") else None,
        "today": None if day is None else {"date": pd.Timestamp(day, unit="ms", tz="UTC").date().isoformat(),
                                           "net_pnl": reader.daily_net_pnl(day), "base": reader.daily_base(day)},
        "symbols": symbols,
        "trades": {"closed": len(closed), "wins": wins, "losses": len(closed) - wins,
                   "net_pnl": sum(t.net_pnl or 0 for t in closed),
                   "fees": sum((t.entry_fee or 0) + (t.exit_fee or 0) for t in closed),
                   "recent": [_trade_dict(t) for t in closed[-n_trades:]] if n_trades > 0 else []},
    }  # fmt: skip


def _trade_dict(t: Any) -> dict[str, Any]:
    return {"symbol": t.symbol, "side": t.side, "entry_time": _iso(t.entry_time_ms), "exit_time": _iso(t.exit_time_ms),
            "entry_price": t.entry_price, "exit_price": t.exit_price, "quantity": t.quantity, "reason": t.close_reason,
            "gross_pnl": t.gross_pnl, "fees": (t.entry_fee or 0) + (t.exit_fee or 0), "net_pnl": t.net_pnl,
            "model_version": t.model_version}  # fmt: skip


def _iso(ms: Any) -> str | None:
    if ms in (None, "None", ""):
        return None
    return pd.Timestamp(int(float(ms)), unit="ms", tz="UTC").isoformat()


def _f(v: Any) -> float | None:
    try:
        return None if v in (None, "None", "") else float(v)
    except (TypeError, ValueError):
        return None


def cmd_status(args: argparse.Namespace) -> int:
    settings, _ = load_settings(args)
    check.int_range("--trades", args.trades, 0, 10_000)
    path = check.journal("--journal", journal_path(args, settings), must_exist=True)
    with JournalReader(path) as reader:
        data = collect_status(reader, args.trades)
    data["pid"] = lock_holder(journal_lock_path(path))
    data["running"] = data["pid"] is not None  # only a live trader holds the journal lock
    data["state"] = process_state(data["state"], data["pid"])
    if args.json:
        print(json.dumps(data, indent=2, default=str))
        return 0
    print(render_status(data))
    return 0


def process_state(journaled: str | None, pid: int | None) -> str:
    """What the journal says, corrected by the journal lock: only a live process holds it (the OS frees it on death)."""
    if pid is not None:
        return f"running (pid {pid})" if pid > 0 else "running"
    if journaled in ("running", "starting"):
        return f"not running: the last trader died while {journaled} (no clean shutdown)"
    return journaled or "never started"


def render_status(d: dict[str, Any]) -> str:
    lines = [f"CoinTrader trader — journal {d['journal']} (mode {d['mode']}, {d['state'] or 'unknown state'})", ""]
    if d.get("entries_paused"):
        p = d["entries_paused"]
        lines.insert(1, f"new entries PAUSED since {p.get('time')} ({p.get('reason')}); `cointrader trader ctl resume --reason ...` resumes")
    named = [f"{sym} {s['strategy']}" for sym, s in d["symbols"].items() if s.get("strategy")]
    if named:
        lines.insert(1, f"strategy: {', '.join(named)}")
    head = f"{'symbol':<10}{'position':<10}{'qty':>12}{'entry':>12}{'SL':>12}{'TP':>12}{'unreal.':>11}  {'last candle (UTC)':<27}{'kill switch':<14}model"
    lines.append(head)
    for sym, s in d["symbols"].items():
        p = s["position"] or {}
        kill = "tripped" if s["kill_switch"]["active"] else "armed"  # the weekly report's words
        model = f"v{s['model_version']}@{s['model_alias']}" if s["model_version"] else f"none (ML {s['ml_mode'] or 'off'})"
        lines.append(
            f"{sym:<10}{p.get('side', 'FLAT'):<10}{_n(p.get('quantity'), 4):>12}{_n(p.get('entry_price'), 5):>12}"
            f"{_n(p.get('sl'), 5):>12}{_n(p.get('tp'), 5):>12}{_n(p.get('unrealized_pnl'), 4):>11}  "
            f"{_short_time(s['last_candle']):<27}{kill:<14}{model}"
        )
        if s["kill_switch"]["active"]:
            lines.append(f"{'':<10}kill switch: {s['kill_switch']['reason']} — reset: cointrader trader reset-kill {sym}")
    t = d["today"]
    if t:
        base = f" on a day base of {t['base']:.2f} USDT" if t["base"] else ""
        lines += ["", f"today ({t['date']} UTC): net PnL {t['net_pnl']:+.4f} USDT{base}"]
    tr = d["trades"]
    lines += ["", f"closed trades: {tr['closed']} (wins {tr['wins']}, losses {tr['losses']}), net {tr['net_pnl']:+.4f} USDT, "
                  f"fees {tr['fees']:.4f} USDT"]  # fmt: skip
    if tr["recent"]:
        lines.append(f"{'exit time (UTC)':<27}{'symbol':<10}{'side':<7}{'entry':>12}{'exit':>12}{'qty':>10}  {'reason':<12}{'net':>10}")
        for r in tr["recent"]:
            lines.append(f"{_short_time(r['exit_time']):<27}{r['symbol']:<10}{r['side']:<7}{_n(r['entry_price'], 5):>12}"
                         f"{_n(r['exit_price'], 5):>12}{_n(r['quantity'], 3):>10}  {r['reason'] or '-':<12}{_n(r['net_pnl'], 4, True):>10}")  # fmt: skip
    return "\n".join(lines)


def _short_time(iso: str | None) -> str:
    return "-" if not iso else pd.Timestamp(iso).strftime("%Y-%m-%d %H:%M:%S")


def _n(v: Any, places: int, signed: bool = False) -> str:
    if v is None:
        return "-"
    return f"{float(v):+.{places}f}" if signed else f"{float(v):.{places}f}"


# ---------------------------------------------------------------------------------------------------- reset
def cmd_reset_kill(args: argparse.Namespace) -> int:
    settings, _ = load_settings(args)
    symbol = check.symbol("SYMBOL", args.symbol)
    path = check.journal("--journal", journal_path(args, settings), must_exist=True)
    with JournalReader(path) as reader:
        known = set(reader.status()) | set(reader.open_trades()) | {r.symbol for r in reader.kill_rows()}
        known |= {t.symbol for t in reader.closed_trades()}
    known.discard("")
    if symbol not in known and symbol not in settings.symbol_list:
        raise ConfigError(f"{symbol} is neither configured (SYMBOLS={settings.symbols}) nor in journal {path}; "
                          f"known symbols: {', '.join(sorted(known)) or 'none'}")  # fmt: skip
    journal = Journal(path, durable=True)
    try:
        rows = journal.kill_rows(symbol)
        was_active = bool(rows) and rows[-1].action == "KILL"
        now = int(time.time() * 1000)
        with journal.transaction() as tx:
            tx.add_kill_row(KillRow(symbol, now, "RESET", "manual reset (cointrader trader reset-kill)", journal.last_exit_ms(symbol)))
            tx.add_event(now, "KILL_RESET", symbol, {"was_active": was_active})
    finally:
        journal.close()
    state = "was active" if was_active else "was not active"
    print(f"{symbol}: kill switch reset ({state}); only trades closed from now on count. A running trader picks it up at its next candle.")
    return 0
