#!/usr/bin/env bash
# Debian packages the distributed profile runs on: PostgreSQL and Redis. Installed with apt-get when missing and we
# are root (CI, fresh machines); otherwise say what is missing and carry on (the stack tests then skip, or fail
# under CI=true).
set -euo pipefail
missing=()
if [ -n "${COINTRADER_PG_BIN:-}" ]; then
    [ -x "$COINTRADER_PG_BIN/initdb" ] || missing+=(postgresql)
else
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
fi
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${missing[*]} (Debian packages) for the distributed profile" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    echo "warning: ${missing[*]} missing (apt-get install ${missing[*]}); the distributed profile cannot start" >&2
fi
