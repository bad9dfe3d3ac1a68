"""Definitions of the `market_data` concept."""
