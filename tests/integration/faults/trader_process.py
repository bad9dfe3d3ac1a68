"""`python -m tests.integration.faults.trader_process ARGS…`: the real `cointrader trader run` in its own OS process,
for scenarios that end it with SIGKILL (a crash the process cannot observe).

The only additions to the plain command: outbound connections are limited to 127.0.0.1 (like every test), and the
process prints nothing the test relies on — it is observed through the fake exchange and the journal.
"""

from __future__ import annotations

import sys

from trader_runtime.cli.main import main
from trader_runtime.testing.network_guard import loopback_only


def run(argv: list[str]) -> int:
    with loopback_only() as refused:
        code = main(["trader", "run", *argv])
    if refused:
        print(f"refused non-loopback connections: {refused}", file=sys.stderr)
        return 3
    return code


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
