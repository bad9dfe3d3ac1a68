"""Definitions of the `backtests` concept."""
