"""A webhook that answers slowly never delays trading (INC-15): decisions and order handling run on, and the
messages arrive later."""

from __future__ import annotations

import time

from tests.integration.faults.conftest import MakeRun
from tests.integration.faults.harness import close_position, open_position
from tests.integration.faults.market import history_for, signal_indices
from tests.integration.faults.webhook import WebhookSink

WEBHOOK_DELAY_S = 3.0


def test_slow_webhook_does_not_delay_decisions(make_run: MakeRun) -> None:
    with WebhookSink(delay_s=WEBHOOK_DELAY_S) as hook:
        run = make_run(history=history_for(signal_indices()[0], 2), env={"DISCORD_WEBHOOK_URL": hook.url})
        open_position(run)
        slowest = 0.0
        for _ in range(6):
            t0 = time.monotonic()
            run.advance()
            slowest = max(slowest, time.monotonic() - t0)
        close_position(run)
        assert slowest < WEBHOOK_DELAY_S / 2
        run.check(context="slow webhook")
        run.wait_until(lambda r: len(hook.messages) >= 2, 3 * WEBHOOK_DELAY_S, "the first messages")  # late, not lost
