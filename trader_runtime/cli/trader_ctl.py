"""`cointrader trader ctl ACTION …` and `cointrader trader token`: steer a running trader through its local endpoint.

`ctl` sends one control action to the trader's HTTP endpoint on 127.0.0.1 with the control token (from
--token-file, COINTRADER_CONTROL_TOKEN_FILE or the systemd credential `COINTRADER_CONTROL_TOKEN`) and prints what the trader
did. `token` creates a token file readable by its owner only; point COINTRADER_CONTROL_TOKEN_FILE at it for both
the trader and this command.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path

from trader_runtime.errors import ConfigError

ACTIONS = ("pause", "resume", "exit", "reset-kill", "reload", "ml-mode")
ML_MODES = ("off", "shadow", "on")
TIMEOUT_S = 90.0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `ctl` and `token` to the `trader` command group."""
    ctl = sub.add_parser(
        "ctl", help="steer a running trader: pause, resume, exit SYM, reset-kill SYM, reload, ml-mode MODE",
        description="Send a control action to the running trader's local endpoint. Every action is journaled with "
                    "its reason and notified. pause/resume: new entries only (exits, SL/TP and reconciliation keep "
                    "working); exit SYM: close the position now (reason MANUAL); reset-kill SYM; reload: re-read "
                    "strategy parameters from the configuration (from the next candle); ml-mode off|shadow|on.",
    )  # fmt: skip
    ctl.add_argument("action", choices=ACTIONS, help="what to do")
    ctl.add_argument("target", nargs="?", help="SYMBOL for exit and reset-kill, MODE (off, shadow, on) for ml-mode")
    ctl.add_argument("--reason", required=True, help="why (journaled and notified with the action)")
    ctl.add_argument("--port", type=int, default=8787, help="the trader's --http-port (default %(default)s)")
    ctl.add_argument("--token-file", type=Path, help="control token file (default: COINTRADER_CONTROL_TOKEN_FILE)")
    ctl.add_argument("--config", type=Path, help="settings file in .env format (default: ./.env)")
    ctl.set_defaults(func=cmd_ctl)

    tok = sub.add_parser("token", help="create a control token file (mode 0600) for `trader ctl` and the dashboard")
    tok.add_argument("--out", type=Path, required=True, help="file to create, e.g. ~/.config/cointrader/control.token")
    tok.set_defaults(func=cmd_token)


def request_body(action: str, target: str | None, reason: str) -> dict[str, str]:
    """Validate the arguments before anything is sent; ConfigError names what is wrong."""
    body = {"reason": reason.strip()}
    if not body["reason"]:
        raise ConfigError("--reason must not be empty")
    if action in ("exit", "reset-kill"):
        if not target:
            raise ConfigError(f"`ctl {action}` needs a symbol, e.g. `ctl {action} XRPUSDT --reason ...`")
        from trader_runtime.market.symbols import normalize_symbol

        body["symbol"] = normalize_symbol(target)
    elif action == "ml-mode":
        if (target or "").lower() not in ML_MODES:
            raise ConfigError(f"`ctl ml-mode` needs one of {', '.join(ML_MODES)}, got {target!r}")
        body["mode"] = target.lower()  # type: ignore[union-attr]
    elif target:
        raise ConfigError(f"`ctl {action}` takes no target, got {target!r}")
    return body


def _token(args: argparse.Namespace) -> str | None:
    from trader_runtime.cli.trader import load_settings
    from trader_runtime.credentials import control_token

    if args.token_file is not None:
        return control_token(args.token_file)
    settings, _ = load_settings(args)
    return control_token(settings.control_token_file)


def cmd_ctl(args: argparse.Namespace) -> int:
    if not 1 <= args.port <= 65535:
        raise ConfigError(f"--port {args.port} must be in [1, 65535]")
    body = request_body(args.action, args.target, args.reason)
    token = _token(args)
    url = f"http://127.0.0.1:{args.port}/control/{args.action}"
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:
            answer = json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read() or b"{}").get("error") or exc.reason
        except ValueError:
            message = exc.reason
        hint = "" if token else " (no control token found: --token-file or COINTRADER_CONTROL_TOKEN_FILE)"
        print(f"refused ({exc.code}): {message}{hint}", file=sys.stderr)
        return 2 if exc.code == 400 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"no trader answers on 127.0.0.1:{args.port} ({getattr(exc, 'reason', exc)}); is `cointrader trader run` "
              "running with its --http-port?", file=sys.stderr)  # fmt: skip
        return 1
    state = "done" if answer.get("changed") else "nothing to change"
    print(f"{args.action}{' ' + body.get('symbol', body.get('mode', '')) if len(body) > 1 else ''}: {state} — {answer.get('detail')}")
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from trader_runtime.credentials import write_private_file

    write_private_file(args.out.expanduser())
    print(f"control token written to {args.out} (mode 0600). Set COINTRADER_CONTROL_TOKEN_FILE={args.out} for the "
          "trader and `cointrader trader ctl`; paste the token into the dashboard to use its buttons.")  # fmt: skip
    return 0
