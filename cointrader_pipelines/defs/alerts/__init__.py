"""Definitions of the `alerts` concept."""
