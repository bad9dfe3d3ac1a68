"""Risk state machines: the shared risk manager and the per-symbol kill switch."""
