"""The always-on trading service: wiring (app), one bot per symbol, reconciliation, notifications, operations."""
