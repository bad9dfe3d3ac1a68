"""`NotifierResource`: a Discord webhook for run failures and reports; a no-op when no webhook is configured.

The webhook URL is a secret (D17): it comes in through `dg.EnvVar("DISCORD_WEBHOOK_URL")` (Dagster shows the
variable name, not the value), is registered for log redaction, and never appears in an error message.
"""

from __future__ import annotations

import logging

import dagster as dg
import requests
from pydantic import Field

from trader_runtime.logs import register_secret

logger = logging.getLogger(__name__)

DISCORD_LIMIT = 2000


class NotifierResource(dg.ConfigurableResource):
    webhook_url: str = Field(default="", description="Discord webhook URL; empty disables notifications")
    timeout_s: float = 10.0

    @property
    def enabled(self) -> bool:
        return bool(self.webhook_url)

    def send(self, text: str) -> bool:
        """Post `text` (split into Discord-sized messages); True when delivered, False when disabled or failed."""
        if not self.enabled:
            logger.info("notification not sent (no webhook configured): %s", text.splitlines()[0] if text else "")
            return False
        register_secret(self.webhook_url)
        try:
            for start in range(0, max(len(text), 1), DISCORD_LIMIT):
                response = requests.post(self.webhook_url, json={"content": text[start : start + DISCORD_LIMIT]},
                                         timeout=self.timeout_s)
                response.raise_for_status()
        except requests.RequestException as exc:
            logger.warning("notification failed: %s", type(exc).__name__)
            return False
        return True
