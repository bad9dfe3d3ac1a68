"""Where the shared secrets come from: the control token and the promotion key.

Why: both guard something the market data cannot — the control token lets a caller steer the trader, the
promotion key lets a writer make a model servable — so they are never plain settings. Sources, first match wins:

1. a systemd credential (`LoadCredential=NAME:…`, read from `$CREDENTIALS_DIRECTORY/NAME`; NAME is
   COINTRADER_CONTROL_TOKEN or COINTRADER_PROMOTION_KEY, like the other secrets);
2. for the promotion key only, the environment variable holding the value (`COINTRADER_PROMOTION_KEY`);
3. a file readable by its owner only (mode 0600 or stricter), named by a setting.

A file readable by group or others is refused with a message saying how to fix it. The promotion key's embedded
default (`.cointrader/promotion.key`) is generated on first use, so the offline demo works out of the box; an
explicitly named file is never generated. Every value read here is registered for redaction in logs.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from trader_runtime.errors import ConfigError
from trader_runtime.logs import register_secret

CONTROL_TOKEN_CREDENTIAL = "COINTRADER_CONTROL_TOKEN"
CONTROL_TOKEN_FILE_ENV = "COINTRADER_CONTROL_TOKEN_FILE"
PROMOTION_KEY_CREDENTIAL = "COINTRADER_PROMOTION_KEY"
PROMOTION_KEY_ENV = "COINTRADER_PROMOTION_KEY"
PROMOTION_KEY_FILE_ENV = "COINTRADER_PROMOTION_KEY_FILE"
DEFAULT_PROMOTION_KEY_FILE = Path(".cointrader/promotion.key")
MIN_SECRET_CHARS = 16


def _from_credentials(name: str) -> str | None:
    directory = os.environ.get("CREDENTIALS_DIRECTORY")
    if not directory:
        return None
    path = Path(directory) / name
    return path.read_text(encoding="utf-8").strip() if path.is_file() else None


def read_private_file(path: Path, what: str) -> str:
    """The stripped contents of `path`, refused unless only its owner can read it."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigError(f"{what} file {path} does not exist") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{what} file {path} has mode {stat.S_IMODE(mode):04o}; it must be readable by its owner "
                          f"only: chmod 600 {path}")  # fmt: skip
    value = path.read_text(encoding="utf-8").strip()
    return _checked(value, f"{what} file {path}")


def _checked(value: str, where: str) -> str:
    if len(value) < MIN_SECRET_CHARS:
        raise ConfigError(f"{where} holds {len(value)} characters; at least {MIN_SECRET_CHARS} are required")
    register_secret(value)
    return value


def write_private_file(path: Path, value: str | None = None) -> str:
    """Create `path` with mode 0600 holding `value` (default: a fresh random secret); never overwrites."""
    value = value or secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigError(f"{path} already exists; remove it first to replace the secret") from None
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value + "\n")
    register_secret(value)
    return value


def control_token(token_file: Path | None) -> str | None:
    """The control token, or None when none is configured (then the control actions are off)."""
    value = _from_credentials(CONTROL_TOKEN_CREDENTIAL)
    if value is not None:
        return _checked(value, f"credential {CONTROL_TOKEN_CREDENTIAL}")
    if token_file is None:
        return None
    return read_private_file(Path(token_file), "control token")


def promotion_key(key_file: Path | None = None, *, create: bool = True) -> bytes:
    """The HMAC key of promotion records; the embedded default file is generated when `create` and absent."""
    value = _from_credentials(PROMOTION_KEY_CREDENTIAL)
    if value is not None:
        return _checked(value, f"credential {PROMOTION_KEY_CREDENTIAL}").encode()
    env_value = os.environ.get(PROMOTION_KEY_ENV, "").strip()
    if env_value:
        return _checked(env_value, PROMOTION_KEY_ENV).encode()
    configured = key_file or (Path(os.environ[PROMOTION_KEY_FILE_ENV]) if os.environ.get(PROMOTION_KEY_FILE_ENV) else None)
    path = Path(configured) if configured is not None else DEFAULT_PROMOTION_KEY_FILE
    if configured is None and create and not path.exists():
        try:
            write_private_file(path)
        except ConfigError:  # another process created it a moment ago: read theirs
            pass
    if not path.exists():
        raise ConfigError(f"no promotion key: set {PROMOTION_KEY_ENV}, {PROMOTION_KEY_FILE_ENV} or the systemd "
                          f"credential {PROMOTION_KEY_CREDENTIAL} (the pipelines and the trader need the same key)")  # fmt: skip
    return read_private_file(path, "promotion key").encode()
